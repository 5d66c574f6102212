package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
)

// Proof checks, recipient by recipient, that a bounce answers mail that
// was really sent: a forged bounce can name any address. When
// Options.Proof is set, Run calls it for every report with a failure; a
// failure whose recipient it does not prove is recorded as unverified and
// suppresses nothing (unless Options.ProofReportOnly), and is reported
// (Stats.Unverified, Options.UnverifiedFile). ProofChecker makes a
// proof.Checker a Proof.
type Proof interface {
	// Check returns one verdict per recipient of b.Report, in the order
	// of Report.Recipients; a recipient without a verdict is not proven.
	Check(ctx context.Context, b *Bounce) []proof.Verdict
}

// Bounce is what a Proof is given of one message.
type Bounce struct {
	// Header is the bounce's own top-level header, read from the first
	// bytes of the message (at most DSN.MaxHeaderBytes): the
	// Delivered-To and X-Original-To fields of the mail server are there.
	Header textproto.MIMEHeader
	Report *dsn.Report
	// Arrival is when the mailbox received the message (IMAP
	// INTERNALDATE, a Maildir file's delivery time), else when it was
	// processed; never the bounce's Date, which its sender writes.
	Arrival time.Time
}

// ProofChecker is the Proof of package proof: signed VERP, BATV, or our
// domains, each bounce checked at its arrival (Checker.Now is ignored).
type ProofChecker struct {
	Checker proof.Checker
}

// Check implements Proof.
func (p *ProofChecker) Check(_ context.Context, b *Bounce) []proof.Verdict {
	c := p.Checker
	c.Now = b.Arrival
	return c.Check(b.Header, b.Report)
}

// Unverified is a failure whose bounce did not prove that it answers mail
// sent to its recipient.
type Unverified struct {
	Email    string       // the recipient, as on the list
	Reason   proof.Reason // why it is not proven
	Evidence string       // the tagged address that failed, if any
	Category classify.Category
	Date     time.Time // of the bounce
	Message  string    // mailsource.Message.Name
	// Suppressed is set when it suppresses all the same
	// (Options.ProofReportOnly).
	Suppressed bool
}

// topHeader reads the top-level header from the first bytes of a message,
// at most max of them; a header cut there yields the fields before the cut.
func topHeader(head []byte, max int) textproto.MIMEHeader {
	if len(head) > max {
		head = head[:max]
		if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
			head = head[:i+1]
		}
	}
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(head))).ReadMIMEHeader()
	if h == nil {
		h = textproto.MIMEHeader{}
	}
	return h
}

// prove asks the Proof about the failures of res. It notes the unproven
// ones as unverified (or, with ProofReportOnly, only reports them), and
// returns, per record, the one address a signed VERP tag covers ("" when a
// proof covers both addresses of a forward) and whether the proof confirms
// the address itself (a tag names its recipient).
func (p *Processor) prove(ctx context.Context, res *Result, b *Bounce, name string) (only []string, confirmed []bool) {
	recs := res.Records
	only, confirmed = make([]string, len(recs)), make([]bool, len(recs))
	vs := p.opts.Proof.Check(ctx, b)
	for i := range recs {
		r := &recs[i]
		if r.Recipient == "" || !IsFailure(r.Category) {
			continue
		}
		var v proof.Verdict
		if i < len(vs) && len(recs) == len(b.Report.Recipients) {
			v = vs[i]
		}
		if v.Proven {
			r.Proof = "proven: " + string(v.Method)
		}
		switch {
		case !v.Proven:
			reason := v.Reason
			if reason == proof.ReasonNone {
				reason = proof.ReasonNoProof
			}
			r.Proof = strings.TrimSpace("unverified: " + string(reason) + " " + v.Evidence)
			res.Unproven = append(res.Unproven, Unverified{Email: r.Recipient, Reason: reason, Evidence: v.Evidence,
				Category: r.Category, Date: notAfterArrival(r.Date, b.Arrival), Message: name, Suppressed: p.opts.ProofReportOnly})
			if !p.opts.ProofReportOnly {
				r.Note = NoteUnverified + string(reason)
				if v.Evidence != "" {
					r.Note += " " + v.Evidence
				}
				res.Unverified++
			}
		case v.Method == proof.MethodVERP:
			if !verp.SameAddress(v.Recipient, r.Recipient) && !verp.SameAddress(v.Recipient, r.FinalRecipient) {
				// dsn decoded the signed address as an unsigned VERP one:
				// the recipient is the one the tag was made for.
				r.Recipient, r.FinalRecipient = v.Recipient, ""
			}
			only[i], confirmed[i] = v.Recipient, true
		}
	}
	return only, confirmed
}

