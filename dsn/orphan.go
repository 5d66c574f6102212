package dsn

import (
	"net/textproto"
	"strings"
)

// maxOrphans caps the address-less field blocks kept from one report.
const maxOrphans = 4

// keepOrphan keeps f, a field block of a delivery-status part that names no
// recipient, when it holds a recipient's status (Status or
// Diagnostic-Code). QUIRK: some MTAs write the per-recipient fields without
// Final-Recipient and name the recipient in X-Failed-Recipients, or only
// in the VERP address the bounce came back to
// (testdata/dsn-status-block-without-address.eml).
func (p *parser) keepOrphan(f textproto.MIMEHeader) {
	if f.Get("Status") == "" && f.Get("Diagnostic-Code") == "" {
		return
	}
	if len(p.orphans) < maxOrphans {
		p.orphans = append(p.orphans, f)
	}
}

// adoptOrphan gives the one recipient of a report that was found outside
// its fields (X-Failed-Recipients, VERP, the notice) the status of its one
// address-less field block. With several of either, which belongs to which
// is not known: nothing is adopted.
func (p *parser) adoptOrphan() {
	rep := p.rep
	if len(p.orphans) != 1 || p.blocks.len() > 0 || len(rep.Recipients) != 1 {
		return
	}
	r := &rep.Recipients[0]
	if r.Position == PositionDSN || r.Status != "" && !strings.HasSuffix(r.Status, ".0.0") {
		return
	}
	f := p.orphans[0]
	if a := Action(strings.ToLower(firstWord(f.Get("Action")))); a != "" {
		r.Action = a
	}
	if st := findStatus(f.Get("Status")); st != "" {
		r.Status = st
	}
	if dt, d := typedValue(strings.Join(f["Diagnostic-Code"], " ")); d != "" {
		r.DiagnosticType, r.Diagnostic = dt, collapseSpace(d)
		r.ReplyCode = findReplyCode(r.Diagnostic)
		if r.Command == "" {
			r.Command = Command(findCommand(r.Diagnostic))
		}
	}
	if _, m := typedValue(f.Get("Remote-Mta")); m != "" {
		r.RemoteMTA = m
	}
	if r.Fields == nil {
		r.Fields = f
	}
}
