package suppress

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// Policy defaults.
const (
	DefaultSoftThreshold    = 3
	DefaultSoftDistinctDays = 3
	DefaultSoftWindow       = 30 * 24 * time.Hour
	// DefaultPermanentThreshold is the default of Policy.PermanentThreshold.
	DefaultPermanentThreshold = 2
)

// Policy says when an address is suppressed. The zero value, and a nil
// pointer, mean the defaults:
//
//   - hard and complaint: suppressed at the first event, for good (they do
//     not age out);
//   - soft: suppressed when the address has at least SoftThreshold (3) soft
//     bounces on at least SoftDistinctDays (3) different UTC calendar days
//     within SoftWindow (30 days) before Now, the notices about one sent
//     message (its Message-ID: a delay warning a day, then the failure)
//     counting as one bounce; older soft events age out;
//   - soft but permanent (Event.Permanent: a 5xx or "permanent error" whose
//     reason nothing told): suppressed when such events fall on at least
//     PermanentThreshold (2) different UTC days within SoftWindow;
//   - policy: never suppressed unless SuppressPolicy is set; always listed in
//     the policy report;
//   - none (auto-replies, delivery notices): ignored.
type Policy struct {
	// SoftThreshold is how many soft bounces in the window suppress an
	// address, the events about one sent message counting once; default
	// DefaultSoftThreshold.
	SoftThreshold int
	// SoftDistinctDays is on how many different UTC days those events must
	// fall, so that one outage retried all day counts once; default
	// DefaultSoftDistinctDays.
	SoftDistinctDays int
	// SoftWindow is how far back from Now soft events count: an event
	// counts when Now-SoftWindow < date <= Now; default DefaultSoftWindow.
	SoftWindow time.Duration
	// PermanentThreshold is on how many different UTC days within
	// SoftWindow permanent soft events (Event.Permanent) must fall to
	// suppress an address; default DefaultPermanentThreshold. A negative
	// value turns the rule off: permanent events then count as soft ones
	// only.
	PermanentThreshold int
	// SuppressPolicy suppresses addresses with policy events too (at the
	// first one). Default false: a policy block is the sender's problem.
	SuppressPolicy bool
	// Now is the moment of the decision: soft events age from it, and
	// events dated after it are left out. Zero means the date of the latest
	// failure recorded (auto-replies and delivery notices do not count), so
	// that a decision depends on the history alone and never on the clock.
	Now time.Time
}

func (p *Policy) withDefaults() Policy {
	var q Policy
	if p != nil {
		q = *p
	}
	if q.SoftThreshold <= 0 {
		q.SoftThreshold = DefaultSoftThreshold
	}
	if q.SoftDistinctDays <= 0 {
		q.SoftDistinctDays = DefaultSoftDistinctDays
	}
	if q.SoftWindow <= 0 {
		q.SoftWindow = DefaultSoftWindow
	}
	if q.PermanentThreshold == 0 {
		q.PermanentThreshold = DefaultPermanentThreshold
	}
	return q
}

// Entry is one address on a list, with the evidence for it.
type Entry struct {
	Address  string
	Category classify.Category // the category that put the address on the list
	// Reason, Status, ReplyCode and Diagnostic are those of the latest
	// event of Category.
	Reason     classify.Reason
	Status     string
	ReplyCode  string
	Diagnostic string
	// Bounces counts the bounces of Category that the decision used, the
	// events about one sent message once (for soft: those in the window);
	// FirstBounce and LastBounce are the earliest and latest of their
	// dates, in UTC.
	Bounces     int
	FirstBounce time.Time
	LastBounce  time.Time
	// Permanent is the latest event's Permanent: a permanent failure
	// whose reason nothing told.
	Permanent bool
	// byPermanent is set on a soft entry that only the permanent rule
	// suppresses (Policy.PermanentThreshold), for Why's rule.
	byPermanent bool
}

// Query filters the lists. The zero value, and a nil pointer, select all.
type Query struct {
	// Since keeps the entries whose LastBounce is at or after it.
	Since time.Time
	// Categories keeps the entries of these categories; empty keeps all.
	Categories []classify.Category
}

func (q *Query) keep(e Entry) bool {
	if q == nil {
		return true
	}
	if !q.Since.IsZero() && e.LastBounce.Before(q.Since) {
		return false
	}
	if len(q.Categories) == 0 {
		return true
	}
	for _, c := range q.Categories {
		if c == e.Category {
			return true
		}
	}
	return false
}

// Lists is the outcome of a Policy over a history.
type Lists struct {
	// Suppressed are the addresses to suppress, sorted by address.
	Suppressed []Entry
	// Policy are the addresses with policy events, suppressed or not,
	// sorted by address: the report of what the sender should fix.
	Policy []Entry
	// Now is the moment the decision was made for (Policy.Now or the
	// latest event's date).
	Now time.Time
}

