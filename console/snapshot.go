package console

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Overview spans.
const (
	// ChartDays is how many days the overview's charts cover, back from
	// the latest bounce.
	ChartDays = 90
	// BlockDays is the span of "this week" of the policy blocks table,
	// back from the latest bounce.
	BlockDays = 7
	// TopDomains is how many receiving domains the policy blocks table
	// shows; the rest are summed in one row.
	TopDomains = 10
	// DefaultRefresh is how often at most the console asks the state
	// whether it changed (Options.Refresh).
	DefaultRefresh = 2 * time.Second
)

// chartCategories are the categories the charts show, in stacking order.
var chartCategories = []classify.Category{
	classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint,
}

// snapshot is what the pages show of one version of the history, computed
// once per version: the suppression lists under the policy (which take the
// whole history) and the overview's aggregates. Pages render from it in
// milliseconds however large the history.
type snapshot struct {
	fp        suppress.Fingerprint
	lists     suppress.Lists
	events    int
	days      []dayCount  // ChartDays days, oldest first
	sizes     []sizePoint // the list's size at the end of each day of days
	blocks    []domainRow // policy blocks of the last BlockDays days, by domain
	mailboxes []suppress.MailboxSummary
	reasons   []classify.Reason // the reasons of the suppressed entries, sorted
	pending   []suppress.PendingEntry
	// unverified are the latest failures recorded without proof that we
	// sent to their recipient (pipeline's proof), newest first, of
	// unverifiedTotal; they suppress nothing.
	unverified      []suppress.Event
	unverifiedTotal int
	// addresses are every address of the history, sorted: the search.
	addresses []string
	built     time.Duration // how long it took to compute
}

// dayCount is the bounces of one UTC day by category.
type dayCount struct {
	Day   time.Time
	Count map[classify.Category]int
	Total int
}

// sizePoint is the suppression list's size at the end of a day.
type sizePoint struct {
	Day  time.Time
	Size int
}

// domainRow is the policy blocks of one receiving domain.
type domainRow struct {
	Domain    string
	Blocks    int
	Addresses int
	Reasons   []reasonCount // most frequent first
}

// reasonCount is how often a reason was given.
type reasonCount struct {
	Reason classify.Reason
	Count  int
}

// snapshots keeps the latest snapshot and builds the next one when the
// state changed, in the background: a page shows the latest complete one
// and never waits for a rebuild, except the first. The console's own
// changes (an Allow, a Forget) are applied to the latest snapshot at once
// (lift), so that the page after one shows it without waiting; the
// aggregates (charts, counts) catch up when the rebuild ends.
type snapshots struct {
	db      *suppress.DB
	policy  *suppress.Policy
	refresh time.Duration

	mu       sync.Mutex
	cur      *snapshot
	gen      int           // bumped by lift
	curGen   int           // the gen cur is good for
	checked  time.Time     // last time the fingerprint was read
	building chan struct{} // closed when the running build ends; nil when none
	err      error         // the last build's error
}

func newSnapshots(db *suppress.DB, p *suppress.Policy, refresh time.Duration) *snapshots {
	return &snapshots{db: db, policy: p, refresh: refresh}
}

// lift applies the console's own change to the latest snapshot: addr
// (normalized) leaves the suppression and policy lists and the soft
// bounces under the threshold (an allow: its events up to now no longer
// count); forgotten, it also leaves the search and the unverified
// failures. A build that began before the change is not shown after it,
// and the next get starts a new one. Without a snapshot, the next get
// waits for a build that begins after the change.
func (s *snapshots) lift(addr string, forgotten bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.checked = time.Time{}
	if s.cur == nil {
		return
	}
	next := *s.cur
	other := func(e suppress.Entry) bool { return e.Address != addr }
	next.lists.Suppressed = keep(next.lists.Suppressed, other)
	next.lists.Policy = keep(next.lists.Policy, other)
	next.pending = keep(next.pending, func(e suppress.PendingEntry) bool { return e.Address != addr })
	next.reasons = entryReasons(next.lists)
	if forgotten {
		next.addresses = keep(next.addresses, func(a string) bool { return a != addr })
		n := len(next.unverified)
		next.unverified = keep(next.unverified, func(e suppress.Event) bool { return e.Address != addr })
		next.unverifiedTotal -= n - len(next.unverified)
	}
	s.cur, s.curGen = &next, s.gen
}

// keep returns the elements of xs that ok keeps, in a new slice (a
// snapshot's slices are shared with the pages that render it).
func keep[T any](xs []T, ok func(T) bool) []T {
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if ok(x) {
			out = append(out, x)
		}
	}
	return out
}

// usable returns cur when it may be shown. The caller holds mu.
func (s *snapshots) usable() *snapshot {
	if s.cur != nil && s.curGen == s.gen {
		return s.cur
	}
	return nil
}

