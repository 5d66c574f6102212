package suppress

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// StatsBy is how Stats groups the events of its Groups table.
type StatsBy string

const (
	StatsByCategory StatsBy = "category" // the default
	StatsByDay      StatsBy = "day"      // UTC calendar day of the bounce
	StatsByReason   StatsBy = "reason"
	StatsByDomain   StatsBy = "domain" // the receiving domain of the address
)

// ParseStatsBy parses a --by value; "" is StatsByCategory.
func ParseStatsBy(s string) (StatsBy, error) {
	switch b := StatsBy(strings.ToLower(strings.TrimSpace(s))); b {
	case "":
		return StatsByCategory, nil
	case StatsByCategory, StatsByDay, StatsByReason, StatsByDomain:
		return b, nil
	}
	return "", fmt.Errorf("suppress: unknown grouping %q: want day, category, reason or domain", s)
}

// StatsQuery selects what Stats counts. The zero value counts the whole
// history by category with the default policy.
type StatsQuery struct {
	// Since keeps the events dated at or after it; zero keeps all.
	Since time.Time
	By    StatsBy
	// Policy decides the list whose size Stats follows (nil: defaults).
	Policy *Policy
}

// StatsRow is one line of a Stats table: failure events and the distinct
// addresses they concern.
type StatsRow struct {
	Key       string            `json:"key"`
	Category  classify.Category `json:"category,omitempty"` // of a reason
	Provider  string            `json:"provider,omitempty"` // of a domain, when known
	Events    int               `json:"events"`
	Addresses int               `json:"addresses"`
}

// ListPoint is the suppression list's size at the end of a day: the
// addresses on today's list whose suppression began on or before it.
type ListPoint struct {
	Day   string `json:"day"` // 2006-01-02, UTC
	Added int    `json:"added"`
	Size  int    `json:"size"`
}

// StatsReport is what Stats counted.
type StatsReport struct {
	Since time.Time `json:"since,omitzero"`
	Now   time.Time `json:"now"`
	By    StatsBy   `json:"by"`
	// Events and Addresses count the failures (hard, soft, policy,
	// complaint) in range and the distinct addresses they concern.
	Events     int        `json:"events"`
	Addresses  int        `json:"addresses"`
	ByCategory []StatsRow `json:"by_category"`
	ByReason   []StatsRow `json:"by_reason"`
	// Groups is the table of By.
	Groups []StatsRow `json:"groups"`
	// PolicyByDomain are the policy blocks (the receiving side refused
	// the sender: spam filters, reputation) by receiving domain, most
	// first: the deliverability view.
	PolicyByDomain []StatsRow `json:"policy_by_domain"`
	// Suppressed is the size of the list now; ListSize its growth, one
	// point per day a suppression began, from Since.
	Suppressed int         `json:"suppressed"`
	ListSize   []ListPoint `json:"list_size"`
}

// providers maps the domains of the large mailbox providers to their
// name, for the policy view; other domains stand for themselves.
var providers = map[string]string{
	"gmail.com": "Google", "googlemail.com": "Google",
	"outlook.com": "Microsoft", "hotmail.com": "Microsoft", "live.com": "Microsoft", "msn.com": "Microsoft",
	"yahoo.com": "Yahoo", "ymail.com": "Yahoo", "aol.com": "Yahoo",
	"icloud.com": "Apple", "me.com": "Apple", "mac.com": "Apple",
	"gmx.de": "GMX", "gmx.net": "GMX", "web.de": "Web.de", "orange.fr": "Orange",
	"comcast.net": "Comcast", "mail.ru": "Mail.ru", "yandex.ru": "Yandex",
}

// tally counts events and distinct addresses per key.
type tally struct {
	events map[string]int
	addrs  map[string]map[string]bool
	cat    map[string]classify.Category
}

func newTally() *tally {
	return &tally{events: map[string]int{}, addrs: map[string]map[string]bool{}, cat: map[string]classify.Category{}}
}

