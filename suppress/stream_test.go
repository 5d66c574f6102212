package suppress

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordMore records the same events held (Message.Events) and
// streamed (Message.More, after a first one in Events): the stored
// history, the counts, the skipped events and the outbox are the same;
// an address met again with a category that weighs more is stored once,
// with it; the outcome is told from the stream when none is given.
func TestRecordMore(t *testing.T) {
	evs := []Event{
		{Address: "a@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull, Status: "4.2.2"},
		{Address: "b@example.com", Category: classify.CategoryNone},
		{Address: "not an address", Category: classify.CategoryHard},
		{Address: "A@example.com", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown, Status: "5.1.1"},
		{Address: "b@example.com", Category: classify.CategoryNone, Diagnostic: "again"},
		{Address: "c@example.com", Category: classify.CategoryPolicy, Reason: classify.ReasonBlocked},
	}
	for i := range 300 {
		evs = append(evs, Event{Address: fmt.Sprintf("n%03d@example.com", i), Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown})
	}
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		record := func(stream bool) ([]Event, Result, OutboxCounts) {
			db := openTest(t, newState(t))
			require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "t"}}))
			m := testMessage(1)
			m.Outcome = ""
			m.Events = slices.Clone(evs)
			if stream {
				m.Events, m.More = evs[:1], slices.Values(evs[1:])
			}
			res, err := db.Record(ctx, m)
			require.NoError(t, err)
			got, err := db.Events(ctx)
			require.NoError(t, err)
			c, err := db.OutboxCount(ctx, "t")
			require.NoError(t, err)
			return got, res, c
		}
		held, hres, hc := record(false)
		streamed, sres, sc := record(true)
		assert.Equal(t, held, streamed)
		assert.Equal(t, hres.Events, sres.Events)
		assert.Equal(t, 303, sres.Events)
		assert.Equal(t, OutcomeBounce, sres.Outcome)
		assert.Equal(t, 1, sres.SkippedCount)
		assert.Len(t, sres.Skipped, 1)
		assert.Equal(t, hc, sc)
		assert.Equal(t, map[classify.Category]int{classify.CategoryHard: 301, classify.CategoryPolicy: 1}, sres.Failures)
		for _, e := range streamed {
			if e.Address == "a@example.com" {
				assert.Equal(t, classify.CategoryHard, e.Category, "the category that weighs most")
				assert.Equal(t, "5.1.1", e.Status)
			}
		}
	})
}

// TestRecordSkippedCap keeps the first MaxSkippedErrors errors of a
// message's bad events and counts them all.
func TestRecordSkippedCap(t *testing.T) {
	db := openTest(t, t.TempDir()+"/s.db")
	m := testMessage(1)
	m.More = func(yield func(Event) bool) {
		for i := range MaxSkippedErrors + 50 {
			if !yield(Event{Address: fmt.Sprintf("bad %d", i), Category: classify.CategoryHard}) {
				return
			}
		}
	}
	res, err := db.Record(context.Background(), m)
	require.NoError(t, err)
	assert.Len(t, res.Skipped, MaxSkippedErrors)
	assert.Equal(t, MaxSkippedErrors+50, res.SkippedCount)
}
