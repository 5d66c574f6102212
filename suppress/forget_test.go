package suppress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

// forgetMessages are a history where "erase.me@example.com" appears in
// every place the state keeps text: its own events (hard, soft, a
// complaint), another recipient's diagnostic, the outbox, an allow and a
// pruned summary.
func forgetMessages() []*Message {
	var ms []*Message
	for i := range 30 {
		m := evidenceMessage(i, "erase.me@example.com", classify.ReasonUserUnknown)
		m.Events = append(m.Events, Event{Address: fmt.Sprintf("keep%d@example.com", i), Reason: classify.ReasonUserUnknown,
			Diagnostic: "550 forwarded from <Erase.Me@example.com>: no such user", Date: day(i, 2)})
		ms = append(ms, m)
	}
	return ms
}

func TestForgetErasesEveryRow(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "hook"}}))
		record(t, db, forgetMessages()...)
		_, err := db.Allow(ctx, AllowRequest{Addresses: []string{"erase.me@example.com"}, Reason: "asked by erase.me@example.com", At: day(40, 0)})
		require.NoError(t, err)
		// The lift of the allow, refused by the target with an answer
		// that quotes the address.
		var allowID int64
		require.NoError(t, db.sql.QueryRowContext(ctx, db.d.bind(`SELECT id FROM allows WHERE address = ?`), "erase.me@example.com").Scan(&allowID))
		require.NoError(t, db.MarkLift(ctx, "hook", allowID, OutboxFailed, "", errors.New("hook: 422 no subscriber Erase.Me@example.com"), day(41, 0)))

		rep, err := db.Forget(ctx, []string{"Erase.Me@Example.com"})
		require.NoError(t, err)
		assert.True(t, rep.Compacted, rep.Note)
		require.Len(t, rep.Addresses, 1)
		f := rep.Addresses[0]
		assert.Equal(t, ForgottenAddress{Address: "erase.me@example.com", Events: 30, Outbox: 30, Allows: 1, Lifts: 1, Pruned: 0, Scrubbed: 30}, f)
		var lifts int
		require.NoError(t, db.sql.QueryRowContext(ctx, `SELECT count(*) FROM lifts`).Scan(&lifts))
		assert.Zero(t, lifts, "the lift's record and its answer")

		hs, err := db.Why(ctx, nil, "erase.me@example.com")
		require.NoError(t, err)
		assert.False(t, hs[0].Known, "nothing left")
		hs, err = db.Why(ctx, nil, "keep3@example.com")
		require.NoError(t, err)
		require.Len(t, hs[0].Events, 1)
		assert.Equal(t, "550 forwarded from <"+Forgotten+">: no such user", hs[0].Events[0].Diagnostic)
		assert.True(t, hs[0].Suppressed, "others keep their history")

		// A rerun over the same messages records nothing again.
		for _, m := range forgetMessages() {
			res, err := db.Record(ctx, m)
			require.NoError(t, err)
			assert.True(t, res.Already)
		}
		assert.False(t, suppressed(t, db, "erase.me@example.com"))
	})
}

// TestForgetBytesGone writes a history, forgets an address while another
// connection (as bouncer run --watch would, holding the run lock) keeps
// recording, and checks that the address is in no byte of the SQLite
// files: the database, its -wal and its -shm.
func TestForgetBytesGone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	runner := openTest(t, path)
	require.NoError(t, runner.Lock(), "the run's lock, which Forget must not need")
	require.NoError(t, runner.SetOutbox([]OutboxTarget{{Name: "hook"}}))
	record(t, runner, forgetMessages()...)
	_, err := runner.Prune(ctx, PruneRequest{Before: day(10, 0), Policy: &Policy{Now: day(400, 0)}})
	require.NoError(t, err)

	require.True(t, inFiles(t, path, "erase.me@example.com"), "the address is in the files before Forget")

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		written atomic.Int64
	)
	wg.Add(1)
	go func() { // the running job
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			m := evidenceMessage(1000+i, fmt.Sprintf("new%d@example.com", i), classify.ReasonMailboxFull)
			if _, err := runner.Record(ctx, m); err != nil {
				t.Errorf("the running job: %v", err)
				return
			}
			written.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()

	forgetter := openTest(t, path)
	rep, err := forgetter.Forget(ctx, []string{"erase.me@example.com"})
	stop.Store(true)
	wg.Wait()
	require.NoError(t, err)
	assert.True(t, rep.Compacted, rep.Note)
	assert.Positive(t, written.Load(), "the job wrote beside Forget")
	assert.Equal(t, 1, rep.Addresses[0].Pruned, "the pruned summary")

	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, needle := range []string{"erase.me@example.com", "Erase.Me@example.com", "erase.me"} {
			assert.False(t, bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(needle))), "%q in %s", needle, filepath.Base(path+suffix))
		}
	}
	assert.True(t, inFiles(t, path, "keep3@example.com"), "another address is still there")
}

// inFiles reports whether s is in the bytes of the SQLite files of path.
func inFiles(t *testing.T, path, s string) bool {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestForgetBadAddress(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	_, err := db.Forget(context.Background(), []string{"nope"})
	assert.ErrorIs(t, err, ErrBadAddress)
}

// FuzzScrubText: whatever text quotes an address, in whatever case, the
// scrubbed text quotes it nowhere.
func FuzzScrubText(f *testing.F) {
	f.Add("erase.me@example.com", "550 <Erase.Me@Example.COM>: unknown; erase.me@example.comerase.me@example.com")
	f.Add("a@b.co", "a@b.a@b.coo A@B.CO \u212a")
	f.Add("k@example.com", "\u212a@EXAMPLE.COM")
	f.Fuzz(func(t *testing.T, addr, text string) {
		norm, err := NormalizeAddress(addr)
		if err != nil {
			return
		}
		out := scrubText(addressPattern(norm), text)
		if addressPattern(norm).MatchString(out) {
			t.Fatalf("scrubText(%q, %q) = %q: still quotes it", norm, text, out)
		}
	})
}