// get returns the latest snapshot, starting a rebuild when the state
// changed since; it waits only when there is none that may be shown.
func (s *snapshots) get(ctx context.Context) (*snapshot, error) {
	s.mu.Lock()
	cur := s.usable()
	if cur != nil && time.Since(s.checked) < s.refresh {
		s.mu.Unlock()
		return cur, nil
	}
	s.checked = time.Now()
	s.mu.Unlock()
	if cur != nil {
		fp, err := s.db.Fingerprint(ctx)
		if err != nil {
			return nil, err
		}
		if cur.fp != fp {
			s.start()
		}
		return cur, nil
	}
	for {
		done := s.start()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.Lock()
		cur, err := s.usable(), s.err
		s.mu.Unlock()
		if cur != nil {
			return cur, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// start starts a build unless one runs, and returns the channel closed
// when the build ends.
func (s *snapshots) start() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.building != nil {
		return s.building
	}
	done := make(chan struct{})
	s.building = done
	gen := s.gen
	go func() {
		snap, err := build(context.Background(), s.db, s.policy)
		s.finish(snap, gen, err)
		close(done)
	}()
	return done
}

// finish adopts the snapshot of a build that began at gen, unless a
// change made since (lift) left a snapshot that shows it: the build read
// the state before the change and would bring the lifted address back.
func (s *snapshots) finish(snap *snapshot, gen int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && (gen == s.gen || s.usable() == nil) {
		s.cur, s.curGen = snap, gen
		if gen != s.gen {
			s.checked = time.Time{} // stale: the next get rebuilds
		}
	}
	s.err = err
	s.building = nil
}

// build computes a snapshot of the history.
func build(ctx context.Context, db *suppress.DB, p *suppress.Policy) (*snapshot, error) {
	start := time.Now()
	fp, err := db.Fingerprint(ctx)
	if err != nil {
		return nil, err
	}
	h, err := db.History(ctx, p)
	if err != nil {
		return nil, err
	}
	events := h.Events
	mailboxes, err := db.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{fp: fp, events: len(events), mailboxes: mailboxes, lists: h.Lists, pending: h.Pending}
	end := dayOf(snap.lists.Now)
	first := end.AddDate(0, 0, -(ChartDays - 1))
	snap.days = dailyCounts(events, first, end)
	at := make([]time.Time, len(snap.days))
	for i, d := range snap.days {
		at[i] = d.Day.Add(24*time.Hour - time.Second)
	}
	if !snap.lists.Now.IsZero() {
		at[len(at)-1] = snap.lists.Now // the last day ends at the latest bounce
	}
	for i, n := range h.SizesOver(at) {
		snap.sizes = append(snap.sizes, sizePoint{Day: snap.days[i].Day, Size: n})
	}
	snap.blocks = policyBlocks(events, snap.lists.Now.Add(-BlockDays*24*time.Hour), snap.lists.Now)
	snap.reasons = entryReasons(snap.lists)
	snap.addresses = addressesOf(events)
	if snap.unverified, snap.unverifiedTotal, err = db.Unverified(ctx, MaxPageSize); err != nil {
		return nil, err
	}
	snap.built = time.Since(start)
	return snap, nil
}

// dayOf returns the start of t's UTC day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dailyCounts counts the failure events of each UTC day from first to end
// by category.
func dailyCounts(events []suppress.Event, first, end time.Time) []dayCount {
	n := int(end.Sub(first)/(24*time.Hour)) + 1
	days := make([]dayCount, n)
	for i := range days {
		days[i] = dayCount{Day: first.AddDate(0, 0, i), Count: map[classify.Category]int{}}
	}
	for _, e := range events {
		i := int(dayOf(e.Date).Sub(first) / (24 * time.Hour))
		if i < 0 || i >= n || e.Category == classify.CategoryNone || e.Category == "" {
			continue
		}
		days[i].Count[e.Category]++
		days[i].Total++
	}
	return days
}

// policyBlocks sums the policy events dated in (from, to] by the
// recipient's domain, with their reasons.
func policyBlocks(events []suppress.Event, from, to time.Time) []domainRow {
	type acc struct {
		blocks  int
		addrs   map[string]bool
		reasons map[classify.Reason]int
	}
	by := map[string]*acc{}
	for _, e := range events {
		if e.Category != classify.CategoryPolicy || !e.Date.After(from) || e.Date.After(to) {
			continue
		}
		_, domain, _ := strings.Cut(e.Address, "@")
		a := by[domain]
		if a == nil {
			a = &acc{addrs: map[string]bool{}, reasons: map[classify.Reason]int{}}
			by[domain] = a
		}
		a.blocks++
		a.addrs[e.Address] = true
		a.reasons[e.Reason]++
	}
	rows := make([]domainRow, 0, len(by))
	for d, a := range by {
		row := domainRow{Domain: d, Blocks: a.blocks, Addresses: len(a.addrs)}
		for r, n := range a.reasons {
			row.Reasons = append(row.Reasons, reasonCount{Reason: r, Count: n})
		}
		sort.Slice(row.Reasons, func(i, j int) bool {
			if row.Reasons[i].Count != row.Reasons[j].Count {
				return row.Reasons[i].Count > row.Reasons[j].Count
			}
			return row.Reasons[i].Reason < row.Reasons[j].Reason
		})
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Blocks != rows[j].Blocks {
			return rows[i].Blocks > rows[j].Blocks
		}
		return rows[i].Domain < rows[j].Domain
	})
	return rows
}

// entryReasons returns the reasons of the listed entries, sorted, for the
// list's filter.
func entryReasons(l suppress.Lists) []classify.Reason {
	seen := map[classify.Reason]bool{}
	for _, e := range l.WithPolicy() {
		seen[e.Reason] = true
	}
	out := make([]classify.Reason, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// addressesOf returns every address of events (sorted by address, as
// DB.Events returns them), once.
func addressesOf(events []suppress.Event) []string {
	var addrs []string
	for i, e := range events {
		if i == 0 || e.Address != events[i-1].Address {
			addrs = append(addrs, e.Address)
		}
	}
	if !sort.StringsAreSorted(addrs) {
		sort.Strings(addrs)
		addrs = slices.Compact(addrs)
	}
	return addrs
}
