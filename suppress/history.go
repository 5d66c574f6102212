package suppress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/user"
	"sort"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// The operator's questions (issue 19) go through this one API over the
// state, whatever asks: the CLI (bouncer why, allow, forget, stats, prune,
// export --category pending, push --status) and the console.
//
//   - Why: an address's history with the evidence of each event, whether it
//     is suppressed, by which rule, since when, and its allow records.
//   - Allow: lift a suppression, recorded with who, when and why.
//   - Forget: erase every trace of an address (forget.go).
//   - Stats: the history by day, category, reason and domain (stats.go).
//   - Prune: drop old events, keeping who is suppressed (prune.go).
//   - Pending, OutboxStatus: soft bounces under the threshold, and the push
//     queues (pending.go).

// historySchema is the migration step of this file (see migrations in
// db.go): the evidence of each event, where each message was read and
// where it went, the allow records and the summaries of pruned
// suppressions. Existing rows get empty evidence.
const historySchema = `ALTER TABLE events ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN recipient_from TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN proof TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN location TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN placed TEXT NOT NULL DEFAULT '';
	CREATE TABLE allows (
		id         INTEGER PRIMARY KEY,
		address    TEXT    NOT NULL, -- normalised
		reason     TEXT    NOT NULL,
		who        TEXT    NOT NULL,
		created    INTEGER NOT NULL, -- Unix seconds
		until_date INTEGER NOT NULL  -- Unix seconds; 0: none
	);
	CREATE INDEX allows_address ON allows (address, created);
	CREATE INDEX allows_created ON allows (created);
	CREATE TABLE pruned (
		address    TEXT    PRIMARY KEY, -- normalised
		category   TEXT    NOT NULL,
		reason     TEXT    NOT NULL,
		status     TEXT    NOT NULL,
		reply_code TEXT    NOT NULL,
		diagnostic TEXT    NOT NULL,
		first_date INTEGER NOT NULL, -- Unix seconds
		last_date  INTEGER NOT NULL,
		bounces    INTEGER NOT NULL, -- pruned events of category
		events     INTEGER NOT NULL, -- pruned events of any category
		pruned_at  INTEGER NOT NULL
	);`

// MaxAllowReason is the most bytes of an allow's reason that are kept.
const MaxAllowReason = MaxStoredField

// ErrNoReason reports an Allow without a reason: who lifts a suppression
// must say why.
var ErrNoReason = errors.New("suppress: an allow needs a reason")

// RuleID names the rule of the policy that suppressed an address.
type RuleID string

const (
	// RuleHard: a hard bounce suppresses at once.
	RuleHard RuleID = "hard"
	// RuleComplaint: a complaint suppresses at once.
	RuleComplaint RuleID = "complaint"
	// RuleSoftThreshold: soft bounces reached the threshold (N on N days
	// within the window).
	RuleSoftThreshold RuleID = "soft-threshold"
	// RulePolicy: a policy block suppresses (Policy.SuppressPolicy).
	RulePolicy RuleID = "policy"
	// RulePermanentThreshold: soft failures reported as permanent with
	// no reason told, on PermanentThreshold different days within
	// SoftWindow (Event.Permanent).
	RulePermanentThreshold RuleID = "permanent-threshold"
)

// Rule says which rule of p puts an entry of category c on the list, as an
// identifier and a sentence.
func (p *Policy) Rule(c classify.Category) (RuleID, string) {
	pol := p.withDefaults()
	switch c {
	case classify.CategoryHard:
		return RuleHard, "a hard bounce suppresses at once, for good"
	case classify.CategoryComplaint:
		return RuleComplaint, "a complaint suppresses at once, for good"
	case classify.CategorySoft:
		return RuleSoftThreshold, fmt.Sprintf("%d soft bounces on %d different days within %s suppress (the notices about one sent message count once)",
			pol.SoftThreshold, pol.SoftDistinctDays, FormatDuration(pol.SoftWindow))
	case classify.CategoryPolicy:
		return RulePolicy, "a policy block suppresses at once (--suppress-policy)"
	}
	return "", ""
}