// suppressOrder is the precedence when one address qualifies under several
// categories: the entry shows the first that applies.
var suppressOrder = []classify.Category{
	classify.CategoryComplaint,
	classify.CategoryHard,
	classify.CategorySoft,
	classify.CategoryPolicy,
}

// Decide applies p to events (addresses as Record stores them) and returns
// the entries that q keeps. It is deterministic: the same events give the
// same lists, in any order.
func Decide(events []Event, p *Policy, q *Query) Lists {
	pol := p.withDefaults()
	now := pol.Now.UTC()
	if pol.Now.IsZero() {
		// The latest failure, not the latest message: a later auto-reply
		// or delivery notice must not age soft bounces out.
		for _, e := range events {
			if e.Category != classify.CategoryNone && e.Date.After(now) {
				now = e.Date.UTC()
			}
		}
	}
	windowStart := now.Add(-pol.SoftWindow)

	byAddr := make(map[string]map[classify.Category][]Event)
	for _, e := range events {
		if e.Date.After(now) || e.Category == classify.CategoryNone {
			continue
		}
		c := e.Category
		if c == "" {
			c = e.Reason.Category()
		}
		if c == classify.CategorySoft && !e.Date.After(windowStart) {
			continue // aged out
		}
		m := byAddr[e.Address]
		if m == nil {
			m = make(map[classify.Category][]Event)
			byAddr[e.Address] = m
		}
		m[c] = append(m[c], e)
	}

	lists := Lists{Now: now}
	for addr, m := range byAddr {
		for _, c := range suppressOrder {
			evs := m[c]
			if len(evs) == 0 || !pol.suppresses(c, evs) {
				continue
			}
			e := entry(addr, c, evs)
			e.byPermanent = c == classify.CategorySoft && !pol.softCountSuppresses(evs)
			if q.keep(e) {
				lists.Suppressed = append(lists.Suppressed, e)
			}
			break
		}
		if evs := m[classify.CategoryPolicy]; len(evs) > 0 {
			if e := entry(addr, classify.CategoryPolicy, evs); q.keep(e) {
				lists.Policy = append(lists.Policy, e)
			}
		}
	}
	sortEntries(lists.Suppressed)
	sortEntries(lists.Policy)
	return lists
}

// suppresses reports whether evs, the events of category c in the window,
// suppress their address.
func (p Policy) suppresses(c classify.Category, evs []Event) bool {
	switch c {
	case classify.CategoryHard, classify.CategoryComplaint:
		return true
	case classify.CategoryPolicy:
		return p.SuppressPolicy
	case classify.CategorySoft:
		return p.softSuppresses(evs)
	}
	return false
}

// softSuppresses reports whether evs, soft events in the window, suppress
// their address: SoftThreshold of them on SoftDistinctDays days, or
// permanent ones on PermanentThreshold days.
func (p Policy) softSuppresses(evs []Event) bool {
	return p.permanentSuppresses(evs) || p.softCountSuppresses(evs)
}

// permanentSuppresses reports whether the permanent events of evs fall on
// PermanentThreshold different days (never when the rule is off).
func (p Policy) permanentSuppresses(evs []Event) bool {
	if p.PermanentThreshold <= 0 {
		return false
	}
	var perm []Event
	for _, e := range evs {
		if e.Permanent {
			perm = append(perm, e)
		}
	}
	_, days := sends(perm)
	return days >= p.PermanentThreshold
}

// softCountSuppresses reports whether evs suppress by the soft threshold
// alone, permanent or not.
func (p Policy) softCountSuppresses(evs []Event) bool {
	n, days := sends(evs)
	return n >= p.SoftThreshold && days >= p.SoftDistinctDays
}

// sends counts the messages sent that evs report as failed, and the UTC
// days they failed on: the notices about one original message (its
// MessageID) count once, on the day of the earliest. A message stuck in a
// queue draws a delay warning a day (Exim every 24 hours, Sendmail after 4
// hours, Exchange) and then its failure; counted one by one they would
// make one stuck send reach the soft threshold on their own. An event
// without a MessageID counts alone.
func sends(evs []Event) (n int, days int) {
	first := make(map[string]time.Time, len(evs))
	dayset := make(map[string]bool, len(evs))
	for _, e := range evs {
		if e.MessageID == "" {
			n++
			dayset[e.Date.UTC().Format(time.DateOnly)] = true
			continue
		}
		if d, ok := first[e.MessageID]; !ok || e.Date.Before(d) {
			first[e.MessageID] = e.Date
		}
	}
	n += len(first)
	for _, d := range first {
		dayset[d.UTC().Format(time.DateOnly)] = true
	}
	return n, len(dayset)
}

