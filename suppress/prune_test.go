package suppress

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

// TestPruneKeepsWhoIsSuppressed prunes a history and checks that the
// lists are the same before and after, bounce counts and dates included,
// that the old rows are gone, and that a rerun over the same messages does
// not bring them back.
func TestPruneKeepsWhoIsSuppressed(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		var ms []*Message
		ms = append(ms, evidenceMessage(1, "hard@example.com", classify.ReasonUserUnknown),
			evidenceMessage(2, "hard@example.com", classify.ReasonUserUnknown),
			evidenceMessage(50, "hard@example.com", classify.ReasonUserUnknown),
			evidenceMessage(3, "old@example.com", classify.ReasonUserUnknown),
			evidenceMessage(4, "angry@example.com", classify.ReasonFeedback),
			evidenceMessage(5, "oldsoft@example.com", classify.ReasonMailboxFull),
			evidenceMessage(6, "allowed@example.com", classify.ReasonUserUnknown))
		for _, d := range []int{90, 92, 94} { // soft, in the window: they stay
			ms = append(ms, evidenceMessage(d, "soft@example.com", classify.ReasonMailboxFull))
		}
		ms = append(ms, evidenceMessage(100, "recent@example.com", classify.ReasonUserUnknown))
		record(t, db, ms...)
		_, err := db.Allow(ctx, AllowRequest{Addresses: []string{"allowed@example.com"}, Reason: "r", At: day(7, 0)})
		require.NoError(t, err)
		before, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)

		rep, err := db.Prune(ctx, PruneRequest{Before: day(80, 0)})
		require.NoError(t, err)
		assert.Equal(t, 7, rep.Events, "hard×3, old, angry, oldsoft, allowed")
		assert.Equal(t, 3, rep.Summaries, "hard, old, angry")
		assert.Zero(t, rep.Kept)

		after, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, before, after, "the same lists, counts and dates")
		var n int
		require.NoError(t, db.sql.QueryRow(db.d.bind("SELECT count(*) FROM events WHERE date < ?"), day(80, 0).Unix()).Scan(&n))
		assert.Zero(t, n)

		hs, err := db.Why(ctx, nil, "old@example.com", "hard@example.com")
		require.NoError(t, err)
		assert.True(t, hs[0].Suppressed)
		require.NotNil(t, hs[0].Pruned)
		assert.Equal(t, 1, hs[0].Pruned.Bounces)
		assert.Empty(t, hs[0].Events)
		assert.Equal(t, 3, hs[1].Bounces)
		assert.Equal(t, day(1, 1), hs[1].Since)

		for _, m := range ms {
			res, err := db.Record(ctx, m)
			require.NoError(t, err)
			assert.True(t, res.Already)
		}
		// A second prune with a later date folds into the summaries.
		_, err = db.Prune(ctx, PruneRequest{Before: day(99, 0)})
		require.NoError(t, err)
		again, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, before, again)
	})
}

func TestPruneKeepsUndeliveredPushes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "hook"}}))
	record(t, db, evidenceMessage(1, "a@example.com", classify.ReasonUserUnknown),
		evidenceMessage(2, "b@example.com", classify.ReasonUserUnknown))
	due, err := db.Due(ctx, "hook", day(500, 0), 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.NoError(t, db.MarkDelivered(ctx, due[0].ID, day(3, 0)))
	rep, err := db.Prune(ctx, PruneRequest{Before: day(10, 0)})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Events)
	assert.Equal(t, 1, rep.Outbox)
	assert.Equal(t, 1, rep.Kept, "the event still to push")
	c, err := db.OutboxCount(ctx, "hook")
	require.NoError(t, err)
	assert.Equal(t, OutboxCounts{Pending: 1}, c)

	_, err = db.Prune(ctx, PruneRequest{})
	assert.ErrorIs(t, err, ErrNoCutoff)
}