// unverifiedHeader is the header line of Options.UnverifiedFile.
var unverifiedHeader = []string{"email", "reason", "evidence", "category", "date", "message", "suppressed"}

// unverifiedLog appends rows to Options.UnverifiedFile.
type unverifiedLog struct {
	f *os.File
	w *csv.Writer
}

// openUnverified opens path for appending, with the header line when it
// is new or empty.
func openUnverified(path string) (*unverifiedLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pipeline: unverified list: %w", err)
	}
	l := &unverifiedLog{f: f, w: csv.NewWriter(f)}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		l.w.Write(unverifiedHeader)
	}
	l.w.Flush()
	if err := l.w.Error(); err != nil {
		f.Close()
		return nil, fmt.Errorf("pipeline: unverified list: %w", err)
	}
	return l, nil
}

// add writes us; the text that came from a bounce is defused against
// spreadsheet formulas.
func (l *unverifiedLog) add(us []Unverified) error {
	for _, u := range us {
		date := ""
		if !u.Date.IsZero() {
			date = u.Date.UTC().Format(time.RFC3339)
		}
		l.w.Write([]string{suppress.DefuseFormula(u.Email), string(u.Reason), suppress.DefuseFormula(u.Evidence),
			string(u.Category), date, suppress.DefuseFormula(u.Message), fmt.Sprint(u.Suppressed)})
	}
	l.w.Flush()
	return l.w.Error()
}

// LoadProof returns the Proof of a key file of signed VERP and BATV return
// paths (verp.LoadKeys; "" for none), verified as signer says (its
// validity and delimiter; its Keys are those of the file), and of our
// domains (blank entries ignored).
func LoadProof(keyFile string, signer verp.Signer, ourDomains []string) (*ProofChecker, error) {
	p := &ProofChecker{}
	switch {
	case signer.Delimiter != 0 && signer.Delimiter != verp.DelimiterPlus && signer.Delimiter != verp.DelimiterMinus:
		return nil, fmt.Errorf("pipeline: VERP delimiter %q: want %q or %q", signer.Delimiter, verp.DelimiterPlus, verp.DelimiterMinus)
	case signer.ValidityDays < 0 || signer.ValidityDays > verp.MaxValidityDays:
		return nil, fmt.Errorf("pipeline: VERP validity of %d days: want 1 to %d", signer.ValidityDays, verp.MaxValidityDays)
	}
	if keyFile != "" {
		keys, err := verp.LoadKeys(keyFile)
		if err != nil {
			return nil, err
		}
		signer.Keys = keys
		p.Checker.Signer = &signer
	}
	for _, d := range ourDomains {
		if d = strings.TrimSpace(d); d != "" {
			p.Checker.OurDomains = append(p.Checker.OurDomains, d)
		}
	}
	return p, nil
}

// UnverifiedName is the name of the list of failures without proof that
// bouncer run writes beside its lists.
const UnverifiedName = "unverified.csv"

// UnverifiedBeside returns where the list of failures without proof goes
// beside the lists: in the folder of lists dir, else in the folder of the
// list file; "" when there is neither.
func UnverifiedBeside(file, dir string) string {
	switch {
	case dir != "":
		return filepath.Join(dir, UnverifiedName)
	case file != "":
		return filepath.Join(filepath.Dir(file), UnverifiedName)
	}
	return ""
}