func (t *tally) add(key, addr string) {
	t.events[key]++
	if t.addrs[key] == nil {
		t.addrs[key] = map[string]bool{}
	}
	t.addrs[key][addr] = true
}

// rows returns the table, ordered by key, or by events (most first) when
// byCount is set.
func (t *tally) rows(byCount bool) []StatsRow {
	out := make([]StatsRow, 0, len(t.events))
	for k, n := range t.events {
		out = append(out, StatsRow{Key: k, Category: t.cat[k], Events: n, Addresses: len(t.addrs[k])})
	}
	slices.SortFunc(out, func(a, b StatsRow) int {
		if byCount && a.Events != b.Events {
			return b.Events - a.Events
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Stats counts the failure events of the history in q's range by category,
// reason and q.By, the policy blocks by receiving domain, and the
// suppression list's size over time.
func (db *DB) Stats(ctx context.Context, q StatsQuery) (StatsReport, error) {
	by := q.By
	if by == "" {
		by = StatsByCategory
	}
	events, err := db.Events(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	lists, err := db.Lists(ctx, q.Policy, nil)
	if err != nil {
		return StatsReport{}, err
	}
	rep := StatsReport{Since: q.Since.UTC(), Now: lists.Now, By: by, Suppressed: len(lists.Suppressed)}
	if q.Since.IsZero() {
		rep.Since = time.Time{}
	}
	cats, reasons, groups, policy := newTally(), newTally(), newTally(), newTally()
	all := map[string]bool{}
	for _, e := range events {
		if e.Category == classify.CategoryNone || e.Date.Before(q.Since) {
			continue
		}
		rep.Events++
		all[e.Address] = true
		cats.add(string(e.Category), e.Address)
		reasons.add(string(e.Reason), e.Address)
		reasons.cat[string(e.Reason)] = e.Category
		groups.add(groupKey(by, e), e.Address)
		if by == StatsByReason {
			groups.cat[string(e.Reason)] = e.Category
		}
		if e.Category == classify.CategoryPolicy {
			policy.add(domainOf(e.Address), e.Address)
		}
	}
	rep.Addresses = len(all)
	rep.ByCategory, rep.ByReason = cats.rows(false), reasons.rows(false)
	rep.Groups = groups.rows(false)
	rep.PolicyByDomain = policy.rows(true)
	for i := range rep.PolicyByDomain {
		rep.PolicyByDomain[i].Provider = providers[rep.PolicyByDomain[i].Key]
	}
	if by == StatsByDomain {
		for i := range rep.Groups {
			rep.Groups[i].Provider = providers[rep.Groups[i].Key]
		}
	}
	rep.ListSize = listSize(lists.Suppressed, q.Since)
	return rep, nil
}

func groupKey(by StatsBy, e Event) string {
	switch by {
	case StatsByDay:
		return e.Date.UTC().Format(time.DateOnly)
	case StatsByReason:
		return string(e.Reason)
	case StatsByDomain:
		return domainOf(e.Address)
	}
	return string(e.Category)
}

// domainOf is the domain of a normalised address.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// listSize is the growth of the list: the entries by the day their
// suppression began (FirstBounce), cumulated; days before since are
// folded into the first point.
func listSize(entries []Entry, since time.Time) []ListPoint {
	added := map[string]int{}
	before := 0
	for _, e := range entries {
		if !since.IsZero() && e.FirstBounce.Before(since) {
			before++
			continue
		}
		added[e.FirstBounce.UTC().Format(time.DateOnly)]++
	}
	days := make([]string, 0, len(added))
	for d := range added {
		days = append(days, d)
	}
	slices.Sort(days)
	out := make([]ListPoint, 0, len(days))
	size := before
	for _, d := range days {
		size += added[d]
		out = append(out, ListPoint{Day: d, Added: added[d], Size: size})
	}
	return out
}
