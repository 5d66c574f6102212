package imapfetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFetchMoves(t *testing.T) {
	tests := []struct {
		name     string
		caps     imap.CapSet
		wantMove bool
	}{
		{name: "IMAP4rev2 with MOVE and UIDPLUS", caps: capsRev2, wantMove: true},
		{name: "IMAP4rev1 only, COPY fallback", caps: capsRev1, wantMove: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, tc.caps)
			const n = 7
			for i := 0; i < n; i++ {
				srv.append(t, "INBOX", testMessage(i, 0))
			}
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "bounces-processed"
			opts.UnrecognizedMailbox = "bounces-unrecognized"
			opts.BatchSize = 3
			f := dialTest(t, srv.url("INBOX"), opts)
			require.Equal(t, tc.wantMove, f.sess.caps.Has(imap.CapMove), "server MOVE capability")
			require.Equal(t, tc.wantMove, f.sess.caps.Has(imap.CapUIDPlus), "server UIDPLUS capability")

			rec := newRecorder()
			state := &MemState{}
			st, err := f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "Fetch()")
			rec.checkOnce(t, n)
			assert.Equal(t, n, st.Fetched, "Stats")
			assert.Equal(t, 4, st.Processed, "Stats")
			assert.Equal(t, 3, st.Unrecognized, "Stats")
			for mailbox, want := range map[string]int{"INBOX": 0, "bounces-processed": 4, "bounces-unrecognized": 3} {
				got := srv.count(t, mailbox)
				assert.Equal(t, want, got, "%s holds %d messages", mailbox, got)
			}
			_, last, _ := state.Load(context.Background(), "INBOX")
			assert.EqualValues(t, n, last, "state last UID")

			// A second pass finds nothing.
			st, err = f.Fetch(context.Background(), state, rec.handle)
			assert.NoError(t, err, "second Fetch()")
			assert.Equal(t, 0, st.Fetched, "second Fetch()")
		})
	}
}

func TestFetchIncrementalFlag(t *testing.T) {
	srv := startMem(t, capsRev2)
	for i := 0; i < 3; i++ {
		srv.append(t, "INBOX", testMessage(2*i, 0))
	}
	opts := testOptions(t, testPassword)
	opts.Action = ActionFlag
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	state := &MemState{}
	_, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err)
	srv.append(t, "INBOX", testMessage(6, 0), testMessage(8, 0))
	st, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Fetched, "second Fetch fetched %d", st.Fetched)
	require.Len(t, rec.messages, 5, "handler saw %d messages", len(rec.messages))
	assert.EqualValues(t, 4, rec.messages[3].UID, "handler saw %d messages", len(rec.messages))
	assert.EqualValues(t, 5, rec.messages[4].UID, "handler saw %d messages", len(rec.messages))
	assert.Equal(t, 5, srv.count(t, "INBOX"), "INBOX holds %d messages", srv.count(t, "INBOX"))
	// Every message carries \Seen and the keyword.
	data, err := f.sess.c.UIDSearch(&imapSearchUnflagged, nil).Wait()
	require.NoError(t, err)
	uids := data.AllUIDs()
	assert.Empty(t, uids, "messages without \\Seen or %s: %v", DefaultKeyword, uids)
}

func TestFetchUIDValidityChange(t *testing.T) {
	srv := startMem(t, capsRev2)
	require.NoError(t, srv.user.Create("bounces", nil))
	srv.append(t, "bounces", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0))
	opts := testOptions(t, testPassword)
	rec := newRecorder()
	state := &MemState{}
	f := dialTest(t, srv.url("bounces"), opts)
	_, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err)
	oldValidity, last, _ := state.Load(context.Background(), "bounces")
	require.EqualValues(t, 3, last, "last UID")
	f.Close()

	// Re-create the mailbox: new UIDVALIDITY, UIDs start at 1 again.
	require.NoError(t, srv.user.Delete("bounces"))
	require.NoError(t, srv.user.Create("bounces", nil))
	srv.append(t, "bounces", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0), testMessage(6, 0))

	f = dialTest(t, srv.url("bounces"), opts)
	st, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Resets, "Stats")
	assert.Equal(t, 4, st.Fetched, "Stats")
	newValidity, last, _ := state.Load(context.Background(), "bounces")
	assert.NotEqual(t, oldValidity, newValidity, "state")
	assert.EqualValues(t, 4, last, "state")
	// The idempotent handler saw the first three twice.
	assert.Equal(t, 2, rec.committed["<m0@test>"], "commits")
	assert.Equal(t, 1, rec.committed["<m6@test>"], "commits")
}

func TestHandlerErrorKeepsMessage(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		name          string
		failedMailbox string
		wantErr       error
		wantInbox     int
		wantFailed    int // -1: mailbox absent
		wantLastUID   uint32
	}{
		{name: "no failed mailbox stops and leaves it", wantErr: ErrHandler, wantInbox: 3, wantFailed: -1, wantLastUID: 1},
		{name: "failed mailbox receives it", failedMailbox: "bounces-failed", wantInbox: 0, wantFailed: 1, wantLastUID: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev1)
			srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0), testMessage(6, 0))
			opts := testOptions(t, testPassword)
			opts.Action = ActionDelete
			opts.FailedMailbox = tc.failedMailbox
			f := dialTest(t, srv.url("INBOX"), opts)
			rec := newRecorder()
			rec.fail = func(id string) error {
				if id == "<m2@test>" {
					return boom
				}
				return nil
			}
			state := &MemState{}
			_, err := f.Fetch(context.Background(), state, rec.handle)
			require.ErrorIs(t, err, tc.wantErr, "Fetch()")
			if err != nil {
				assert.True(t, strings.HasPrefix(err.Error(), "imapfetch: "), "error text %q: want the imapfetch: prefix", err)
				assert.Contains(t, err.Error(), boom.Error(), "error text: want the cause")
			}
			got := srv.count(t, "INBOX")
			assert.Equal(t, tc.wantInbox, got, "INBOX holds %d", got)
			got = srv.count(t, "bounces-failed")
			assert.Equal(t, tc.wantFailed, got, "bounces-failed holds %d", got)
			_, last, _ := state.Load(context.Background(), "INBOX")
			assert.Equal(t, tc.wantLastUID, last, "last UID")
		})
	}
}