// ruleOf says which rule of p put e on the list.
func (p *Policy) ruleOf(e Entry) (RuleID, string) {
	if e.Category == classify.CategorySoft && e.byPermanent {
		pol := p.withDefaults()
		return RulePermanentThreshold, fmt.Sprintf("permanent failures with no reason told on %d different days within %s suppress",
			pol.PermanentThreshold, FormatDuration(pol.SoftWindow))
	}
	return p.Rule(e.Category)
}

// FormatDuration writes d in days when it is a whole number of days
// ("30d"), else as time.Duration does.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// AllowRequest lifts the suppression of addresses.
type AllowRequest struct {
	// Addresses to allow; each is normalised (NormalizeAddress).
	Addresses []string
	// Reason says why; required.
	Reason string
	// By is who allows; default the OS user running the process.
	By string
	// At is when; default the clock. Events dated at or before it no
	// longer count for the address.
	At time.Time
	// Until, if later than At, keeps the address allowed to that date:
	// events dated up to it do not count either.
	Until time.Time
}

// Allow is one allow record.
type Allow struct {
	Address string    `json:"address"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Until   time.Time `json:"until,omitzero"`
}

// cutoff is the date up to which the allow makes events not count.
func (a Allow) cutoff() time.Time {
	if a.Until.After(a.At) {
		return a.Until
	}
	return a.At
}

// Allow records an allow for each address of r in one transaction: the
// addresses leave every list from the next write (Lists), and stay off
// across reruns over the same messages, since every event dated at or
// before r.At (or r.Until, when later) no longer counts for them. A new
// bounce dated after that counts as any other: a hard bounce or a
// complaint suppresses again. It returns the records written.
//
// Allow takes no run lock: it is one short write transaction, safe beside
// a running bouncer run.
func (db *DB) Allow(ctx context.Context, r AllowRequest) ([]Allow, error) {
	reason := strings.TrimSpace(clean(r.Reason, MaxAllowReason))
	if reason == "" {
		return nil, ErrNoReason
	}
	by := r.By
	if by == "" {
		by = currentUser()
	}
	at := r.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Second)
	out := make([]Allow, 0, len(r.Addresses))
	for _, a := range r.Addresses {
		addr, err := NormalizeAddress(a)
		if err != nil {
			return nil, err
		}
		out = append(out, Allow{Address: addr, Reason: reason, By: clean(by, MaxStoredField), At: at, Until: r.Until.UTC().Truncate(time.Second)})
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, db.wrapErr("allow", err)
	}
	defer tx.Rollback()
	for _, a := range out {
		var until int64
		if !a.Until.IsZero() {
			until = a.Until.Unix()
		}
		if _, err := tx.ExecContext(ctx, db.d.bind(
			`INSERT INTO allows (address, reason, who, created, until_date) VALUES (?, ?, ?, ?, ?)`),
			a.Address, a.Reason, a.By, a.At.Unix(), until); err != nil {
			return nil, db.wrapErr("allow", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, db.wrapErr("allow", err)
	}
	return out, nil
}

// currentUser names the OS user of the process, for an allow's By.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// AllowsSince returns the allow records made at or after t, oldest first:
// what a push target has to hear about (a lift).
func (db *DB) AllowsSince(ctx context.Context, t time.Time) ([]Allow, error) {
	return db.queryAllows(ctx, `SELECT address, reason, who, created, until_date FROM allows
		WHERE created >= ? ORDER BY created, id`, t.Unix())
}

// allowsOf returns the allow records of addresses, oldest first.
func (db *DB) allowsOf(ctx context.Context, addrs []string) ([]Allow, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	args := make([]any, len(addrs))
	for i, a := range addrs {
		args[i] = a
	}
	return db.queryAllows(ctx, `SELECT address, reason, who, created, until_date FROM allows
		WHERE address IN (?`+strings.Repeat(", ?", len(addrs)-1)+`) ORDER BY created, id`, args...)
}

func (db *DB) queryAllows(ctx context.Context, q string, args ...any) ([]Allow, error) {
	rows, err := db.read.QueryContext(ctx, db.d.bind(q), args...)
	if err != nil {
		return nil, db.wrapErr("allows", err)
	}
	defer rows.Close()
	var out []Allow
	for rows.Next() {
		var (
			a            Allow
			created, unt int64
		)
		if err := rows.Scan(&a.Address, &a.Reason, &a.By, &created, &unt); err != nil {
			return nil, db.wrapErr("allows", err)
		}
		a.At = time.Unix(created, 0).UTC()
		if unt != 0 {
			a.Until = time.Unix(unt, 0).UTC()
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("allows", err)
	}
	return out, nil
}

// cutoffs returns, per allowed address, the date up to which its events do
// not count (the latest of its allows).
func (db *DB) cutoffs(ctx context.Context) (map[string]time.Time, error) {
	all, err := db.queryAllows(ctx, `SELECT address, reason, who, created, until_date FROM allows`)
	if err != nil {
		return nil, err
	}
	return cutoffMap(all), nil
}

func cutoffMap(all []Allow) map[string]time.Time {
	m := make(map[string]time.Time, len(all))
	for _, a := range all {
		if c := a.cutoff(); c.After(m[a.Address]) {
			m[a.Address] = c
		}
	}
	return m
}

// Summary is what Prune keeps of the pruned events of a suppressed
// address: its suppressing category, the latest reason, and the dates and
// count of those events.
type Summary struct {
	Address     string            `json:"address"`
	Category    classify.Category `json:"category"`
	Reason      classify.Reason   `json:"reason"`
	Status      string            `json:"status,omitempty"`
	ReplyCode   string            `json:"reply_code,omitempty"`
	Diagnostic  string            `json:"diagnostic,omitempty"`
	FirstBounce time.Time         `json:"first_bounce"`
	LastBounce  time.Time         `json:"last_bounce"`
	Bounces     int               `json:"bounces"` // pruned events of Category
	Events      int               `json:"events"`  // pruned events of any category
	PrunedAt    time.Time         `json:"pruned_at"`
}

func (s Summary) entry() Entry {
	return Entry{Address: s.Address, Category: s.Category, Reason: s.Reason, Status: s.Status,
		ReplyCode: s.ReplyCode, Diagnostic: s.Diagnostic, Bounces: s.Bounces,
		FirstBounce: s.FirstBounce, LastBounce: s.LastBounce}
}

const summarySelect = `SELECT address, category, reason, status, reply_code, diagnostic,
	first_date, last_date, bounces, events, pruned_at FROM pruned`

// summaries returns the summaries of pruned suppressions, of addrs or of
// every address when addrs is nil.
func (db *DB) summaries(ctx context.Context, q rowsQuerier, addrs []string) (map[string]Summary, error) {
	query := summarySelect
	var args []any
	if addrs != nil {
		if len(addrs) == 0 {
			return map[string]Summary{}, nil
		}
		query += ` WHERE address IN (?` + strings.Repeat(", ?", len(addrs)-1) + `)`
		for _, a := range addrs {
			args = append(args, a)
		}
	}
	rows, err := q.QueryContext(ctx, db.d.bind(query), args...)
	if err != nil {
		return nil, db.wrapErr("summaries", err)
	}
	defer rows.Close()
	out := make(map[string]Summary)
	for rows.Next() {
		var (
			s                 Summary
			cat, rsn          string
			first, last, when int64
		)
		if err := rows.Scan(&s.Address, &cat, &rsn, &s.Status, &s.ReplyCode, &s.Diagnostic,
			&first, &last, &s.Bounces, &s.Events, &when); err != nil {
			return nil, db.wrapErr("summaries", err)
		}
		s.Category, s.Reason = classify.Category(cat), classify.Reason(rsn)
		s.FirstBounce, s.LastBounce = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
		s.PrunedAt = time.Unix(when, 0).UTC()
		out[s.Address] = s
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("summaries", err)
	}
	return out, nil
}

// rowsQuerier runs queries: the read pool, or a transaction.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// decide is Decide over a history with its allows and the summaries of
// pruned events: the one decision of the lists, Why and Prune. Now is
// taken from every failure, allowed or not, so that an allow changes no
// one else's decision; then the events of an allowed address dated at or
// before its cutoff are left out, and the summaries of pruned events
// count as the entries they were.
func decide(events []Event, cut map[string]time.Time, sums map[string]Summary, p *Policy, q *Query) Lists {
	pol := p.withDefaults()
	if pol.Now.IsZero() {
		pol.Now = latestFailure(events, sums)
	}
	kept := events
	if len(cut) > 0 {
		kept = make([]Event, 0, len(events))
		for _, e := range events {
			if c, ok := cut[e.Address]; ok && !e.Date.After(c) {
				continue
			}
			kept = append(kept, e)
		}
	}
	lists := Decide(kept, &pol, nil)
	if len(sums) > 0 {
		lists.Suppressed = mergeSummaries(lists.Suppressed, sums, cut, &pol)
	}
	lists.Suppressed = keepQuery(lists.Suppressed, q)
	lists.Policy = keepQuery(lists.Policy, q)
	return lists
}

// latestFailure is the date of the latest failure of events and
// summaries: the default Now.
func latestFailure(events []Event, sums map[string]Summary) time.Time {
	var now time.Time
	for _, e := range events {
		if e.Category != classify.CategoryNone && e.Date.After(now) {
			now = e.Date.UTC()
		}
	}
	for _, s := range sums {
		if s.LastBounce.After(now) {
			now = s.LastBounce
		}
	}
	return now
}

// mergeSummaries adds the summaries of pruned suppressions to the entries
// decided from the events that remain: an address with none gets its
// summary's entry; one with an entry of the same category gets the pruned
// events' count and first date; the category that comes first in
// suppressOrder wins. A summary dated at or before an allow's cutoff, or
// after now, or of a category the policy does not suppress at once (soft;
// policy without SuppressPolicy) does not count.
func mergeSummaries(entries []Entry, sums map[string]Summary, cut map[string]time.Time, pol *Policy) []Entry {
	at := make(map[string]int, len(entries))
	for i, e := range entries {
		at[e.Address] = i
	}
	for addr, s := range sums {
		if c, ok := cut[addr]; ok && !s.LastBounce.After(c) {
			continue
		}
		if s.LastBounce.After(pol.Now) || !pol.suppresses(s.Category, []Event{{}}) {
			continue
		}
		i, ok := at[addr]
		switch {
		case !ok:
			entries = append(entries, s.entry())
		case entries[i].Category == s.Category:
			e := &entries[i]
			e.Bounces += s.Bounces
			if s.FirstBounce.Before(e.FirstBounce) {
				e.FirstBounce = s.FirstBounce
			}
		case categoryRank(s.Category) < categoryRank(entries[i].Category):
			entries[i] = s.entry()
		}
	}
	sortEntries(entries)
	return entries
}

func keepQuery(es []Entry, q *Query) []Entry {
	if q == nil {
		return es
	}
	out := es[:0:0]
	for _, e := range es {
		if q.keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// HistoryEvent is one recorded event of an address, with its evidence and
// where its message came from and went.
type HistoryEvent struct {
	Date          time.Time         `json:"date"`
	Category      classify.Category `json:"category"`
	Reason        classify.Reason   `json:"reason"`
	Status        string            `json:"status"`
	ReplyCode     string            `json:"reply_code,omitempty"`
	Diagnostic    string            `json:"diagnostic"`
	Evidence      string            `json:"evidence"`
	RecipientFrom string            `json:"recipient_from"`
	Proof         string            `json:"proof,omitempty"`
	// Permanent marks a failure reported as permanent whose reason
	// nothing told (Event.Permanent).
	Permanent bool `json:"permanent,omitempty"`
	// Counted is false for an event the decision leaves out: dated at or
	// before an allow's cutoff.
	Counted bool `json:"counted"`
	// BounceMessageID is the bounce's own Message-ID, OriginalMessageID
	// that of the message that bounced.
	BounceMessageID   string      `json:"bounce_message_id"`
	OriginalMessageID string      `json:"original_message_id"`
	Source            EventSource `json:"source"`
}

// EventSource says where the message of an event came from and went.
type EventSource struct {
	Detector    string  `json:"detector"` // what read the event: the dsn vendor/detector
	Origin      string  `json:"origin"`   // Message.Source: "imap", "maildir:/path"
	Mailbox     string  `json:"mailbox,omitempty"`
	UIDValidity uint32  `json:"uidvalidity,omitempty"`
	UID         uint32  `json:"uid,omitempty"`
	Location    string  `json:"location,omitempty"` // a file path, "UID 42"
	Placed      string  `json:"placed,omitempty"`   // PlacedProcessed, PlacedUnrecognized
	Outcome     Outcome `json:"outcome"`
	Hash        string  `json:"hash"`
}

// AddressHistory is the answer to "why is this address (not) suppressed".
type AddressHistory struct {
	// Address as asked, and Normalized as the state keeps it.
	Address    string `json:"address"`
	Normalized string `json:"normalized"`
	// Known is false when the state holds nothing about the address.
	Known bool `json:"known"`
	// Suppressed says whether the address is on the list now; Category,
	// Reason, Rule and Since (its first counted bounce of Category) say
	// why, LastBounce and Bounces what the decision used.
	Suppressed bool              `json:"suppressed"`
	Category   classify.Category `json:"category,omitempty"`
	Reason     classify.Reason   `json:"reason,omitempty"`
	Rule       RuleID            `json:"rule,omitempty"`
	RuleText   string            `json:"rule_text,omitempty"`
	Since      time.Time         `json:"since,omitzero"`
	LastBounce time.Time         `json:"last_bounce,omitzero"`
	Bounces    int               `json:"bounces,omitempty"`
	// Pending is set for an address with soft bounces under the
	// threshold, not suppressed.
	Pending *PendingEntry `json:"pending,omitempty"`
	// Allowed is true when an allow lifted the address's suppression and
	// no bounce since has put it back; Allows are its allow records.
	Allowed bool    `json:"allowed"`
	Allows  []Allow `json:"allows,omitempty"`
	// Pruned summarises events removed by Prune, when there were.
	Pruned *Summary `json:"pruned,omitempty"`
	// Events are the recorded events, oldest first.
	Events []HistoryEvent `json:"events"`
	// Now is the moment the decision was made for.
	Now time.Time `json:"now"`
}

// Why returns the history of each address, in the order asked: its events
// with their evidence, whether p (nil: the defaults) suppresses it now and
// by which rule, its allows and any pruned summary. An address the state
// knows nothing of has Known false; one that is not an address at all is
// an error wrapping ErrBadAddress. It reads the events of the addresses
// asked (by index) and the date of the latest failure, not the whole
// history: the decision for one address depends on nothing else.
func (db *DB) Why(ctx context.Context, p *Policy, addrs ...string) ([]AddressHistory, error) {
	norm := make([]string, len(addrs))
	for i, a := range addrs {
		n, err := NormalizeAddress(a)
		if err != nil {
			return nil, err
		}
		norm[i] = n
	}
	pol := p.withDefaults()
	if pol.Now.IsZero() {
		now, err := db.latestFailure(ctx)
		if err != nil {
			return nil, err
		}
		pol.Now = now
	}
	allows, err := db.allowsOf(ctx, norm)
	if err != nil {
		return nil, err
	}
	cut := cutoffMap(allows)
	sums, err := db.summaries(ctx, db.read, norm)
	if err != nil {
		return nil, err
	}
	out := make([]AddressHistory, len(addrs))
	var events []Event
	for i, addr := range norm {
		h := &out[i]
		h.Address, h.Normalized = addrs[i], addr
		if h.Events, err = db.historyEvents(ctx, addr, cut[addr]); err != nil {
			return nil, err
		}
		for _, e := range h.Events {
			events = append(events, Event{Address: addr, Category: e.Category, Reason: e.Reason, Status: e.Status,
				ReplyCode: e.ReplyCode, Diagnostic: e.Diagnostic, Date: e.Date, Permanent: e.Permanent})
		}
		for _, a := range allows {
			if a.Address == addr {
				h.Allows = append(h.Allows, a)
			}
		}
		if s, ok := sums[addr]; ok {
			h.Pruned = &s
		}
		h.Known = len(h.Events) > 0 || len(h.Allows) > 0 || h.Pruned != nil
	}
	lists := decide(events, cut, sums, &pol, nil)
	pending := pendingOf(events, cut, lists, &pol)
	for i := range out {
		h := &out[i]
		addr := h.Normalized
		h.Now = lists.Now
		if e, ok := findEntry(lists.Suppressed, addr); ok {
			h.Suppressed, h.Category, h.Reason = true, e.Category, e.Reason
			h.Rule, h.RuleText = pol.ruleOf(e)
			h.Since, h.LastBounce, h.Bounces = e.FirstBounce, e.LastBounce, e.Bounces
		}
		if pe, ok := pending[addr]; ok {
			h.Pending = &pe
		}
		h.Allowed = len(h.Allows) > 0 && !h.Suppressed && allowMattered(events, sums, addr, &pol)
	}
	return out, nil
}

// latestFailure is the date of the latest failure of the history, pruned
// summaries included: the default Now of a decision (zero for an empty
// history).
func (db *DB) latestFailure(ctx context.Context) (time.Time, error) {
	var ev, sum int64
	err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(date), 0) FROM events WHERE category != 'none'`).Scan(&ev)
	if err == nil {
		err = db.read.QueryRowContext(ctx, `SELECT coalesce(max(last_date), 0) FROM pruned`).Scan(&sum)
	}
	if err != nil {
		return time.Time{}, db.wrapErr("why", err)
	}
	if n := max(ev, sum); n != 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, nil
}

