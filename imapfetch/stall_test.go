package imapfetch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/internal/faultproxy"
)

// Issue 22 item 1: a server that stops in the middle of a message body
// (the Handler blocked reading it) costs IOTimeout, not the run: the
// connection is dropped, the Fetcher reconnects and resumes, and every
// message is handled exactly once. CommandTimeout is an hour: only the
// I/O timeout can end the stall. The context is the test's guard against a
// hang.
func TestDovecotStallMidBody(t *testing.T) {
	srv := dovecottest.StartWith(t, &dovecottest.Options{PlainListener: true})
	const (
		n       = 6
		padding = 100 << 10
		// stallAt falls inside the third message's body: the greeting,
		// login and listing take a few KiB.
		stallAt = 2*padding + padding/2
	)
	for i := 0; i < n; i++ {
		srv.Append(t, "INBOX", testMessage(i, padding))
	}
	tests := []struct {
		name   string
		target string
		scheme string
	}{
		{name: "imaps", target: srv.Addr, scheme: "imaps"},
		{name: "STARTTLS", target: srv.PlainAddr, scheme: "imap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proxy := faultproxy.Stall(t, tc.target, stallAt)
			opts := dovecotOptions(srv)
			opts.IOTimeout = 300 * time.Millisecond
			opts.CommandTimeout = time.Hour
			f := dialTest(t, tc.scheme+"://"+srv.User+"@"+proxy.Addr+"/INBOX", opts)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rec := newRecorder()
			st, err := f.Fetch(ctx, &MemState{}, rec.handle)
			require.NoError(t, err, "Fetch() through a stalling proxy")
			require.True(t, proxy.Stalled(), "the proxy never stalled")
			rec.checkOnce(t, n)
			assert.Equal(t, 1, st.Reconnects, "reconnections")
			assert.Len(t, rec.messages, n+1, "the stalled message was not handed to the Handler, then again")
		})
	}
}

// The I/O timeout bounds waits for bytes the server owes, not the quiet of
// a mailbox: Watch idles (IDLE, or between NOOP polls) many times longer
// than IOTimeout on one connection, and still gets new mail.
func TestWatchOutlastsIOTimeout(t *testing.T) {
	for _, noIdle := range []bool{false, true} {
		t.Run(map[bool]string{false: "IDLE", true: "NOOP polling"}[noIdle], func(t *testing.T) {
			srv := startMem(t, capsRev2)
			srv.append(t, "INBOX", testMessage(0, 0))
			proxy := faultproxy.Stall(t, srv.addr, 1<<40) // counts connections, never stalls
			opts := testOptions(t, testPassword)
			opts.IOTimeout = 50 * time.Millisecond
			opts.PollInterval = 400 * time.Millisecond
			f := dialTest(t, "imap://"+testUser+"@"+proxy.Addr+"/INBOX", opts)
			f.noIdle = noIdle

			seen := make(chan int, 10)
			rec := newRecorder()
			rec.hook = func(n int) { seen <- n }
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.Watch(ctx, &MemState{}, rec.handle) }()
			wait := func(what string) {
				t.Helper()
				select {
				case <-seen:
				case err := <-done:
					t.Fatalf("Watch returned %v while waiting for %s", err, what)
				case <-time.After(10 * time.Second):
					t.Fatalf("timeout waiting for %s", what)
				}
			}
			wait("the first message")
			time.Sleep(10 * opts.IOTimeout) // quiet: no byte owed
			srv.append(t, "INBOX", testMessage(2, 0))
			wait("a message appended after a quiet spell")
			cancel()
			require.NoError(t, <-done, "Watch() after cancel")
			assert.Equal(t, map[string]int{"<m0@test>": 1, "<m2@test>": 1}, rec.committed, "messages committed")
			assert.Equal(t, 1, proxy.Conns(), "connections: the quiet spell dropped one")
		})
	}
}