// entry builds the Entry of addr from its events of category c.
func entry(addr string, c classify.Category, evs []Event) Entry {
	latest := evs[0]
	first := evs[0].Date
	for _, e := range evs[1:] {
		if e.Date.Before(first) {
			first = e.Date
		}
		if laterEvent(e, latest) {
			latest = e
		}
	}
	bounces, _ := sends(evs)
	return Entry{
		Address:     addr,
		Category:    c,
		Reason:      latest.Reason,
		Status:      latest.Status,
		ReplyCode:   latest.ReplyCode,
		Diagnostic:  latest.Diagnostic,
		Bounces:     bounces,
		FirstBounce: first.UTC(),
		LastBounce:  latest.Date.UTC(),
		Permanent:   latest.Permanent,
	}
}

// laterEvent orders events by date and, on a tie, by content, so that the
// choice never depends on the order they were recorded in.
func laterEvent(a, b Event) bool {
	if !a.Date.Equal(b.Date) {
		return a.Date.After(b.Date)
	}
	ka := [...]string{string(a.Reason), a.Status, a.ReplyCode, a.Diagnostic}
	kb := [...]string{string(b.Reason), b.Status, b.ReplyCode, b.Diagnostic}
	for i := range ka {
		if ka[i] != kb[i] {
			return ka[i] > kb[i]
		}
	}
	return false
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Address != es[j].Address {
			return es[i].Address < es[j].Address
		}
		return es[i].Category < es[j].Category
	})
}

// NewlySuppressed returns the entries of after whose address is not in
// before: what a run added to the list.
func NewlySuppressed(before, after []Entry) []Entry {
	had := make(map[string]bool, len(before))
	for _, e := range before {
		had[e.Address] = true
	}
	var out []Entry
	for _, e := range after {
		if !had[e.Address] {
			out = append(out, e)
		}
	}
	return out
}

// Events returns every recorded event, ordered by address, date and the
// order of recording.
func (db *DB) Events(ctx context.Context) ([]Event, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT address, category, reason, status, reply_code, diagnostic, date, original_message_id, source, permanent
		 FROM events ORDER BY address, date, id`)
	if err != nil {
		return nil, db.wrapErr("events", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e        Event
			cat, rsn string
			date     int64
			perm     int
		)
		if err := rows.Scan(&e.Address, &cat, &rsn, &e.Status, &e.ReplyCode, &e.Diagnostic,
			&date, &e.MessageID, &e.Source, &perm); err != nil {
			return nil, db.wrapErr("events", err)
		}
		e.Category = classify.Category(cat)
		e.Reason = classify.Reason(rsn)
		e.Date = time.Unix(date, 0).UTC()
		e.Permanent = perm != 0
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("events", err)
	}
	return out, nil
}

// Lists applies p to the whole recorded history and returns the entries
// that q keeps (see Decide), with the allows and the pruned summaries of
// the state (history.go): an allowed address's events up to its allow do
// not count, and a suppression whose events were pruned stands.
func (db *DB) Lists(ctx context.Context, p *Policy, q *Query) (Lists, error) {
	evs, err := db.Events(ctx)
	if err != nil {
		return Lists{}, err
	}
	cut, err := db.cutoffs(ctx)
	if err != nil {
		return Lists{}, err
	}
	sums, err := db.summaries(ctx, db.read, nil)
	if err != nil {
		return Lists{}, err
	}
	return decide(evs, cut, sums, p, q), nil
}

// Counts summarises the history.
type Counts struct {
	Messages   int                       // messages recorded
	ByOutcome  map[Outcome]int           // messages by outcome
	ByCategory map[classify.Category]int // events by category
}

// Counts returns the totals of the recorded history.
func (db *DB) Counts(ctx context.Context) (Counts, error) {
	c := Counts{ByOutcome: map[Outcome]int{}, ByCategory: map[classify.Category]int{}}
	rows, err := db.read.QueryContext(ctx, "SELECT outcome, count(*) FROM messages GROUP BY outcome")
	if err != nil {
		return Counts{}, db.wrapErr("counts", err)
	}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return Counts{}, db.wrapErr("counts", err)
		}
		c.ByOutcome[Outcome(o)] = n
		c.Messages += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Counts{}, db.wrapErr("counts", err)
	}
	rows, err = db.read.QueryContext(ctx, "SELECT category, count(*) FROM events GROUP BY category")
	if err != nil {
		return Counts{}, db.wrapErr("counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cat string
		var n int
		if err := rows.Scan(&cat, &n); err != nil {
			return Counts{}, db.wrapErr("counts", err)
		}
		c.ByCategory[classify.Category(cat)] = n
	}
	if err := rows.Err(); err != nil {
		return Counts{}, fmt.Errorf("suppress: counts: %w", err)
	}
	return c, nil
}

// WithPolicy returns the suppressed addresses plus those of the policy
// report that are not suppressed: the combined list an export of the
// policy category writes (WriteCSV sorts it by address).
func (l Lists) WithPolicy() []Entry {
	entries := slices.Clip(l.Suppressed)
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		listed[e.Address] = true
	}
	for _, e := range l.Policy {
		if !listed[e.Address] {
			entries = append(entries, e)
		}
	}
	return entries
}
