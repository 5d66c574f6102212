package dsn

import "strings"

// The address a list sent to may not be the one that failed: an alias or a
// forward led the message on (docs/taxonomy.md, "Which address a record is
// about"). Two places name the list's address when the report's fields do
// not: the note an MTA writes after an expanded address (Postfix's "<x@a>
// (expanded from <y@b>):", Sendmail's "(expanded from: <y@b>)"), and the
// VERP address the bounce came back to.

// maxExpandedGap caps the bytes between a failed address and the
// "expanded from" note that belongs to it: Sendmail writes its "(reason:
// …)" line in between.
const maxExpandedGap = 400

// expandedMarks are the notes, lower case, after which the address the
// message was sent to follows: Postfix's and Sendmail's, and Exim's
// "(generated from y@b)", "(ultimately generated from y@b)" when aliases
// or redirects chained (deliver.c, print_address_information).
var expandedMarks = []string{"(expanded from:", "(expanded from", "(ultimately generated from", "(generated from"}

// expandedFrom returns the address of the "expanded from" note that
// follows addr in text, or "" when there is none, when another address
// stands between them, or when the note names a bare local part.
func expandedFrom(text, addr string) string {
	if addr == "" {
		return ""
	}
	low := asciiLower(text)
	i := strings.Index(low, asciiLower(addr))
	if i < 0 {
		return ""
	}
	rest := low[i+len(addr):]
	if len(rest) > maxExpandedGap {
		rest = rest[:maxExpandedGap]
	}
	for _, m := range expandedMarks {
		j := strings.Index(rest, m)
		if j < 0 {
			continue
		}
		for _, h := range findAddrs(rest[:j]) {
			if !strings.EqualFold(h.addr, addr) {
				return "" // the note follows another address
			}
		}
		after := rest[j+len(m):]
		end := strings.IndexByte(after, ')')
		if end < 0 {
			end = min(len(after), 200)
		}
		hits := findAddrs(after[:end])
		if len(hits) != 1 {
			return ""
		}
		off := i + len(addr) + j + len(m)
		return text[off+hits[0].start : off+hits[0].end]
	}
	return ""
}

// verpOverForward makes the VERP recipient the list's address of a report
// with one failed recipient that names another address (a forward, an
// alias) and no Original-Recipient of its own: the other stays its
// FinalRecipient.
func (p *parser) verpOverForward() {
	rep := p.rep
	if rep.VERP == "" || (rep.Kind != KindDSN && rep.Kind != KindBounce) {
		return
	}
	failed := -1
	i := 0
	for r := range rep.All() {
		if r.Action == ActionFailed || r.Action == ActionDelayed {
			if failed >= 0 {
				return // which of them the VERP address names is not ours to guess
			}
			failed = i
		}
		i++
	}
	if failed < 0 {
		return
	}
	if failed < len(rep.Recipients) {
		forwardTo(&rep.Recipients[failed], rep.VERP)
		return
	}
	// Options.StreamRecipients: the recipient is built when asked for
	// (dsnRecipients.all), and made the same way there.
	p.lazy.forward, p.lazy.verp = failed-len(rep.Recipients), rep.VERP
}

// forwardTo makes verp the OriginalRecipient of r, the one failed
// recipient of a report that came back to the VERP address verp, unless r
// is verp's or names the list's address of its own.
func forwardTo(r *Recipient, verp string) {
	if strings.EqualFold(r.FinalRecipient, verp) || idsBefore(verp, r.FinalRecipient) {
		return
	}
	if r.OriginalRecipient != "" && !strings.EqualFold(r.OriginalRecipient, r.FinalRecipient) {
		// The report names the address the list sent to itself, and it
		// is not the VERP one: a conflict, which the proof of a signed
		// tag judges (pipeline), not a forward to take on trust.
		return
	}
	r.OriginalRecipient = verp
}

// idsBefore reports whether the VERP recipient verp is addr with ids glued
// before its local part: a sending service's VERP address that carries its
// campaign and subscriber ids ("bounce-0000042-7777713-ann=example.com@…")
// decodes, read as plain VERP, to "0000042-7777713-ann@example.com". The
// ids hold a digit and end in a delimiter; a prefix without digits
// ("john-" before "smith") is part of another mailbox's name.
func idsBefore(verp, addr string) bool {
	vat, aat := strings.LastIndexByte(verp, '@'), strings.LastIndexByte(addr, '@')
	if vat <= 0 || aat <= 0 || !strings.EqualFold(verp[vat:], addr[aat:]) {
		return false
	}
	vlocal, alocal := asciiLower(verp[:vat]), asciiLower(addr[:aat])
	if len(vlocal) < len(alocal)+2 || !strings.HasSuffix(vlocal, alocal) {
		return false
	}
	ids := vlocal[:len(vlocal)-len(alocal)]
	if d := ids[len(ids)-1]; d != '-' && d != '+' {
		return false
	}
	return strings.ContainsAny(ids, "0123456789")
}
