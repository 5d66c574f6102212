package suppress

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// day returns midnight UTC of 2026-01-01 plus n days and h hours.
func day(n, h int) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Add(time.Duration(h) * time.Hour)
}

func ev(addr string, r classify.Reason, date time.Time) Event {
	return Event{Address: addr, Category: r.Category(), Reason: r, Date: date}
}

// perm is a permanent but unexplained soft event (Event.Permanent).
func perm(addr string, date time.Time) Event {
	e := ev(addr, classify.ReasonUndefined, date)
	e.Permanent = true
	return e
}

// addrs returns "address:category" for each entry.
func addrs(es []Entry) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Address+":"+string(e.Category))
	}
	return strings.Join(s, " ")
}

func TestDecide(t *testing.T) {
	const a = "a@example.com"
	soft := classify.ReasonMailboxFull
	tests := []struct {
		name       string
		events     []Event
		policy     *Policy
		query      *Query
		suppressed string
		report     string
	}{
		{
			name:       "hard suppresses at once",
			events:     []Event{ev(a, classify.ReasonUserUnknown, day(0, 0))},
			suppressed: a + ":hard",
		},
		{
			name:       "complaint suppresses at once",
			events:     []Event{ev(a, classify.ReasonFeedback, day(0, 0))},
			suppressed: a + ":complaint",
		},
		{
			name:       "hard does not age out",
			events:     []Event{ev(a, classify.ReasonUserUnknown, day(0, 0)), ev("b@example.com", soft, day(400, 0))},
			suppressed: a + ":hard",
		},
		{
			name: "a later auto-reply does not age soft bounces out",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0)),
				ev("other@example.com", classify.ReasonVacation, day(90, 0))},
			suppressed: a + ":soft",
		},
		{
			name:       "two permanent failures on different days suppress",
			events:     []Event{perm(a, day(0, 0)), perm(a, day(1, 0))},
			suppressed: a + ":soft",
		},
		{
			name:   "two permanent failures on one day do not",
			events: []Event{perm(a, day(0, 1)), perm(a, day(0, 20))},
		},
		{
			name:   "one permanent failure does not",
			events: []Event{perm(a, day(0, 0)), ev(a, soft, day(1, 0))},
		},
		{
			name:   "permanent failures age out of the soft window",
			events: []Event{perm(a, day(0, 0)), perm(a, day(31, 0))},
		},
		{
			name:       "permanent threshold from the policy",
			events:     []Event{perm(a, day(0, 0)), perm(a, day(1, 0)), perm(a, day(2, 0))},
			policy:     &Policy{PermanentThreshold: 3},
			suppressed: a + ":soft",
		},
		{
			name:   "permanent threshold not reached",
			events: []Event{perm(a, day(0, 0)), perm(a, day(1, 0))},
			policy: &Policy{PermanentThreshold: 3},
		},
		{
			name:   "permanent rule off: they count as soft only",
			events: []Event{perm(a, day(0, 0)), perm(a, day(1, 0))},
			policy: &Policy{PermanentThreshold: -1},
		},
		{
			name:   "policy reported not suppressed",
			events: []Event{ev(a, classify.ReasonBlocked, day(0, 0))},
			report: a + ":policy",
		},
		{
			name:       "policy suppressed when asked",
			events:     []Event{ev(a, classify.ReasonBlocked, day(0, 0))},
			policy:     &Policy{SuppressPolicy: true},
			suppressed: a + ":policy",
			report:     a + ":policy",
		},
		{
			name: "none ignored",
			events: []Event{
				ev(a, classify.ReasonVacation, day(0, 0)),
				ev(a, classify.ReasonDelivered, day(1, 0)),
				ev(a, classify.ReasonNotBounce, day(2, 0)),
			},
		},
		{
			name:   "two soft days not enough",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0))},
		},
		{
			name:       "three soft days suppress",
			events:     []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0))},
			suppressed: a + ":soft",
		},
		{
			name:   "three soft on one day count as one day",
			events: []Event{ev(a, soft, day(0, 1)), ev(a, soft, day(0, 5)), ev(a, soft, day(0, 23))},
		},
		{
			name:   "five soft on two days not enough",
			events: []Event{ev(a, soft, day(0, 1)), ev(a, soft, day(0, 2)), ev(a, soft, day(0, 3)), ev(a, soft, day(1, 1)), ev(a, soft, day(1, 2))},
		},
		{
			name:   "days are UTC calendar days, not 24 hours",
			events: []Event{ev(a, soft, day(0, 23)), ev(a, soft, day(1, 1)), ev(a, soft, day(1, 23))},
		},
		{
			name:       "days are UTC calendar days: midnight crossings count",
			events:     []Event{ev(a, soft, day(0, 23)), ev(a, soft, day(1, 1)), ev(a, soft, day(2, 0))},
			suppressed: a + ":soft",
		},
		{
			name:       "within window",
			events:     []Event{ev(a, soft, day(0, 1)), ev(a, soft, day(15, 0)), ev(a, soft, day(29, 23))},
			suppressed: a + ":soft",
		},
		{
			name:   "oldest aged out of the window",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(15, 0)), ev(a, soft, day(30, 0))},
		},
		{
			name: "ages out by Now",
			events: []Event{
				ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0)),
				ev("b@example.com", classify.ReasonUserUnknown, day(40, 0)),
			},
			suppressed: "b@example.com:hard",
		},
		{
			name:       "explicit Now before ageing",
			events:     []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0))},
			policy:     &Policy{Now: day(10, 0)},
			suppressed: a + ":soft",
		},
		{
			name:   "explicit Now after ageing",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0))},
			policy: &Policy{Now: day(31, 0)},
		},
		{
			name:   "events after Now left out",
			events: []Event{ev(a, classify.ReasonUserUnknown, day(5, 0))},
			policy: &Policy{Now: day(4, 0)},
		},
		{
			name:       "threshold one",
			events:     []Event{ev(a, soft, day(0, 0))},
			policy:     &Policy{SoftThreshold: 1, SoftDistinctDays: 1},
			suppressed: a + ":soft",
		},
		{
			name:   "threshold five with three days",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0)), ev(a, soft, day(2, 1))},
			policy: &Policy{SoftThreshold: 5},
		},
		{
			name:       "short window",
			events:     []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 0))},
			policy:     &Policy{SoftWindow: 3 * 24 * time.Hour},
			suppressed: a + ":soft",
		},
		{
			name:   "short window ages out",
			events: []Event{ev(a, soft, day(0, 0)), ev(a, soft, day(1, 0)), ev(a, soft, day(2, 1))},
			policy: &Policy{SoftWindow: 48 * time.Hour},
		},
		{
			name:       "complaint wins over hard",
			events:     []Event{ev(a, classify.ReasonUserUnknown, day(1, 0)), ev(a, classify.ReasonFeedback, day(0, 0))},
			suppressed: a + ":complaint",
		},
		{
			name:       "hard and policy: suppressed hard, reported policy",
			events:     []Event{ev(a, classify.ReasonUserUnknown, day(1, 0)), ev(a, classify.ReasonBlocked, day(0, 0))},
			suppressed: a + ":hard",
			report:     a + ":policy",
		},
		{
			name: "sorted by address",
			events: []Event{
				ev("c@example.com", classify.ReasonUserUnknown, day(0, 0)),
				ev("a@example.com", classify.ReasonFeedback, day(0, 0)),
				ev("b@example.com", classify.ReasonHostUnknown, day(0, 0)),
			},
			suppressed: "a@example.com:complaint b@example.com:hard c@example.com:hard",
		},
		{
			name: "query since",
			events: []Event{
				ev("a@example.com", classify.ReasonUserUnknown, day(0, 0)),
				ev("b@example.com", classify.ReasonUserUnknown, day(5, 0)),
			},
			query:      &Query{Since: day(3, 0)},
			suppressed: "b@example.com:hard",
		},
		{
			name: "query categories",
			events: []Event{
				ev("a@example.com", classify.ReasonUserUnknown, day(0, 0)),
				ev("b@example.com", classify.ReasonFeedback, day(0, 0)),
				ev("c@example.com", classify.ReasonBlocked, day(0, 0)),
			},
			query:      &Query{Categories: []classify.Category{classify.CategoryComplaint}},
			suppressed: "b@example.com:complaint",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Decide(tt.events, tt.policy, tt.query)
			assert.Equal(t, tt.suppressed, addrs(l.Suppressed), "Decide().Suppressed")
			assert.Equal(t, tt.report, addrs(l.Policy), "Decide().Policy")
		})
	}
}

