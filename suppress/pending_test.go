package suppress

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

func TestPending(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		record(t, db,
			evidenceMessage(40, "two@example.com", classify.ReasonMailboxFull),
			evidenceMessage(41, "two@example.com", classify.ReasonMailboxFull),
			evidenceMessage(1, "aged@example.com", classify.ReasonMailboxFull), // out of the window
			evidenceMessage(42, "gone@example.com", classify.ReasonUserUnknown))
		for _, d := range []int{43, 44, 45} {
			record(t, db, evidenceMessage(d, "full@example.com", classify.ReasonMailboxFull))
		}
		ps, err := db.Pending(ctx, nil)
		require.NoError(t, err)
		require.Len(t, ps, 1, "%v", ps)
		p := ps[0]
		assert.Equal(t, "two@example.com", p.Address)
		assert.Equal(t, 2, p.Bounces)
		assert.Equal(t, 2, p.Days)
		assert.Equal(t, day(40, 1), p.FirstBounce)
		assert.Equal(t, day(41, 1), p.LastBounce)
		assert.Equal(t, day(45, 1), p.WindowEnd)
		assert.Equal(t, day(45, 1).Add(-DefaultSoftWindow), p.WindowStart)

		var b bytes.Buffer
		require.NoError(t, WritePendingCSV(&b, ps))
		assert.Equal(t, "email,bounces,days,threshold,distinct_days,first_bounce,last_bounce,window_start,window_end,reason,diagnostic\r\n"+
			"two@example.com,2,2,3,3,2026-02-10T01:00:00Z,2026-02-11T01:00:00Z,2026-01-16T01:00:00Z,2026-02-15T01:00:00Z,mailboxfull,550 5.1.1 <two@example.com>: user unknown\r\n",
			b.String())

		_, err = db.Allow(ctx, AllowRequest{Addresses: []string{"two@example.com"}, Reason: "r", At: day(41, 5)})
		require.NoError(t, err)
		ps, err = db.Pending(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, ps, "the allow resets the count")
	})
}

func TestOutboxStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		ts, err := db.OutboxStatus(ctx)
		require.NoError(t, err)
		assert.Empty(t, ts)
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "a"}, {Name: "b"}}))
		record(t, db, outboxMessage(1))
		due, err := db.Due(ctx, "a", day(500, 0), 10)
		require.NoError(t, err)
		require.Len(t, due, 4)
		require.NoError(t, db.MarkDelivered(ctx, due[0].ID, day(2, 0)))
		require.NoError(t, db.MarkFailed(ctx, due[1].ID, day(2, 0), errors.New("401 unauthorized")))
		require.NoError(t, db.BeginAttempt(ctx, due[2].ID))
		ts, err = db.OutboxStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, []TargetStatus{
			{Target: "a", Pending: 2, Uncertain: 1, Delivered: 1, Failed: 1, LastError: "401 unauthorized"},
			{Target: "b", Pending: 4},
		}, ts)
		n, err := db.RequeueFailed(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}
