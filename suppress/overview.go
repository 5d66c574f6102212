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

// History is the recorded history read once, with the decision over it:
// for a reader that shows several views of one version of the state (the
// console) and must not read a large history once per view.
type History struct {
	// Events are every recorded event, allowed or not, as DB.Events
	// returns them.
	Events []Event
	// Lists is the decision, as DB.Lists makes it (allows and the
	// summaries of pruned events included).
	Lists Lists
	// Pending are the soft bounces under the threshold, as DB.Pending
	// returns them.
	Pending []PendingEntry
	policy  *Policy
	cut     map[string]time.Time
	sums    map[string]Summary
}

// History reads the history once and decides it under p (nil: the
// defaults).
func (db *DB) History(ctx context.Context, p *Policy) (*History, error) {
	evs, err := db.Events(ctx)
	if err != nil {
		return nil, err
	}
	cut, err := db.cutoffs(ctx)
	if err != nil {
		return nil, err
	}
	sums, err := db.summaries(ctx, db.read, nil)
	if err != nil {
		return nil, err
	}
	h := &History{Events: evs, policy: p, cut: cut, sums: sums}
	h.Lists = decide(evs, cut, sums, p, nil)
	pending := pendingOf(evs, cut, h.Lists, p)
	h.Pending = make([]PendingEntry, 0, len(pending))
	for _, e := range pending {
		h.Pending = append(h.Pending, e)
	}
	sortPending(h.Pending)
	return h, nil
}

// SizesOver returns the size of the suppression list at each moment of
// at (see the function SizesOver), with the allows and the summaries of
// pruned events counted as the decision counts them.
func (h *History) SizesOver(at []time.Time) []int {
	evs := h.Events
	if len(h.cut) > 0 || len(h.sums) > 0 {
		evs = make([]Event, 0, len(h.Events)+len(h.sums))
		for _, e := range h.Events {
			if c, ok := h.cut[e.Address]; ok && !e.Date.After(c) {
				continue
			}
			evs = append(evs, e)
		}
		pol := h.policy.withDefaults()
		for addr, s := range h.sums {
			if c, ok := h.cut[addr]; ok && !s.LastBounce.After(c) || !pol.suppresses(s.Category, []Event{{}}) {
				continue
			}
			evs = append(evs, Event{Address: addr, Category: s.Category, Reason: s.Reason, Date: s.FirstBounce})
		}
	}
	return SizesOver(evs, h.policy, at)
}

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
	LastAllow, Allows, Pruned      int64
}

