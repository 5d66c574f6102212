package console

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// listed returns the addresses of the suppression list of snap.
func listed(snap *snapshot) []string {
	var out []string
	for _, e := range snap.lists.Suppressed {
		out = append(out, e.Address)
	}
	return out
}

// TestLiftShowsWithoutWaiting checks that the console's own Allow and
// Forget show on the next page at once, while a rebuild of the snapshot
// (seconds on a large history) still runs, and that the rebuild that began
// before the change does not bring the address back.
func TestLiftShowsWithoutWaiting(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	s := newSnapshots(e.db, nil, time.Hour)
	before, err := s.get(ctx)
	require.NoError(t, err)
	require.Contains(t, listed(before), "gone@example.com")
	require.Contains(t, listed(before), "full@example.net")
	require.Contains(t, before.addresses, "angry@example.org")

	// A rebuild that never ends: get must not wait for it.
	s.mu.Lock()
	running := make(chan struct{})
	s.building = running
	gen := s.gen
	s.mu.Unlock()

	_, err = e.db.Allow(ctx, suppress.AllowRequest{Addresses: []string{"gone@example.com"}, Reason: "typo fixed", By: "test"})
	require.NoError(t, err)
	s.lift("gone@example.com", false)
	_, err = e.db.Forget(ctx, []string{"angry@example.org"})
	require.NoError(t, err)
	s.lift("angry@example.org", true)

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	now, err := s.get(short)
	require.NoError(t, err, "a page waited for the rebuild")
	assert.NotContains(t, listed(now), "gone@example.com", "allowed")
	assert.NotContains(t, listed(now), "angry@example.org", "forgotten")
	assert.Contains(t, listed(now), "full@example.net", "the others stay")
	assert.Contains(t, now.addresses, "gone@example.com", "an allowed address stays searchable")
	assert.NotContains(t, now.addresses, "angry@example.org", "a forgotten one does not")
	assert.Contains(t, listed(before), "gone@example.com", "the snapshot a page renders is not changed under it")

	// The rebuild that read the state before the changes ends: its
	// snapshot still lists them, and is not shown.
	s.finish(before, gen, nil)
	close(running)
	now, err = s.get(short)
	require.NoError(t, err)
	assert.NotContains(t, listed(now), "gone@example.com")
	assert.NotContains(t, listed(now), "angry@example.org")

	// The next build reads the changed state.
	<-s.start()
	now, err = s.get(ctx)
	require.NoError(t, err)
	assert.NotContains(t, listed(now), "gone@example.com")
	assert.False(t, slices.Contains(now.addresses, "angry@example.org"))
	assert.Equal(t, before.events-1, now.events, "the aggregates caught up: one event forgotten")
}
