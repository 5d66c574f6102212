package push

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/suppress"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDeliverTwoHosts drains one target's outbox from two hosts (two DB
// handles on one PostgreSQL database) at once, pass after pass: every
// event reaches the target once, by whichever host holds the target's
// lease.
func TestDeliverTwoHosts(t *testing.T) {
	clock := newClock()
	wh := newWebhook(t, "s3cret-key", clock.Now)
	url := pgtest.Shared(t).Database(t)
	opts := Options{SecretFile: writeSecrets(t, "webhook="+wh.URL+"/hook s3cret-key"), Now: clock.Now, BatchSize: 2}
	var hosts [2]*Deliverer
	var dbs [2]*suppress.DB
	for i := range hosts {
		dbs[i] = openState(t, url)
		hosts[i] = newDeliverer(t, dbs[i], opts, "webhook="+wh.URL+"/hook")
	}
	record(t, dbs[0], 1, 2, 3)
	record(t, dbs[1], 3, 4, 5, 6) // 3 again: recorded once

	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		delivered int
	)
	for _, d := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				st, err := d.Deliver(context.Background())
				assert.NoError(t, err)
				mu.Lock()
				delivered += st.Delivered
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 6*5, delivered)
	assert.Len(t, wh.Events(), 6*5)
	for id, n := range wh.Seen() {
		assert.Equal(t, 1, n, "event %s sent %d times", id, n)
	}
	c, err := dbs[0].OutboxCount(context.Background(), hosts[0].targets[0].name)
	require.NoError(t, err)
	assert.Equal(t, suppress.OutboxCounts{Delivered: 6 * 5}, c)
}
