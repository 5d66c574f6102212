package suppress

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTTL is short, so that the tests wait little for an expiry.
const testTTL = 400 * time.Millisecond

func hostOpts(name string) *LeaseOptions {
	return &LeaseOptions{TTL: testTTL, Holder: name}
}

func TestLeaseExclusive(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		a, b := openTest(t, path), openTest(t, path)

		la, err := a.AcquireLease(ctx, "imaps://u@mx/INBOX", hostOpts("host-a"))
		require.NoError(t, err)
		_, err = b.AcquireLease(ctx, "imaps://u@mx/INBOX", hostOpts("host-b"))
		require.ErrorIs(t, err, ErrLeased)
		assert.Contains(t, err.Error(), "host-a")

		other, err := b.AcquireLease(ctx, "imaps://u@mx/Other", hostOpts("host-b"))
		require.NoError(t, err, "another mailbox is free")
		require.NoError(t, other.Release(ctx))

		// Renewed in the background, the lease outlives its TTL.
		time.Sleep(3 * testTTL)
		_, err = b.AcquireLease(ctx, "imaps://u@mx/INBOX", hostOpts("host-b"))
		require.ErrorIs(t, err, ErrLeased, "a renewed lease does not expire")
		select {
		case <-la.Lost():
			t.Fatalf("lease lost while renewed: %v", la.Err())
		default:
		}

		// Released, it is free at once.
		require.NoError(t, la.Release(ctx))
		lb, err := b.AcquireLease(ctx, "imaps://u@mx/INBOX", hostOpts("host-b"))
		require.NoError(t, err)
		assert.Equal(t, "host-b", lb.Holder())
		require.NoError(t, lb.Release(ctx))
	})
}

// TestLeaseTakeover: a holder that stops renewing (as a dead host does)
// loses the mailbox after the TTL; its open batch then commits nothing,
// and the new holder records everything once.
func TestLeaseTakeover(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		a, b := openTest(t, path), openTest(t, path)
		const key = "imaps://u@mx/INBOX"

		la, err := a.AcquireLease(ctx, key, hostOpts("host-a"))
		require.NoError(t, err)
		for uid := uint32(1); uid <= 5; uid++ {
			_, err := a.Record(ctx, testMessage(uid))
			require.NoError(t, err)
		}
		batch, err := a.Begin(ctx)
		require.NoError(t, err)
		_, err = batch.Record(ctx, testMessage(6))
		require.NoError(t, err)
		batch.Rollback() // SQLite: the open batch would hold the write lock
		la.abandon()     // host a hangs: no more renewals

		_, err = b.AcquireLease(ctx, key, hostOpts("host-b"))
		require.ErrorIs(t, err, ErrLeased, "not before the lease expired")
		wctx, cancel := context.WithTimeout(ctx, 10*testTTL)
		defer cancel()
		start := time.Now()
		lb, err := b.WaitLease(wctx, key, hostOpts("host-b"))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), testTTL/2)

		// Host a wakes up: its lease is gone, and so is its next batch.
		assert.ErrorIs(t, la.Renew(ctx), ErrLeaseLost)
		<-la.Lost()
		assert.ErrorIs(t, la.Err(), ErrLeaseLost)
		batch, err = a.Begin(ctx)
		require.NoError(t, err)
		res, err := batch.Record(ctx, testMessage(6))
		require.NoError(t, err)
		require.False(t, res.Already)
		assert.ErrorIs(t, batch.Commit(ctx), ErrLeaseLost, "the fence refuses a lost holder's batch")

		assert.Equal(t, 5, recordAll(t, b, 10), "messages 6 to 10 are new to host b")
		require.NoError(t, lb.Release(ctx))
	})
}

// TestLeaseSIGKILL kills a lease holder's process with SIGKILL while it
// holds the lease and renews it: another takes the mailbox once the TTL
// has passed, and what the dead host committed is kept, once.
func TestLeaseSIGKILL(t *testing.T) {
	if path := os.Getenv("SUPPRESS_LEASE_STATE"); path != "" {
		leaseChild(path)
		return
	}
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path) // migrated before the child starts
		cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseSIGKILL$")
		cmd.Env = append(os.Environ(), "SUPPRESS_LEASE_STATE="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "holding\n", line)

		_, err = db.AcquireLease(ctx, "mbox", hostOpts("parent"))
		require.ErrorIs(t, err, ErrLeased, "the child holds it")
		time.Sleep(2 * testTTL)
		_, err = db.AcquireLease(ctx, "mbox", hostOpts("parent"))
		require.ErrorIs(t, err, ErrLeased, "the child renews it")

		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		wctx, cancel := context.WithTimeout(ctx, 10*testTTL)
		defer cancel()
		l, err := db.WaitLease(wctx, "mbox", hostOpts("parent"))
		require.NoError(t, err)
		defer l.Release(ctx)

		assert.Equal(t, 3, recordAll(t, db, 6), "the child's three messages are kept and not counted again")
	})
}

// recordAll records testMessage(1) to testMessage(n), checks that the
// state then holds each once, and returns how many were new.
func recordAll(t *testing.T, db *DB, n uint32) int {
	t.Helper()
	fresh := 0
	for uid := uint32(1); uid <= n; uid++ {
		res, err := db.Record(context.Background(), testMessage(uid))
		require.NoError(t, err)
		if !res.Already {
			fresh++
		}
	}
	msgs, evs := countRows(t, db)
	assert.Equal(t, int(n), msgs)
	assert.Equal(t, 2*int(n), evs)
	return fresh
}

// leaseChild takes the lease, records three messages, says so, and waits
// to be killed.
func leaseChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		os.Exit(2)
	}
	if _, err := db.AcquireLease(ctx, "mbox", hostOpts("child")); err != nil {
		os.Exit(3)
	}
	for uid := uint32(1); uid <= 3; uid++ {
		if _, err := db.Record(ctx, testMessage(uid)); err != nil {
			os.Exit(4)
		}
	}
	os.Stdout.WriteString(strings.TrimSpace("holding") + "\n")
	select {}
}
