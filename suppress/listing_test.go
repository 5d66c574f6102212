package suppress

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// undoListingSchema takes a state back to before listing.go's migration
// step (SQLite), for the tests of migrating older states.
const undoListingSchema = `ALTER TABLE events DROP COLUMN list_subscriber; ALTER TABLE events DROP COLUMN list_campaign;
	ALTER TABLE outbox DROP COLUMN result; DROP TABLE lifts;`

func TestListID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"5F1B2C3D-4E5F-4a6b-8c7d-9e0f1a2b3c4d", "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
		{"  5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\t", "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
		{"", ""},
		{"5f1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", ""},
		{"5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' OR 1=1 --", ""},
		{"zzzzzzzz-4e5f-4a6b-8c7d-9e0f1a2b3c4d", ""},
	} {
		assert.Equal(t, tc.want, ListID(tc.in), "ListID(%q)", tc.in)
	}
}

// TestListIDsReachTheOutbox: the list software's ids of an event are
// stored (a UUID only) and handed to the push targets with the entry, and
// MarkDone keeps what the target made of it.
func TestListIDsReachTheOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		m := testMessage(1)
		m.Events[0].ListSubscriber = "5F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
		m.Events[0].ListCampaign = "0e9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c"
		m.Events[1].ListSubscriber = "not a uuid"
		_, err := db.Record(ctx, m)
		require.NoError(t, err)
		due, err := db.Due(ctx, "t", day(30, 0), 10)
		require.NoError(t, err)
		require.Len(t, due, 2)
		byAddr := map[string]OutboxEntry{}
		for _, e := range due {
			byAddr[e.Event.Address] = e
			assert.NotZero(t, e.EventID)
		}
		assert.Equal(t, "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", byAddr["gone@example.com"].Event.ListSubscriber)
		assert.Equal(t, "0e9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c", byAddr["gone@example.com"].Event.ListCampaign)
		assert.Empty(t, byAddr["full@example.com"].Event.ListSubscriber, "a value that is no UUID is dropped")

		e := byAddr["gone@example.com"]
		require.NoError(t, db.MarkDone(ctx, e.ID, day(30, 1), "not-a-subscriber"))
		done, err := db.Outbox(ctx, "t", OutboxDelivered, 10)
		require.NoError(t, err)
		require.Len(t, done, 1)
		assert.Equal(t, "not-a-subscriber", done[0].Result)
		assert.ErrorIs(t, db.MarkDone(ctx, e.ID, day(30, 2), ""), ErrNoOutboxEntry, "delivered once")
	})
}

func TestSoftThresholdReached(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		// Soft bounces of one address: day 1, day 1 again, day 2, day 3
		// (the third day: the threshold), day 4, then day 60 and 61 and
		// 62 (the first ones aged out: the threshold again), and one
		// hard bounce of another address.
		days := []int{1, 1, 2, 3, 4, 60, 61, 62}
		for i, d := range days {
			m := &Message{Hash: Hash([]byte(fmt.Sprint("soft ", i))), Source: "t", Date: day(d, 0), Events: []Event{
				{Address: "full@example.com", Reason: classify.ReasonMailboxFull, Date: day(d, i)}}}
			_, err := db.Record(ctx, m)
			require.NoError(t, err)
		}
		_, err := db.Record(ctx, &Message{Hash: Hash([]byte("hard")), Source: "t", Date: day(3, 0), Events: []Event{
			{Address: "gone@example.com", Reason: classify.ReasonUserUnknown, Date: day(3, 0)}}})
		require.NoError(t, err)
		due, err := db.Due(ctx, "t", day(90, 0), 100)
		require.NoError(t, err)
		require.Len(t, due, len(days)+1)
		var reached []string
		for _, e := range due {
			th, err := db.SoftThresholdReached(ctx, e.EventID, nil)
			require.NoError(t, err)
			if th.Reached {
				reached = append(reached, e.Event.Date.Format(time.DateOnly))
				assert.Equal(t, 3, th.Days)
				assert.Equal(t, "soft threshold: "+fmt.Sprint(th.Events)+" soft bounces on 3 days within 30 days (policy: 3 on 3 days within 30 days)", th.String())
			}
		}
		assert.Equal(t, []string{"2026-01-04", "2026-03-04"}, reached,
			"the soft bounce that reaches the threshold, once, and again once the first ones aged out")

		strict := &Policy{SoftThreshold: 5, SoftDistinctDays: 4}
		reached = nil
		for _, e := range due {
			th, err := db.SoftThresholdReached(ctx, e.EventID, strict)
			require.NoError(t, err)
			if th.Reached {
				reached = append(reached, e.Event.Date.Format(time.DateOnly))
			}
		}
		assert.Equal(t, []string{"2026-01-05"}, reached, "with 5 on 4 days")
	})
}

