package suppress

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

// outboxMessage is testMessage(uid) with a complaint and a policy block
// added: hard, soft, complaint, policy.
func outboxMessage(uid uint32) *Message {
	m := testMessage(uid)
	m.Events = append(m.Events,
		Event{Address: "angry@example.com", Reason: classify.ReasonFeedback, Source: "arf"},
		Event{Address: "blocked@example.com", Reason: classify.ReasonBlocked, Status: "5.7.1", Source: "rfc3464"})
	return m
}

func TestOutboxEnqueuedWithRecord(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))

		_, err := db.Record(ctx, outboxMessage(1)) // before SetOutbox: not queued
		require.NoError(t, err)
		require.NoError(t, db.SetOutbox([]OutboxTarget{
			{Name: "lists", Categories: []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryComplaint}},
			{Name: "all"},
		}))
		_, err = db.Record(ctx, outboxMessage(2))
		require.NoError(t, err)
		res, err := db.Record(ctx, outboxMessage(2)) // again: nothing new
		require.NoError(t, err)
		require.True(t, res.Already)

		now := day(30, 0)
		lists, err := db.Due(ctx, "lists", now, 100)
		require.NoError(t, err)
		var got []string
		for _, e := range lists {
			got = append(got, e.Event.Address+" "+string(e.Event.Category))
		}
		assert.Equal(t, []string{"gone@example.com hard", "full@example.com soft", "angry@example.com complaint"}, got)

		all, err := db.Due(ctx, "all", now, 100)
		require.NoError(t, err)
		assert.Len(t, all, 4)

		e := lists[0]
		assert.Equal(t, "lists", e.Target)
		assert.Equal(t, OutboxPending, e.State)
		assert.Equal(t, "<orig@list.example>", e.Event.MessageID)
		assert.Equal(t, "<bounce-2@mx.example>", e.BounceMessageID)
		assert.Equal(t, classify.ReasonUserUnknown, e.Event.Reason)
		assert.Equal(t, "550 5.1.1 user unknown", e.Event.Diagnostic)
		assert.Equal(t, day(2, 1), e.Event.Date)
		assert.Len(t, e.Key, 32)
		assert.Equal(t, e.Key, all[0].Key, "the key names the event, whatever the target")
		assert.NotEqual(t, lists[0].Key, lists[1].Key)
		assert.False(t, e.Uncertain)
		assert.Zero(t, e.Attempts)
	})
}

func TestOutboxRolledBackWithRecord(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "all"}}))

		testHookEvent = func(i int) error {
			if i == 1 {
				return errors.New("injected")
			}
			return nil
		}
		_, err := db.Record(ctx, outboxMessage(1))
		testHookEvent = nil
		require.Error(t, err)
		c, err := db.OutboxCount(ctx, "all")
		require.NoError(t, err)
		assert.Equal(t, OutboxCounts{}, c, "a failed Record queues nothing")

		_, err = db.Record(ctx, outboxMessage(1))
		require.NoError(t, err)
		c, err = db.OutboxCount(ctx, "all")
		require.NoError(t, err)
		assert.Equal(t, OutboxCounts{Pending: 4}, c)
	})
}

func TestOutboxLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path)
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
		_, err := db.Record(ctx, outboxMessage(1))
		require.NoError(t, err)

		now := day(30, 0)
		due, err := db.Due(ctx, "t", now, 100)
		require.NoError(t, err)
		require.Len(t, due, 4)

		// 0 delivered, 1 retried later, 2 failed, 3 begun and never ended.
		for _, e := range due {
			require.NoError(t, db.BeginAttempt(ctx, e.ID))
		}
		require.NoError(t, db.MarkDelivered(ctx, due[0].ID, now))
		require.NoError(t, db.MarkRetry(ctx, due[1].ID, now.Add(time.Minute), errors.New("push: 500")))
		require.NoError(t, db.MarkFailed(ctx, due[2].ID, now, errors.New("push: 422 invalid email")))

		assert.ErrorIs(t, db.MarkDelivered(ctx, due[0].ID, now), ErrNoOutboxEntry, "delivered twice")
		assert.ErrorIs(t, db.MarkRetry(ctx, due[2].ID, now, nil), ErrNoOutboxEntry, "retry after failed")
		assert.ErrorIs(t, db.BeginAttempt(ctx, 999), ErrNoOutboxEntry)

		// Reopen: the state survives.
		require.NoError(t, db.Close())
		db = openTest(t, path)

		again, err := db.Due(ctx, "t", now, 100)
		require.NoError(t, err)
		require.Len(t, again, 1, "only the unfinished attempt is due now")
		assert.Equal(t, due[3].ID, again[0].ID)
		assert.True(t, again[0].Uncertain)
		assert.Equal(t, 1, again[0].Attempts)

		later, err := db.Due(ctx, "t", now.Add(time.Minute), 100)
		require.NoError(t, err)
		require.Len(t, later, 2)
		assert.Equal(t, due[3].ID, later[0].ID, "longest due first")
		assert.Equal(t, due[1].ID, later[1].ID)
		assert.Equal(t, "push: 500", later[1].LastError)
		assert.False(t, later[1].Uncertain)

		failed, err := db.Outbox(ctx, "t", OutboxFailed, 10)
		require.NoError(t, err)
		require.Len(t, failed, 1)
		assert.Equal(t, "push: 422 invalid email", failed[0].LastError)

		c, err := db.OutboxCount(ctx, "t")
		require.NoError(t, err)
		assert.Equal(t, OutboxCounts{Pending: 2, Delivered: 1, Failed: 1}, c)

		// An attempt without an answer stays Uncertain.
		require.NoError(t, db.BeginAttempt(ctx, due[1].ID))
		require.NoError(t, db.MarkUnanswered(ctx, due[1].ID, now.Add(2*time.Minute), errors.New("push: timeout")))
		unanswered, err := db.Due(ctx, "t", now.Add(2*time.Minute), 100)
		require.NoError(t, err)
		require.Len(t, unanswered, 2)
		assert.Equal(t, due[1].ID, unanswered[1].ID)
		assert.True(t, unanswered[1].Uncertain)
		assert.Equal(t, 2, unanswered[1].Attempts)

		n, err := db.RequeueFailed(ctx, "t")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		c, err = db.OutboxCount(ctx, "t")
		require.NoError(t, err)
		assert.Equal(t, OutboxCounts{Pending: 3, Delivered: 1}, c)
	})
}

func TestSetOutboxRefuses(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	for name, ts := range map[string][]OutboxTarget{
		"empty name": {{Name: ""}},
		"twice":      {{Name: "a"}, {Name: "a"}},
		"category":   {{Name: "a", Categories: []classify.Category{"hrad"}}},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, db.SetOutbox(ts))
		})
	}
}

// TestOutboxMigratesVersion1: a state written before the outbox existed
// gets the table, keeps its history, and queues only what is recorded after.
func TestOutboxMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	_, err := db.Record(ctx, outboxMessage(1))
	require.NoError(t, err)
	_, err = db.sql.Exec(undoHistorySchema + "DROP TABLE leases; DROP TABLE outbox; PRAGMA user_version = 1")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = openTest(t, path)
	var v int
	require.NoError(t, db.sql.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v)
	require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "all"}}))
	res, err := db.Record(ctx, outboxMessage(1))
	require.NoError(t, err)
	assert.True(t, res.Already)
	_, err = db.Record(ctx, outboxMessage(2))
	require.NoError(t, err)
	c, err := db.OutboxCount(ctx, "all")
	require.NoError(t, err)
	assert.Equal(t, OutboxCounts{Pending: 4}, c, "message 2 only")
}
