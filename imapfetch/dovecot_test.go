package imapfetch

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Integration tests against a real Dovecot started on loopback (skipped
// when Dovecot is not installed, unless BOUNCER_REQUIRE_DOVECOT=1).

func dovecotOptions(srv *dovecottest.Server) *Options {
	return &Options{
		SecretFile:     srv.PasswordFile,
		CAFile:         srv.CACertFile,
		Backoff:        20 * time.Millisecond,
		MaxBackoff:     100 * time.Millisecond,
		MaxRetries:     3,
		CommandTimeout: 10 * time.Second,
		DialTimeout:    5 * time.Second,
	}
}

func TestDovecotTLSMoveCreatesFolders(t *testing.T) {
	t.Parallel()
	srv := dovecottest.Start(t)
	const n = 20
	for i := 0; i < n; i++ {
		srv.Append(t, "INBOX", testMessage(i, 200))
	}

	t.Run("certificate refused without the CA file", func(t *testing.T) {
		opts := dovecotOptions(srv)
		opts.CAFile = ""
		_, err := Dial(context.Background(), srv.URL("INBOX"), opts)
		assert.ErrorIs(t, err, ErrCertificate, "Dial() without CA")
	})
	opts := dovecotOptions(srv)
	opts.Action = ActionMove
	opts.ProcessedMailbox = "bounces/processed"
	opts.UnrecognizedMailbox = "bounces-unrecognized"
	opts.BatchSize = 7
	f := dialTest(t, srv.URL("INBOX"), opts)
	rec := newRecorder()
	st, err := f.Fetch(context.Background(), &MemState{}, rec.handle)
	require.NoError(t, err, "Fetch()")
	rec.checkOnce(t, n)
	assert.Equal(t, n/2, st.Processed, "Stats")
	assert.Equal(t, n/2, st.Unrecognized, "Stats")
	for mailbox, want := range map[string]int{"INBOX": 0, "bounces/processed": n / 2, "bounces-unrecognized": n / 2} {
		got, _ := srv.MailboxStatus(t, mailbox)
		assert.Equal(t, want, got, "%s holds %d messages", mailbox, got)
	}

	// Last: Dovecot slows down logins from an address after a failure.
	t.Run("wrong password", func(t *testing.T) {
		opts := dovecotOptions(srv)
		opts.SecretFile = filepath.Join(t.TempDir(), "password")
		writeFile(t, opts.SecretFile, "wrong\n")
		_, err := Dial(context.Background(), srv.URL("INBOX"), opts)
		assert.ErrorIs(t, err, ErrAuth, "Dial() with a wrong password")
		assert.NotContains(t, err.Error(), "\n", "Dial() with a wrong password")
	})
}

func TestDovecotKickMidFetch(t *testing.T) {
	tests := []struct {
		name   string
		action Action
	}{
		{name: "move", action: ActionMove},
		{name: "delete", action: ActionDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dovecottest.Start(t)
			const n = 40
			for i := 0; i < n; i++ {
				srv.Append(t, "INBOX", testMessage(i, 2000))
			}
			opts := dovecotOptions(srv)
			opts.Action = tc.action
			opts.ProcessedMailbox = "done"
			opts.UnrecognizedMailbox = "done"
			opts.BatchSize = 10
			f := dialTest(t, srv.URL("INBOX"), opts)

			rec := newRecorder()
			kicks := 0
			rec.hook = func(committed int) {
				// Drop the session twice, inside a batch.
				if committed == 15 || committed == 27 {
					srv.Kick(t)
					kicks++
				}
			}
			state := &MemState{}
			st, err := f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "Fetch()")
			rec.checkOnce(t, n)
			assert.Equal(t, 2, kicks, "kicks")
			assert.GreaterOrEqual(t, st.Reconnects, 1, "kicks")
			got, _ := srv.MailboxStatus(t, "INBOX")
			assert.Equal(t, 0, got, "INBOX holds %d", got)
			if tc.action == ActionMove {
				got, _ := srv.MailboxStatus(t, "done")
				assert.Equal(t, n, got, "done holds %d", got)
			}
			_, last, _ := state.Load(context.Background(), "INBOX")
			assert.EqualValues(t, n, last, "last UID")
		})
	}
}