// TestSoftThresholdReachedAfterAllow: the soft bounces before an allow do
// not count towards the threshold, as they do not for the lists: the
// third soft bounce after the allow reaches it, not the first.
func TestSoftThresholdReachedAfterAllow(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		record := func(days ...int) {
			for _, d := range days {
				m := &Message{Hash: Hash([]byte(fmt.Sprint("soft ", d))), Source: "t", Date: day(d, 0), Events: []Event{
					{Address: "full@example.com", Reason: classify.ReasonMailboxFull, Date: day(d, 0)}}}
				_, err := db.Record(ctx, m)
				require.NoError(t, err)
			}
		}
		record(1, 2)
		_, err := db.Allow(ctx, AllowRequest{Addresses: []string{"full@example.com"}, Reason: "r", At: day(2, 12)})
		require.NoError(t, err)
		record(3, 4, 5)
		due, err := db.Due(ctx, "t", day(90, 0), 100)
		require.NoError(t, err)
		require.Len(t, due, 5)
		var reached []string
		for _, e := range due {
			th, err := db.SoftThresholdReached(ctx, e.EventID, nil)
			require.NoError(t, err)
			if th.Reached {
				reached = append(reached, e.Event.Date.Format(time.DateOnly))
				assert.Equal(t, 3, th.Events)
			}
		}
		assert.Equal(t, []string{"2026-01-06"}, reached)
		lists, err := db.Lists(ctx, &Policy{Now: day(5, 0)}, nil)
		require.NoError(t, err)
		require.Len(t, lists.Suppressed, 1, "the lists agree: suppressed by the day-5 bounce")
	})
}

// TestSoftThresholdReachedPermanent: permanent but unexplained failures
// (Event.Permanent) on PermanentThreshold days suppress, and the event
// that brings them there is the one that reaches the threshold, said so.
func TestSoftThresholdReachedPermanent(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		for _, d := range []int{1, 2} {
			m := &Message{Hash: Hash([]byte(fmt.Sprint("perm ", d))), Source: "t", Date: day(d, 0), Events: []Event{
				{Address: "odd@example.com", Reason: classify.ReasonMailboxFull, Date: day(d, 0), Permanent: true}}}
			_, err := db.Record(ctx, m)
			require.NoError(t, err)
		}
		due, err := db.Due(ctx, "t", day(90, 0), 100)
		require.NoError(t, err)
		require.Len(t, due, 2)
		lists, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		require.Len(t, lists.Suppressed, 1, "the permanent rule suppresses")
		var reached []string
		for _, e := range due {
			th, err := db.SoftThresholdReached(ctx, e.EventID, nil)
			require.NoError(t, err)
			if th.Reached {
				reached = append(reached, e.Event.Date.Format(time.DateOnly))
				assert.True(t, th.ByPermanent)
				assert.Equal(t, "permanent threshold: permanent failures on 2 days within 30 days (policy: 2 days)", th.String())
			}
		}
		assert.Equal(t, []string{"2026-01-03"}, reached)
	})
}

// TestDueLifts: an allow is due for a target that acted on a suppression
// it lifts, once; not for one that did nothing with the address.
func TestDueLifts(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		_, err := db.Record(ctx, testMessage(1)) // gone@ hard, full@ soft
		require.NoError(t, err)
		due, err := db.Due(ctx, "t", day(30, 0), 10)
		require.NoError(t, err)
		for _, e := range due {
			result := ""
			if e.Event.Address == "full@example.com" {
				result = "below-threshold"
			}
			require.NoError(t, db.MarkDone(ctx, e.ID, day(30, 0), result))
		}
		_, err = db.Allow(ctx, AllowRequest{Addresses: []string{"gone@example.com", "full@example.com", "never@example.com"},
			Reason: "asked us", By: "ops", At: day(40, 0)})
		require.NoError(t, err)

		lifts, err := db.DueLifts(ctx, "t", 10)
		require.NoError(t, err)
		require.Len(t, lifts, 1, "only the suppression the target acted on")
		assert.Equal(t, "gone@example.com", lifts[0].Address)
		assert.Equal(t, "asked us", lifts[0].Reason)
		assert.Equal(t, "ops", lifts[0].By)
		other, err := db.DueLifts(ctx, "other", 10)
		require.NoError(t, err)
		assert.Empty(t, other, "a target that heard nothing of the address")

		require.NoError(t, db.MarkLift(ctx, "t", lifts[0].AllowID, OutboxDelivered, "", nil, day(41, 0)))
		lifts, err = db.DueLifts(ctx, "t", 10)
		require.NoError(t, err)
		assert.Empty(t, lifts, "told once")
	})
}

// TestSoftThresholdReachedOneSend: the soft threshold a push waits for
// counts sends, as the lists do: three delay warnings and the failure of
// one stuck message never reach it.
func TestSoftThresholdReachedOneSend(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		for _, d := range []int{1, 2, 3, 4} {
			m := &Message{Hash: Hash([]byte(fmt.Sprint("stuck ", d))), Source: "t", Date: day(d, 0), Events: []Event{
				{Address: "stuck@example.com", Reason: classify.ReasonExpired, Date: day(d, 0), MessageID: "<news-1@list.example>"}}}
			_, err := db.Record(ctx, m)
			require.NoError(t, err)
		}
		due, err := db.Due(ctx, "t", day(90, 0), 100)
		require.NoError(t, err)
		require.Len(t, due, 4)
		for _, e := range due {
			th, err := db.SoftThresholdReached(ctx, e.EventID, nil)
			require.NoError(t, err)
			assert.False(t, th.Reached, "%s", e.Event.Date)
			assert.Equal(t, 1, th.Events, "one send")
		}
	})
}
