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
	rep, perr := p.parseStream(tr, h)
	if tr.err != nil {
		return nil, fmt.Errorf("pipeline: read %s: %w", m.Name, tr.err)
	}
	return p.build(ctx, m, hex.EncodeToString(h.Sum(nil)), rep, perr), nil
}

// parseStream parses r and feeds every byte of it, read by the parser or
// not, to h.
func (p *Processor) parseStream(tr *trackReader, h hash.Hash) (*dsn.Report, error) {
	tee := io.TeeReader(tr, h)
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

// build applies the job's rules to a parsed message.
func (p *Processor) build(ctx context.Context, src *mailsource.Message, hash string, rep *dsn.Report, perr error) *Result {
	res := &Result{Report: rep}
	m := &res.Message
	*m = suppress.Message{
		Mailbox:     src.Mailbox,
		UIDValidity: src.UIDValidity,
		UID:         src.UID,
		Hash:        hash,
		Source:      p.opts.Source,
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
		failure, unusable = p.events(ctx, res, src.Received)
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
	return res
}

// events turns the records of a parsed message into the events Run
// records, and tells whether one is a failure that suppresses (failure) or
// a failure that cannot be recorded (unusable: not an address, no date).
func (p *Processor) events(ctx context.Context, res *Result, received time.Time) (failure, unusable bool) {
	var proofErr error
	if p.opts.Proof != nil && hasFailure(res.Records) {
		proofErr = p.opts.Proof.Check(ctx, res.Report)
	}
	res.Unconfirmed, res.Unverified = judge(res.Records, res.Report, proofErr)
	for i := range res.Records {
		r := &res.Records[i]
		if r.Recipient == "" {
			continue
		}
		cat := r.Category
		if r.Note != "" {
			cat = classify.CategoryNone // unconfirmed or unverified
		}
		ev := suppress.Event{
			Address:    r.Recipient,
			Category:   cat,
			Reason:     r.Reason,
			Status:     r.Status,
			ReplyCode:  r.ReplyCode,
			Diagnostic: r.Diagnostic,
			Date:       notAfterArrival(r.Date, received),
			MessageID:  r.OriginalMessageID,
			Source:     string(res.Report.Vendor),
		}
		res.Message.Events = append(res.Message.Events, ev)
		if r.FinalRecipient != "" {
			// A forward failed: the address on the list is the one the
			// message was sent to (Recipient); the address it led to
			// shares its fate.
			ev.Address = r.FinalRecipient
			res.Message.Events = append(res.Message.Events, ev)
		}
		if !IsFailure(cat) {
			continue
		}
		// Record skips an event it cannot use: not an address, or no
		// date at all.
		if _, err := suppress.NormalizeAddress(r.Recipient); err == nil && (!ev.Date.IsZero() || !res.Message.Date.IsZero()) {
			failure = true
		} else {
			unusable = true
		}
	}
	return failure, unusable
}

// judge sets the note of each failure that must not suppress: all of them
// when proofErr is set (a Proof failed), else those whose address was read
// from running text (dsn.PositionText) and that the report confirms
// nowhere else (its VERP address, the original's recipients). It returns
// how many of each it found.
func judge(recs []Record, rep *dsn.Report, proofErr error) (unconfirmed, unverified int) {
	confirm := newConfirmer(rep)
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Recipient == "" || !IsFailure(r.Category):
		case proofErr != nil:
			r.Note = NoteUnverified + proofErr.Error()
			unverified++
		case r.RecipientFrom == dsn.PositionText && !confirm.has(r.Recipient, r.FinalRecipient):
			r.Note = NoteUnconfirmed
			unconfirmed++
		}
	}
	return unconfirmed, unverified
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