func TestDecideEntry(t *testing.T) {
	const a = "a@example.com"
	events := []Event{
		{Address: a, Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull, Status: "4.2.2", Date: day(0, 0)},
		{Address: a, Category: classify.CategorySoft, Reason: classify.ReasonSystemFull, Status: "4.3.1", Date: day(2, 0)},
		{Address: a, Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull, Status: "5.2.2", ReplyCode: "552", Diagnostic: "full", Date: day(3, 0)},
		{Address: a, Category: classify.CategoryNone, Reason: classify.ReasonVacation, Date: day(4, 0)},
	}
	want := Entry{
		Address: a, Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
		Status: "5.2.2", ReplyCode: "552", Diagnostic: "full",
		Bounces: 3, FirstBounce: day(0, 0), LastBounce: day(3, 0),
	}
	l := Decide(events, nil, nil)
	require.Len(t, l.Suppressed, 1, "Decide()")
	assert.Equal(t, want, l.Suppressed[0], "Decide()")
	assert.True(t, l.Now.Equal(day(3, 0)), "Decide().Now")
}

// TestDecideOrderIndependent checks that the order of the events, and ties
// on the date, do not change the result.
func TestDecideOrderIndependent(t *testing.T) {
	const a = "a@example.com"
	events := []Event{
		{Address: a, Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown, Status: "5.1.1", Date: day(1, 0)},
		{Address: a, Category: classify.CategoryHard, Reason: classify.ReasonSuspend, Status: "5.2.1", Date: day(1, 0)},
		{Address: "b@example.com", Category: classify.CategoryPolicy, Reason: classify.ReasonBlocked, Date: day(0, 0)},
	}
	want := Decide(events, nil, nil)
	for i := 0; i < len(events); i++ {
		rot := append(append([]Event(nil), events[i:]...), events[:i]...)
		rev := make([]Event, len(rot))
		for j := range rot {
			rev[len(rot)-1-j] = rot[j]
		}
		for _, evs := range [][]Event{rot, rev} {
			assert.Equal(t, want, Decide(evs, nil, nil), "Decide(%v)", evs)
		}
	}
}