// Fingerprint returns the history's Fingerprint: index lookups and
// counts, cheap enough to ask every few seconds.
func (db *DB) Fingerprint(ctx context.Context) (Fingerprint, error) {
	var f Fingerprint
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(id), 0) FROM messages),
		(SELECT coalesce(max(id), 0) FROM events),
		(SELECT count(*) FROM events),
		(SELECT coalesce(max(id), 0) FROM allows),
		(SELECT count(*) FROM allows),
		(SELECT count(*) FROM pruned)`).Scan(&f.LastMessage, &f.LastEvent, &f.Events, &f.LastAllow, &f.Allows, &f.Pruned)
	if err != nil {
		return Fingerprint{}, db.wrapErr("fingerprint", err)
	}
	return f, nil
}

// SizesOver returns, for each moment of at, how many addresses p
// suppresses in the history events at that moment: the suppression
// list's size over time. It applies the rules of Decide (each moment as
// Policy.Now) in one pass over the events, so that a long series over a
// large history stays cheap: an address suppressed at once (hard,
// complaint) counts from its first such event on; the soft window is
// checked only where it could hold enough bounces.
func SizesOver(events []Event, p *Policy, at []time.Time) []int {
	pol := p.withDefaults()
	order := make([]int, len(at)) // indexes of at, by date
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return at[order[i]].Before(at[order[j]]) })
	sorted := make([]time.Time, len(at))
	for i, k := range order {
		sorted[i] = at[k]
	}
	type history struct {
		first time.Time   // earliest event that suppresses at once; zero: none
		soft  []time.Time // dates of the soft events
	}
	byAddr := make(map[string]*history)
	for _, e := range events {
		c := e.Category
		if c == "" {
			c = e.Reason.Category()
		}
		if c == classify.CategoryNone {
			continue
		}
		h := byAddr[e.Address]
		if h == nil {
			h = &history{}
			byAddr[e.Address] = h
		}
		switch {
		case c == classify.CategorySoft:
			h.soft = append(h.soft, e.Date)
		case pol.suppresses(c, nil) && (h.first.IsZero() || e.Date.Before(h.first)):
			h.first = e.Date
		}
	}
	counts := make([]int, len(at)+1) // by position in sorted; from first on: a running sum
	direct := make([]int, len(at))
	var window []Event
	for _, h := range byAddr {
		until := len(sorted) // positions from here on count through first
		if !h.first.IsZero() {
			until = sort.Search(len(sorted), func(i int) bool { return !sorted[i].Before(h.first) })
			counts[until]++
		}
		if len(h.soft) < pol.SoftThreshold {
			continue
		}
		sort.Slice(h.soft, func(i, j int) bool { return h.soft[i].Before(h.soft[j]) })
		earliest := h.soft[pol.SoftThreshold-1] // no window holds enough before it
		latest := h.soft[len(h.soft)-1].Add(pol.SoftWindow)
		for i := sort.Search(until, func(i int) bool { return !sorted[i].Before(earliest) }); i < until && sorted[i].Before(latest); i++ {
			window = window[:0]
			from := sorted[i].Add(-pol.SoftWindow)
			for _, d := range h.soft {
				if d.After(from) && !d.After(sorted[i]) {
					window = append(window, Event{Date: d})
				}
			}
			if pol.suppresses(classify.CategorySoft, window) {
				direct[i]++
			}
		}
	}
	sizes := make([]int, len(at))
	run := 0
	for i, k := range order {
		run += counts[i]
		sizes[k] = run + direct[i]
	}
	return sizes
}

// UnverifiedPrefix starts the Proof of a failure recorded without proof
// that it answers mail we sent (package pipeline: "unverified: no-proof");
// such an event is recorded with category none and suppresses nothing.
const UnverifiedPrefix = "unverified:"

// Unverified returns the latest limit unverified failures (Proof starting
// with UnverifiedPrefix), newest first, with their proof, and how many
// there are in all.
func (db *DB) Unverified(ctx context.Context, limit int) ([]Event, int, error) {
	var total int
	if err := db.read.QueryRowContext(ctx, db.d.bind(`SELECT count(*) FROM events WHERE proof LIKE ?`),
		UnverifiedPrefix+"%").Scan(&total); err != nil {
		return nil, 0, db.wrapErr("unverified", err)
	}
	rows, err := db.read.QueryContext(ctx, db.d.bind(
		`SELECT address, category, reason, status, reply_code, diagnostic, date, original_message_id, source, evidence, recipient_from, proof
		 FROM events WHERE proof LIKE ? ORDER BY date DESC, id DESC LIMIT ?`), UnverifiedPrefix+"%", limit)
	if err != nil {
		return nil, 0, db.wrapErr("unverified", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e        Event
			cat, rsn string
			date     int64
		)
		if err := rows.Scan(&e.Address, &cat, &rsn, &e.Status, &e.ReplyCode, &e.Diagnostic, &date, &e.MessageID,
			&e.Source, &e.Evidence, &e.RecipientFrom, &e.Proof); err != nil {
			return nil, 0, db.wrapErr("unverified", err)
		}
		e.Category, e.Reason = classify.Category(cat), classify.Reason(rsn)
		e.Date = time.Unix(date, 0).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, db.wrapErr("unverified", err)
	}
	return out, total, nil
}
