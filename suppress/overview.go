package suppress

import (
	"context"
	"sort"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// Read-side summaries of the state for a reader that shows it (package
// console): the mailboxes and what was read from them, the push targets
// of the outbox, a cheap fingerprint that changes whenever the history
// does, and the suppression list's size over time under a Policy.

// MailboxSummary is what the state holds about one mailbox (an IMAP URL,
// a Maildir or a file source, as Message.Mailbox names it).
type MailboxSummary struct {
	Mailbox   string
	Messages  int             // messages recorded from it
	ByOutcome map[Outcome]int // of those, by outcome
	Events    int             // events recorded from its messages
	// UIDValidity and LastUID are its IMAP sync state (SaveState), zero
	// when it has none.
	UIDValidity, LastUID uint32
}

// Mailboxes returns a summary of every mailbox that messages were recorded
// from or that has a sync state, sorted by name.
func (db *DB) Mailboxes(ctx context.Context) ([]MailboxSummary, error) {
	byName := map[string]*MailboxSummary{}
	get := func(name string) *MailboxSummary {
		m := byName[name]
		if m == nil {
			m = &MailboxSummary{Mailbox: name, ByOutcome: map[Outcome]int{}}
			byName[name] = m
		}
		return m
	}
	rows, err := db.read.QueryContext(ctx, `SELECT mailbox, outcome, count(*), sum(events) FROM messages GROUP BY mailbox, outcome`)
	if err != nil {
		return nil, db.wrapErr("mailboxes", err)
	}
	for rows.Next() {
		var (
			name, outcome string
			n, events     int
		)
		if err := rows.Scan(&name, &outcome, &n, &events); err != nil {
			rows.Close()
			return nil, db.wrapErr("mailboxes", err)
		}
		m := get(name)
		m.Messages += n
		m.Events += events
		m.ByOutcome[Outcome(outcome)] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("mailboxes", err)
	}
	rows, err = db.read.QueryContext(ctx, `SELECT mailbox, uidvalidity, last_uid FROM sync_state`)
	if err != nil {
		return nil, db.wrapErr("mailboxes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name     string
			uv, last int64
		)
		if err := rows.Scan(&name, &uv, &last); err != nil {
			return nil, db.wrapErr("mailboxes", err)
		}
		m := get(name)
		m.UIDValidity, m.LastUID = uint32(uv), uint32(last)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("mailboxes", err)
	}
	out := make([]MailboxSummary, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mailbox < out[j].Mailbox })
	return out, nil
}

// OutboxTargets returns the names of the push targets that have entries
// in the outbox, sorted.
func (db *DB) OutboxTargets(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT target FROM outbox ORDER BY target`)
	if err != nil {
		return nil, db.wrapErr("outbox targets", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, db.wrapErr("outbox targets", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("outbox targets", err)
	}
	return out, nil
}

// Fingerprint identifies a version of the recorded history: two reads
// that return the same Fingerprint saw the same messages and events
// (events are only ever added, or removed by an erase, which lowers
// their count).
type Fingerprint struct {
	LastMessage, LastEvent, Events int64
}

// Fingerprint returns the history's Fingerprint, with index lookups only:
// cheap enough to ask before every page.
func (db *DB) Fingerprint(ctx context.Context) (Fingerprint, error) {
	var f Fingerprint
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(id), 0) FROM messages),
		(SELECT coalesce(max(id), 0) FROM events),
		(SELECT count(*) FROM events)`).Scan(&f.LastMessage, &f.LastEvent, &f.Events)
	if err != nil {
		return Fingerprint{}, db.wrapErr("fingerprint", err)
	}
	return f, nil
}

// SizesOver returns, for each moment of at, how many addresses p
// suppresses in the history events at that moment: the suppression
// list's size over time. It applies the same rules as Decide (at each
// moment as Policy.Now), in one pass over the events, so that it stays
// cheap for a long series.
func SizesOver(events []Event, p *Policy, at []time.Time) []int {
	pol := p.withDefaults()
	sizes := make([]int, len(at))
	byAddr := make(map[string][]Event)
	for _, e := range events {
		c := e.Category
		if c == "" {
			c = e.Reason.Category()
		}
		if c == classify.CategoryNone {
			continue
		}
		e.Category = c
		byAddr[e.Address] = append(byAddr[e.Address], e)
	}
	for _, evs := range byAddr {
		for i, now := range at {
			if pol.suppressedAt(evs, now) {
				sizes[i]++
			}
		}
	}
	return sizes
}

// suppressedAt reports whether the events of one address (categories
// set) suppress it at now.
func (p Policy) suppressedAt(evs []Event, now time.Time) bool {
	windowStart := now.Add(-p.SoftWindow)
	var soft []Event
	for _, e := range evs {
		if e.Date.After(now) {
			continue
		}
		switch e.Category {
		case classify.CategorySoft:
			if e.Date.After(windowStart) {
				soft = append(soft, e)
			}
		default:
			if p.suppresses(e.Category, []Event{e}) {
				return true
			}
		}
	}
	return len(soft) > 0 && p.suppresses(classify.CategorySoft, soft)
}