func TestDovecotUIDValidityChange(t *testing.T) {
	t.Parallel()
	srv := dovecottest.Start(t)
	for i := 0; i < 5; i++ {
		srv.Append(t, "INBOX", testMessage(2*i, 0))
	}
	opts := dovecotOptions(srv)
	f := dialTest(t, srv.URL("INBOX"), opts)
	rec := newRecorder()
	state := &MemState{}
	st, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err, "first Fetch()")
	require.Equal(t, 5, st.Fetched, "first Fetch()")

	srv.SetUIDValidity(t, "INBOX", 777)
	srv.Append(t, "INBOX", testMessage(10, 0))
	st, err = f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err, "Fetch() after the UIDVALIDITY change")
	assert.Equal(t, 1, st.Resets, "Stats")
	assert.Equal(t, 6, st.Fetched, "Stats")
	v, last, _ := state.Load(context.Background(), "INBOX")
	assert.EqualValues(t, 777, v, "state")
	assert.NotEqual(t, 0, last, "state")
	assert.Equal(t, 2, rec.committed["<m0@test>"], "commits")
	assert.Equal(t, 1, rec.committed["<m10@test>"], "commits")
}

func TestDovecotWatch(t *testing.T) {
	t.Parallel()
	srv := dovecottest.Start(t)
	opts := dovecotOptions(srv)
	opts.Action = ActionFlag
	f := dialTest(t, srv.URL("INBOX"), opts)
	rec := newRecorder()
	seen := make(chan int, 10)
	rec.hook = func(n int) { seen <- n }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx, &MemState{}, rec.handle) }()

	for i := 0; i < 3; i++ {
		time.Sleep(50 * time.Millisecond) // let Watch reach IDLE
		srv.Append(t, "INBOX", testMessage(2*i, 0))
		if i == 1 {
			srv.Kick(t) // a drop while idling
		}
		select {
		case <-seen:
		case err := <-done:
			t.Fatalf("Watch returned %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not seen by Watch", i)
		}
	}
	cancel()
	assert.NoError(t, <-done, "Watch()")
}

// BenchmarkFetchDovecot measures messages per second fetched (streamed to
// a handler that discards them, no action) from a local Dovecot over TLS,
// with 5,000 messages of about 2.5 KB in the mailbox.
func BenchmarkFetchDovecot(b *testing.B) {
	srv := dovecottest.Start(b)
	const n = 5000
	for i := 0; i < n; i++ {
		srv.Append(b, "INBOX", testMessage(i, 2300))
	}
	f, err := Dial(context.Background(), srv.URL("INBOX"), dovecotOptions(srv))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	discard := func(_ context.Context, m *Message) (Outcome, error) {
		if _, err := io.Copy(io.Discard, m.Body); err != nil {
			return 0, err
		}
		return OutcomeProcessed, nil
	}
	// Warm up: Dovecot indexes the new Maildir files on first access.
	if st, err := f.Fetch(context.Background(), &MemState{}, discard); err != nil || st.Fetched != n {
		b.Fatalf("warm-up Fetch() = %+v, %v", st, err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		st, err := f.Fetch(context.Background(), &MemState{}, discard)
		if err != nil || st.Fetched != n {
			b.Fatalf("Fetch() = %+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// TestDovecotForeignHistory runs a mailbox with one state, then with
// another (a second --state file): the second warns that the processed
// folder holds messages it has no record of; the first, run again, does
// not.
func TestDovecotForeignHistory(t *testing.T) {
	t.Parallel()
	srv := dovecottest.Start(t)
	for i := 0; i < 3; i++ {
		srv.Append(t, "INBOX", testMessage(i, 100))
	}
	run := func(state State) (bool, string) {
		var log strings.Builder
		opts := dovecotOptions(srv)
		opts.Action = ActionMove
		opts.ProcessedMailbox = "processed"
		opts.UnrecognizedMailbox = "unrecognized"
		opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
		f := dialTest(t, srv.URL("INBOX"), opts)
		_, err := f.Fetch(context.Background(), state, newRecorder().handle)
		require.NoError(t, err)
		return f.ForeignHistory(), log.String()
	}
	first := &MemState{}
	foreign, log := run(first)
	assert.False(t, foreign, "a first run over an empty processed folder: %s", log)
	srv.Append(t, "INBOX", testMessage(3, 100))
	srv.Append(t, "INBOX", testMessage(5, 100))
	foreign, log = run(first)
	assert.False(t, foreign, "the same state again: %s", log)
	srv.Append(t, "INBOX", testMessage(7, 100))
	foreign, log = run(&MemState{})
	assert.True(t, foreign, "another state over a processed folder in use")
	assert.Contains(t, log, "another state may be working this mailbox")
}