// allowMattered reports whether addr would be suppressed without its
// allows: what Allowed means.
func allowMattered(all []Event, sums map[string]Summary, addr string, p *Policy) bool {
	var evs []Event
	for _, e := range all {
		if e.Address == addr {
			evs = append(evs, e)
		}
	}
	var one map[string]Summary
	if s, ok := sums[addr]; ok {
		one = map[string]Summary{addr: s}
	}
	pol := p.withDefaults()
	if pol.Now.IsZero() {
		pol.Now = latestFailure(all, sums)
	}
	_, ok := findEntry(decide(evs, nil, one, &pol, nil).Suppressed, addr)
	return ok
}

func findEntry(es []Entry, addr string) (Entry, bool) {
	i := sort.Search(len(es), func(i int) bool { return es[i].Address >= addr })
	if i < len(es) && es[i].Address == addr {
		return es[i], true
	}
	return Entry{}, false
}

// historyEvents reads the events of addr with their messages, oldest
// first; cutoff is its allows' (zero: none).
func (db *DB) historyEvents(ctx context.Context, addr string, cutoff time.Time) ([]HistoryEvent, error) {
	rows, err := db.read.QueryContext(ctx, db.d.bind(
		`SELECT e.date, e.category, e.reason, e.status, e.reply_code, e.diagnostic, e.evidence, e.recipient_from,
			e.proof, e.permanent, e.original_message_id, e.source, m.message_id, m.source, m.mailbox, m.uidvalidity, m.uid,
			m.location, m.placed, m.outcome, m.hash
		 FROM events e JOIN messages m ON m.id = e.message WHERE e.address = ? ORDER BY e.date, e.id`), addr)
	if err != nil {
		return nil, db.wrapErr("why", err)
	}
	defer rows.Close()
	var out []HistoryEvent
	for rows.Next() {
		var (
			h                 HistoryEvent
			date, uidv, uid   int64
			cat, rsn, outcome string
			perm              int
		)
		if err := rows.Scan(&date, &cat, &rsn, &h.Status, &h.ReplyCode, &h.Diagnostic, &h.Evidence, &h.RecipientFrom,
			&h.Proof, &perm, &h.OriginalMessageID, &h.Source.Detector, &h.BounceMessageID, &h.Source.Origin,
			&h.Source.Mailbox, &uidv, &uid, &h.Source.Location, &h.Source.Placed, &outcome, &h.Source.Hash); err != nil {
			return nil, db.wrapErr("why", err)
		}
		h.Date = time.Unix(date, 0).UTC()
		h.Category, h.Reason = classify.Category(cat), classify.Reason(rsn)
		h.Permanent = perm != 0
		h.Source.UIDValidity, h.Source.UID, h.Source.Outcome = uint32(uidv), uint32(uid), Outcome(outcome)
		h.Counted = cutoff.IsZero() || h.Date.After(cutoff)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("why", err)
	}
	return out, nil
}