func TestNewlySuppressed(t *testing.T) {
	before := []Entry{{Address: "a@example.com"}}
	after := []Entry{{Address: "a@example.com"}, {Address: "b@example.com"}}
	got := NewlySuppressed(before, after)
	assert.Equal(t, fmt.Sprint([]Entry{{Address: "b@example.com"}}), fmt.Sprint(got), "NewlySuppressed()")
}

// TestPermanentStored: the permanent mark survives the store, on SQLite and
// PostgreSQL, and two permanent failures on different days suppress.
func TestPermanentStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		for i, d := range []time.Time{day(0, 0), day(3, 0)} {
			m := testMessage(uint32(i + 1))
			m.Events = []Event{{Address: "gone@example.com", Reason: classify.ReasonUndefined, Status: "5.0.0", Date: d, Permanent: true}}
			_, err := db.Record(ctx, m)
			require.NoError(t, err)
			evs, err := db.Events(ctx)
			require.NoError(t, err)
			require.Len(t, evs, i+1)
			assert.True(t, evs[i].Permanent, "Events()[%d].Permanent", i)
			lists, err := db.Lists(ctx, nil, nil)
			require.NoError(t, err)
			want := ""
			if i == 1 {
				want = "gone@example.com:soft"
			}
			assert.Equal(t, want, addrs(lists.Suppressed), "after %d permanent failures", i+1)
		}
		lists, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		var b strings.Builder
		require.NoError(t, WriteCSV(&b, FormatGeneric, lists.Suppressed))
		assert.Contains(t, b.String(), ",permanent\r\n", "generic header")
		assert.Contains(t, b.String(), ",true\r\n", "generic row of a permanent entry")

		// Why says the same, and names the permanent rule.
		hs, err := db.Why(ctx, nil, "gone@example.com")
		require.NoError(t, err)
		require.Len(t, hs, 1)
		assert.True(t, hs[0].Suppressed, "why agrees with the lists")
		assert.Equal(t, RulePermanentThreshold, hs[0].Rule)
		require.Len(t, hs[0].Events, 2)
		assert.True(t, hs[0].Events[0].Permanent, "the event shows it was permanent")
	})
}

// TestStuckMessageCountsOnce: the notices about one sent message (its
// original Message-ID) are one soft bounce however many days they span: a
// message stuck in a queue draws a delay warning a day (Exim's every 24
// hours) and then its failure, and that alone must not reach the soft
// threshold of 3 bounces on 3 days. Three sends that each fail do.
func TestStuckMessageCountsOnce(t *testing.T) {
	soft := func(addr, mid string, d int) Event {
		e := ev(addr, classify.ReasonExpired, day(d, 0))
		e.MessageID = mid
		return e
	}
	events := []Event{
		soft("stuck@example.com", "<news-1@list.example>", 1),
		soft("stuck@example.com", "<news-1@list.example>", 2),
		soft("stuck@example.com", "<news-1@list.example>", 3),
		soft("stuck@example.com", "<news-1@list.example>", 4),
		soft("three@example.com", "<news-1@list.example>", 1),
		soft("three@example.com", "<news-2@list.example>", 2),
		soft("three@example.com", "<news-3@list.example>", 3),
		// No Message-ID known: each event counts alone.
		soft("unknown@example.com", "", 1),
		soft("unknown@example.com", "", 2),
		soft("unknown@example.com", "", 3),
	}
	l := Decide(events, nil, nil)
	assert.Equal(t, "three@example.com:soft unknown@example.com:soft", addrs(l.Suppressed))
	for _, e := range l.Suppressed {
		assert.Equal(t, 3, e.Bounces, e.Address)
	}
	pending := pendingOf(events, nil, l, nil)
	require.Contains(t, pending, "stuck@example.com")
	assert.Equal(t, 1, pending["stuck@example.com"].Bounces, "one send")
	assert.Equal(t, 1, pending["stuck@example.com"].Days, "on the day it first failed")

	// The permanent rule counts sends too: one message reported twice.
	p1, p2 := perm("twice@example.com", day(1, 0)), perm("twice@example.com", day(2, 0))
	p1.MessageID, p2.MessageID = "<news-9@list.example>", "<news-9@list.example>"
	assert.Empty(t, Decide([]Event{p1, p2}, nil, nil).Suppressed)
	p2.MessageID = "<news-10@list.example>"
	assert.Len(t, Decide([]Event{p1, p2}, nil, nil).Suppressed, 1)
}
