package suppress

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

func TestStats(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		record(t, db,
			evidenceMessage(1, "gone@example.com", classify.ReasonUserUnknown),
			evidenceMessage(2, "gone@example.com", classify.ReasonUserUnknown),
			evidenceMessage(3, "x@outlook.com", classify.ReasonBlocked),
			evidenceMessage(4, "y@outlook.com", classify.ReasonBlocked),
			evidenceMessage(5, "y@outlook.com", classify.ReasonBlocked),
			evidenceMessage(5, "z@gmail.com", classify.ReasonBlocked),
			evidenceMessage(6, "angry@example.org", classify.ReasonFeedback),
			evidenceMessage(7, "auto@example.org", classify.ReasonVacation))

		rep, err := db.Stats(ctx, StatsQuery{})
		require.NoError(t, err)
		assert.Equal(t, 7, rep.Events, "failures only")
		assert.Equal(t, 5, rep.Addresses)
		assert.Equal(t, []StatsRow{
			{Key: "complaint", Events: 1, Addresses: 1},
			{Key: "hard", Events: 2, Addresses: 1},
			{Key: "policy", Events: 4, Addresses: 3},
		}, rep.ByCategory)
		assert.Equal(t, rep.ByCategory, rep.Groups)
		assert.Equal(t, []StatsRow{
			{Key: "outlook.com", Provider: "Microsoft", Events: 3, Addresses: 2},
			{Key: "gmail.com", Provider: "Google", Events: 1, Addresses: 1},
		}, rep.PolicyByDomain)
		assert.Equal(t, 2, rep.Suppressed)
		assert.Equal(t, []ListPoint{{Day: "2026-01-02", Added: 1, Size: 1}, {Day: "2026-01-07", Added: 1, Size: 2}}, rep.ListSize)

		rep, err = db.Stats(ctx, StatsQuery{Since: day(5, 0), By: StatsByDay})
		require.NoError(t, err)
		assert.Equal(t, 3, rep.Events)
		assert.Equal(t, []StatsRow{{Key: "2026-01-06", Events: 2, Addresses: 2}, {Key: "2026-01-07", Events: 1, Addresses: 1}}, rep.Groups)
		assert.Equal(t, []ListPoint{{Day: "2026-01-07", Added: 1, Size: 2}}, rep.ListSize)

		rep, err = db.Stats(ctx, StatsQuery{By: StatsByReason})
		require.NoError(t, err)
		require.NotEmpty(t, rep.Groups)
		assert.Equal(t, classify.CategoryPolicy, rep.Groups[0].Category, "%v", rep.Groups)
	})
}

func TestParseStatsBy(t *testing.T) {
	for in, want := range map[string]StatsBy{"": StatsByCategory, "Day": StatsByDay, "domain": StatsByDomain, "reason": StatsByReason} {
		got, err := ParseStatsBy(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseStatsBy("week")
	assert.Error(t, err)
}
