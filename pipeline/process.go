package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
)

// Notes of records whose failure suppresses nothing, or that hit a limit.
const (
	NoteUnconfirmed = "unconfirmed: the address was read from the notice's running text and is neither the original's recipient nor the VERP address; recorded, suppresses nothing"
	NoteUnverified  = "unverified: "
	NoteIncomplete  = "incomplete: a limit was reached; what was read before it is recorded"
)

// MaxClockSkew is how far after its arrival a bounce may date itself;
// later dates are replaced by the arrival time.
const MaxClockSkew = 48 * time.Hour

// Result is what processing made of one message.
type Result struct {
	// Records are the message's records (see Records), with their notes.
	Records []Record
	// Message is what Run records: the message, its outcome and events.
	Message suppress.Message
	// Report is the parser's result, nil when the message could not be
	// read as a message.
	Report *dsn.Report
	// Incomplete is set when a limit was hit (Report.Truncated, or the
	// source cut the message): the outcome is then
	// suppress.OutcomeUnrecognized, for a human, events kept.
	Incomplete bool
	// Unconfirmed and Unverified count the failures recorded without a
	// suppressing effect (NoteUnconfirmed, a failed Proof).
	Unconfirmed, Unverified int
	// Unproven are the failures Proof did not prove: the Unverified ones,
	// and with Options.ProofReportOnly those that suppress all the same.
	Unproven []Unverified
}

// Processor turns raw messages into records and recorded events: parse
// (dsn), classify, and the job's rules (forwarded failures, dates, what an
// address read from free text may do, the outcome of a message). It is safe
// for concurrent use.
type Processor struct {
	opts Options
}

// NewProcessor returns a Processor with opts (nil: the defaults).
func NewProcessor(opts *Options) *Processor {
	return &Processor{opts: opts.withDefaults()}
}

// Process reads one message from m.Body, hashing it as it streams, and
// returns what it says. An error means the body could not be read to its
// end: nothing of it may be recorded.
func (p *Processor) Process(ctx context.Context, m *mailsource.Message) (*Result, error) {
	h := sha256.New()
	tr := &trackReader{r: m.Body}
	var head *headWriter
	if p.opts.Proof != nil {
		head = &headWriter{max: p.maxHeader()}
	}
	rep, perr := p.parseStream(tr, h, head)
	if tr.err != nil {
		return nil, fmt.Errorf("pipeline: read %s: %w", m.Name, tr.err)
	}
	return p.build(ctx, m, hex.EncodeToString(h.Sum(nil)), head.bytes(), rep, perr), nil
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(b []byte) (int, error) {
	if n := min(len(b), w.max-len(w.b)); n > 0 {
		w.b = append(w.b, b[:n]...)
	}
	return len(b), nil
}

func (w *headWriter) bytes() []byte {
	if w == nil {
		return nil
	}
	return w.b
}

// maxHeader is the most bytes read of a message for its top-level header.
func (p *Processor) maxHeader() int {
	if n := p.opts.DSN.MaxHeaderBytes; n > 0 {
		return n
	}
	return dsn.DefaultMaxHeaderBytes
}

// parseStream parses r and feeds every byte of it, read by the parser or
// not, to h, and the first ones to head when it is not nil.
func (p *Processor) parseStream(tr *trackReader, h hash.Hash, head *headWriter) (*dsn.Report, error) {
	var w io.Writer = h
	if head != nil {
		w = io.MultiWriter(h, head)
	}
	tee := io.TeeReader(tr, w)
	rep, perr := p.parse(tee)
	// The hash covers the whole message, whatever the parser read.
	if _, err := io.Copy(io.Discard, tee); err != nil && tr.err == nil {
		tr.err = err
	}
	return rep, perr
}

// parse calls dsn.Parse and turns a panic into an error, so that one
// message cannot stop the batch.
func (p *Processor) parse(r io.Reader) (rep *dsn.Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = nil, fmt.Errorf("%w: parser panic: %v", dsn.ErrMalformed, v)
		}
	}()
	return dsn.Parse(r, &p.opts.DSN)
}

// build applies the job's rules to a parsed message; head is the start of
// the message (for a Proof, which needs its top-level header).
func (p *Processor) build(ctx context.Context, src *mailsource.Message, hash string, head []byte, rep *dsn.Report, perr error) *Result {
	res := &Result{Report: rep}
	m := &res.Message
	*m = suppress.Message{
		Mailbox:     src.Mailbox,
		UIDValidity: src.UIDValidity,
		UID:         src.UID,
		Hash:        hash,
		Source:      p.opts.Source,
		Location:    src.Name,
	}
	res.Incomplete = src.Truncated || errors.Is(perr, dsn.ErrLimit) || (rep != nil && rep.Truncated)
	malformed := perr != nil && !errors.Is(perr, dsn.ErrCharset) && !errors.Is(perr, dsn.ErrLimit)
	if rep != nil {
		m.MessageID = rep.MessageID
		m.Date = rep.Date
		if m.Date.IsZero() {
			m.Date = rep.ArrivalDate
		}
	}
	if m.Date.IsZero() {
		// A bounce with no Date: when the mailbox received it, which is
		// as much the bounce's own as its header (never the clock).
		m.Date = src.Received
	}
	m.Date = notAfterArrival(m.Date, src.Received)
	res.Records = Records(nil, src.Name, rep, perr, p.opts.Classify)
	failure, unusable := false, false
	if rep != nil {
		failure, unusable = p.events(ctx, res, src, head)
	}
	switch {
	case res.Incomplete:
		// Not cleanly done: what was read is recorded, and the message
		// goes to a human.
		m.Outcome = suppress.OutcomeUnrecognized
		markIncomplete(res.Records)
	case failure:
		// Even when part of the message was unreadable (a broken header
		// in the returned original, say), what it reports stands.
		m.Outcome = suppress.OutcomeBounce
	case malformed:
		m.Events = nil
		m.Outcome = suppress.OutcomeUnrecognized
	case unusable:
		// A failure that cannot be recorded: a human should see it.
		m.Outcome = suppress.OutcomeUnrecognized
	default:
		m.Outcome = suppress.OutcomeNotBounce
	}
	m.Placed = placed(m.Outcome)
	return res
}