func TestInvalidOutcomeIsAnError(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0))
	opts := testOptions(t, testPassword)
	opts.Action = ActionDelete
	f := dialTest(t, srv.url("INBOX"), opts)
	_, err := f.Fetch(context.Background(), &MemState{}, func(context.Context, *Message) (Outcome, error) {
		return 0, nil
	})
	assert.ErrorIs(t, err, ErrHandler, "Fetch()")
	assert.Equal(t, 1, srv.count(t, "INBOX"), "message deleted after a handler returned no outcome")
}

func TestTruncation(t *testing.T) {
	srv := startMem(t, capsRev2)
	small := testMessage(0, 10)
	big := testMessage(2, 5000)
	srv.append(t, "INBOX", small, big)
	opts := testOptions(t, testPassword)
	opts.MaxMessageBytes = 1000
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	st, err := f.Fetch(context.Background(), &MemState{}, rec.handle)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Truncated, "Stats.Truncated")
	tests := []struct {
		id            string
		wantSize      int64
		wantBody      []byte
		wantTruncated bool
	}{
		{"<m0@test>", int64(len(small)), small, false},
		{"<m2@test>", int64(len(big)), big[:1000], true},
	}
	for i, tc := range tests {
		m := rec.messages[i]
		assert.Equal(t, tc.wantSize, m.Size, "message %s: Size %d Truncated %v", tc.id, m.Size, m.Truncated)
		assert.Equal(t, tc.wantTruncated, m.Truncated, "message %s: Size %d Truncated %v", tc.id, m.Size, m.Truncated)
		got := rec.bodies[tc.id]
		assert.Equal(t, string(tc.wantBody), string(got), "message %s: body of %d bytes", tc.id, len(got))
	}
}

func TestWatch(t *testing.T) {
	tests := []struct {
		name   string
		noIdle bool
	}{
		{name: "IDLE"},
		{name: "NOOP polling", noIdle: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev2)
			srv.append(t, "INBOX", testMessage(0, 0))
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			opts.PollInterval = 20 * time.Millisecond
			f := dialTest(t, srv.url("INBOX"), opts)
			f.noIdle = tc.noIdle

			seen := make(chan string, 10)
			rec := newRecorder()
			rec.hook = func(n int) { seen <- fmt.Sprint(n) }
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.Watch(ctx, &MemState{}, rec.handle) }()

			wait := func(what string) {
				t.Helper()
				select {
				case <-seen:
				case err := <-done:
					t.Fatalf("Watch returned %v while waiting for %s", err, what)
				case <-time.After(5 * time.Second):
					t.Fatalf("timeout waiting for %s", what)
				}
			}
			wait("the first message")
			srv.append(t, "INBOX", testMessage(2, 0))
			wait("a message appended while watching")
			// The move follows the commit: wait for it.
			for deadline := time.Now().Add(5 * time.Second); srv.count(t, "done") != 2 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "Watch() after cancel")
			case <-time.After(5 * time.Second):
				t.Fatal("Watch did not return after cancel")
			}
			require.Len(t, rec.committed, 2, "commits")
			assert.Equal(t, 1, rec.committed["<m0@test>"], "commits")
			assert.Equal(t, 1, rec.committed["<m2@test>"], "commits")
			got := srv.count(t, "done")
			assert.Equal(t, 2, got, "done holds %d messages", got)
		})
	}
}

// A pass that ended cleanly must not leak into the next one: a fresh
// State means everything is fetched again.
func TestFetchFreshStateRefetches(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0))
	f := dialTest(t, srv.url("INBOX"), testOptions(t, testPassword))
	for i := 0; i < 2; i++ {
		st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
		assert.NoError(t, err, "Fetch() #%d with a fresh State", i+1)
		assert.Equal(t, 2, st.Fetched, "Fetch() #%d with a fresh State", i+1)
	}
}

// A message expunged by someone else between the listing and its fetch is
// gone: the pass goes on past it.
func TestFetchMessageExpungedMeanwhile(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0))
	other, err := imapclient.DialInsecure(srv.addr, nil)
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Login(testUser, testPassword).Wait())
	_, err = other.Select("INBOX", nil).Wait()
	require.NoError(t, err)

	opts := testOptions(t, testPassword)
	opts.BatchSize = 1
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	rec.hook = func(n int) {
		if n == 1 {
			uid2 := imap.UIDSetNum(2)
			assert.NoError(t, other.Store(uid2, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
			assert.NoError(t, other.UIDExpunge(uid2).Close())
		}
	}
	state := &MemState{}
	st, err := f.Fetch(context.Background(), state, rec.handle)
	require.NoError(t, err, "Fetch()")
	require.Equal(t, 2, st.Fetched, "Fetch()")
	assert.Equal(t, 0, rec.committed["<m2@test>"], "commits")
	assert.Equal(t, 1, rec.committed["<m4@test>"], "commits")
	_, last, _ := state.Load(context.Background(), "INBOX")
	assert.EqualValues(t, 3, last, "last UID")
}