// placed says where a message of this outcome goes (sourceOutcome), for
// the state: a bounce to the processed folder, anything else to the one
// for humans.
func placed(o suppress.Outcome) string {
	if sourceOutcome(o) == mailsource.OutcomeProcessed {
		return suppress.PlacedProcessed
	}
	return suppress.PlacedUnrecognized
}

// events turns the records of a parsed message into the events Run
// records, and tells whether one is a failure that suppresses (failure) or
// a failure that cannot be recorded (unusable: not an address, no date).
func (p *Processor) events(ctx context.Context, res *Result, src *mailsource.Message, head []byte) (failure, unusable bool) {
	received := src.Received
	var only []string
	var confirmed []bool
	if p.opts.Proof != nil && hasFailure(res.Records) {
		arrival := received
		if arrival.IsZero() {
			arrival = time.Now()
		}
		b := &Bounce{Header: topHeader(head, p.maxHeader()), Report: res.Report, Arrival: arrival}
		only, confirmed = p.prove(ctx, res, b, src.Name)
	}
	res.Unconfirmed = judge(res.Records, res.Report, confirmed)
	for i := range res.Records {
		r := &res.Records[i]
		if r.Recipient == "" {
			continue
		}
		ev := suppress.Event{
			Category:   r.Category,
			Reason:     r.Reason,
			Status:     r.Status,
			ReplyCode:  r.ReplyCode,
			Diagnostic: r.Diagnostic,
			Date:       notAfterArrival(r.Date, received),
			MessageID:  r.OriginalMessageID,
			Source:     string(res.Report.Vendor),
			// The evidence as parse --explain shows it.
			Evidence:      evidenceString(r),
			RecipientFrom: string(r.RecipientFrom),
			Proof:         r.Proof,
		}
		if r.Note != "" {
			ev.Category = classify.CategoryNone // unconfirmed or unverified
		}
		// A forward failed: the address on the list is the one the
		// message was sent to (Recipient); the address it led to shares
		// its fate, unless a signed VERP tag covers only the other.
		judged := false
		for _, addr := range []string{r.Recipient, r.FinalRecipient} {
			if addr == "" {
				continue
			}
			e := ev
			e.Address = addr
			if only != nil && only[i] != "" && !verp.SameAddress(only[i], addr) {
				e.Category = classify.CategoryNone
			}
			res.Message.Events = append(res.Message.Events, e)
			if judged || !IsFailure(e.Category) {
				continue
			}
			// Record skips an event it cannot use: not an address, or
			// no date at all.
			judged = true
			if _, err := suppress.NormalizeAddress(addr); err == nil && (!e.Date.IsZero() || !res.Message.Date.IsZero()) {
				failure = true
			} else {
				unusable = true
			}
		}
	}
	return failure, unusable
}

// judge sets the note of each failure whose address was read from running
// text (dsn.PositionText) and that the report confirms nowhere else (its
// VERP address, the original's recipients, a proof: confirmed[i]), and
// returns how many it found. A failure with a note already is left alone.
func judge(recs []Record, rep *dsn.Report, confirmed []bool) (unconfirmed int) {
	confirm := newConfirmer(rep)
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Recipient == "" || !IsFailure(r.Category) || r.Note != "":
		case confirmed != nil && confirmed[i]:
		case r.RecipientFrom == dsn.PositionText && !confirm.has(r.Recipient, r.FinalRecipient):
			r.Note = NoteUnconfirmed
			unconfirmed++
		}
	}
	return unconfirmed
}

// markIncomplete notes on the records of a message that hit a limit that
// they may lack what followed it.
func markIncomplete(recs []Record) {
	for i := range recs {
		if recs[i].Note == "" {
			recs[i].Note = NoteIncomplete
		}
	}
}

func hasFailure(recs []Record) bool {
	for i := range recs {
		if recs[i].Recipient != "" && IsFailure(recs[i].Category) {
			return true
		}
	}
	return false
}

// confirmer tells whether an address is one the report confirms: the VERP
// address the bounce was sent to, or a recipient of the returned original.
type confirmer struct {
	rep  *dsn.Report
	set  map[string]bool
	done bool
}

func newConfirmer(rep *dsn.Report) *confirmer { return &confirmer{rep: rep} }

func (c *confirmer) has(addrs ...string) bool {
	if !c.done {
		c.done = true
		c.set = make(map[string]bool)
		for _, a := range append([]string{c.rep.VERP}, c.rep.Original.Recipients...) {
			if n, err := suppress.NormalizeAddress(a); err == nil {
				c.set[n] = true
			}
		}
	}
	for _, a := range addrs {
		if n, err := suppress.NormalizeAddress(a); err == nil && c.set[n] {
			return true
		}
	}
	return false
}

// notAfterArrival returns d, or the arrival time when d lies further in the
// future than clock skew explains: one bounce dated 2099 would otherwise
// become the policy's "now" and age every real soft bounce out.
func notAfterArrival(d, arrival time.Time) time.Time {
	if !arrival.IsZero() && d.After(arrival.Add(MaxClockSkew)) {
		return arrival
	}
	return d
}

// trackReader remembers the first read error (other than io.EOF) of r, to
// tell a source that cannot be read from a message that cannot be parsed.
type trackReader struct {
	r   io.Reader
	err error
}

func (t *trackReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}
