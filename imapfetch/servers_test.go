package imapfetch

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moveOptions returns options that move bounces to processed and the rest
// to unrecognized, both bouncer's default names unless given is set.
func moveOptions(t *testing.T, given bool, processed, unrecognized string) *Options {
	opts := testOptions(t, testPassword)
	opts.Action = ActionMove
	opts.ProcessedMailbox, opts.UnrecognizedMailbox = processed, unrecognized
	if !given {
		opts.DefaultNamed = FolderProcessed | FolderUnrecognized
	}
	return opts
}

// fillInbox appends n test messages (bounces at even i) to INBOX.
func fillInbox(t *testing.T, srv *memServer, n int) {
	for i := range n {
		srv.append(t, "INBOX", testMessage(i, 50))
	}
}

// uidsFlagged returns how many messages of mailbox carry flag.
func uidsFlagged(t *testing.T, srv *memServer, mailbox string, flag imap.Flag) int {
	t.Helper()
	f := dialTest(t, srv.url(mailbox), testOptions(t, testPassword))
	got, err := f.sess.c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{flag}}, nil).Wait()
	require.NoError(t, err)
	return len(got.AllUIDs())
}

// The default folders are made under the server's personal namespace,
// whatever it answers for a missing folder (a plain NO, or TRYCREATE after
// the command name), every message is filed once, and a rerun changes
// nothing.
func TestServersDefaultFolders(t *testing.T) {
	for _, q := range []quirks{courier, cyrus, imap4d} {
		t.Run(q.server, func(t *testing.T) {
			srv := startScripted(t, q)
			const n = 8
			fillInbox(t, srv.memServer, n)
			opts := moveOptions(t, false, "bounces-processed", "bounces-unrecognized")
			state := &MemState{}
			rec := newRecorder()
			f := dialTest(t, srv.url("INBOX"), opts)
			want := Folders{Processed: q.prefix + "bounces-processed", Unrecognized: q.prefix + "bounces-unrecognized", Prefix: q.prefix, Delimiter: q.delim}
			assert.Equal(t, want, f.Folders(), "Folders()")
			st, err := f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "Fetch()")
			assert.Equal(t, 0, st.Reconnects, "Reconnects")
			rec.checkOnce(t, n)
			assert.Equal(t, 0, srv.count(t, "INBOX"), "INBOX")
			assert.Equal(t, n/2, srv.count(t, want.Processed), want.Processed)
			assert.Equal(t, n/2, srv.count(t, want.Unrecognized), want.Unrecognized)

			f = dialTest(t, srv.url("INBOX"), opts)
			st, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "rerun")
			assert.Equal(t, 0, st.Fetched, "rerun fetched")
			assert.Equal(t, n/2, srv.count(t, want.Processed), "rerun: %s", want.Processed)
		})
	}
}

// A folder the user named that the server will not create is refused for
// good at once, naming CREATE, with no retry; the messages stay in place,
// carry no mark of the attempt, and a later run with the right name files
// them all.
func TestServersGivenFolderRefused(t *testing.T) {
	for _, q := range []quirks{courier, cyrus} {
		t.Run(q.server, func(t *testing.T) {
			srv := startScripted(t, q)
			const n = 4
			fillInbox(t, srv.memServer, n)
			f := dialTest(t, srv.url("INBOX"), moveOptions(t, true, "bounces-processed", ""))
			assert.Equal(t, "bounces-processed", f.Folders().Processed, "a given name is used as given")
			st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
			require.ErrorIs(t, err, ErrRefused, "Fetch()")
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "CREATE", e.Op, "refused command")
			assert.Equal(t, "bounces-processed", e.Mailbox)
			assert.Equal(t, 0, st.Reconnects, "Reconnects: a refusal is not retried")
			assert.Equal(t, n/2, st.LeftInPlace, "LeftInPlace")
			assert.Equal(t, n, srv.count(t, "INBOX"), "INBOX")
			assert.Zero(t, uidsFlagged(t, srv.memServer, "INBOX", MovingKeyword), "messages left marked as being moved")

			rec := newRecorder()
			f = dialTest(t, srv.url("INBOX"), moveOptions(t, true, q.prefix+"bounces-processed", q.prefix+"bounces-unrecognized"))
			_, err = f.Fetch(context.Background(), &MemState{}, rec.handle)
			require.NoError(t, err, "Fetch() with the right name")
			assert.Equal(t, 0, srv.count(t, "INBOX"), "INBOX")
			assert.Equal(t, n/2, srv.count(t, q.prefix+"bounces-processed"))
		})
	}
}

// Messages left marked $BouncerMoving by an interrupted move into a folder
// that does not exist (the stuck Courier mailbox of issue 24) are filed:
// the refused EXAMINE of the missing folder means nothing was copied.
func TestServersMovingMarkMissingFolder(t *testing.T) {
	srv := startScripted(t, courier)
	const n = 4
	for i := range n {
		srv.append(t, "INBOX", testMessage(2*i, 10))
	}
	f := dialTest(t, srv.url("INBOX"), testOptions(t, testPassword))
	var all imap.UIDSet
	all.AddRange(1, 0)
	require.NoError(t, f.sess.c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{MovingKeyword}}, nil).Close())
	f.Close()

	rec := newRecorder()
	f = dialTest(t, srv.url("INBOX"), moveOptions(t, false, "bounces-processed", ""))
	st, err := f.Fetch(context.Background(), &MemState{}, rec.handle)
	require.NoError(t, err, "Fetch()")
	assert.Equal(t, 0, st.Reconnects)
	assert.Equal(t, 0, srv.count(t, "INBOX"))
	assert.Equal(t, n, srv.count(t, "INBOX.bounces-processed"))
}

// A run killed between COPY and EXPUNGE and resumed leaves each message
// once in the destination: on Courier, whose SEARCH sizes cannot be
// trusted, and on imap4d, which keeps no keywords (the copy journal of the
// State tells).
func TestServersKillResume(t *testing.T) {
	for _, q := range []quirks{courier, imap4d} {
		t.Run(q.server, func(t *testing.T) {
			srv := startScripted(t, q)
			const n = 6
			for i := range n {
				srv.append(t, "INBOX", testMessage(2*i, 100))
			}
			opts := moveOptions(t, false, "bounces-processed", "")
			f := dialTest(t, srv.url("INBOX"), opts)
			dest := f.Folders().Processed
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.afterCopy = func() error {
				cancel()
				return errKilled
			}
			state := &MemState{}
			rec := newRecorder()
			_, err := f.Fetch(ctx, state, rec.handle)
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, n, srv.count(t, dest), "copied before the kill")
			require.Equal(t, n, srv.count(t, "INBOX"), "not expunged before the kill")
			f.Close()

			f = dialTest(t, srv.url("INBOX"), opts)
			_, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err)
			assert.Equal(t, 0, srv.count(t, "INBOX"))
			assert.Equal(t, n, srv.count(t, dest), "each message exactly once in %s", dest)
			copying, err := state.Copying(context.Background(), "INBOX", dest, 1)
			require.NoError(t, err)
			assert.Empty(t, copying, "copy journal after the move")
		})
	}
}

// A connection dropped after the server expunged, before it answered, is
// resumed by acting only on the messages still there: imap4d answers BAD
// to a UID COPY of a UID that is gone.
func TestServersReplayAfterDrop(t *testing.T) {
	srv := startScripted(t, imap4d)
	const n = 6
	for i := range n {
		srv.append(t, "INBOX", testMessage(2*i, 10))
	}
	srv.dropAfterExpunge = true
	rec := newRecorder()
	f := dialTest(t, srv.url("INBOX"), moveOptions(t, true, "done", ""))
	st, err := f.Fetch(context.Background(), &MemState{}, rec.handle)
	require.NoError(t, err, "Fetch()")
	assert.Equal(t, 1, st.Reconnects, "Reconnects")
	assert.Zero(t, st.LeftInPlace, "LeftInPlace")
	assert.Len(t, rec.committed, n, "messages committed")
	for id, c := range rec.committed {
		assert.Equal(t, 1, c, "%s committed %d times", id, c)
	}
	assert.Equal(t, 0, srv.count(t, "INBOX"))
	assert.Equal(t, n, srv.count(t, "done"))
}

// Watch finds new mail on a server that reports nothing during IDLE, by
// the NOOP it sends every IdleRecheck.
func TestIdleRecheck(t *testing.T) {
	srv := startScripted(t, imap4d)
	opts := testOptions(t, testPassword)
	opts.IdleRecheck = 50 * time.Millisecond
	opts.IdleTimeout = time.Hour
	f := dialTest(t, srv.url("INBOX"), opts)
	got := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- f.Watch(ctx, &MemState{}, func(_ context.Context, m *Message) (Outcome, error) {
			got <- fmt.Sprint(m.UID)
			return OutcomeProcessed, nil
		})
	}()
	time.Sleep(100 * time.Millisecond) // Watch is idling
	srv.append(t, "INBOX", testMessage(0, 0))
	select {
	case uid := <-got:
		assert.Equal(t, "1", uid)
	case err := <-done:
		t.Fatalf("Watch() returned %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("new mail not seen while idling on a server silent in IDLE")
	}
	cancel()
	require.NoError(t, <-done)
}

func TestResponseCode(t *testing.T) {
	tests := []struct {
		name string
		err  imap.Error
		want imap.ResponseCode
	}{
		{"code first", imap.Error{Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}, imap.ResponseCodeTryCreate},
		{"imap4d: after the command name", imap.Error{Text: "COPY [TRYCREATE] failed"}, imap.ResponseCodeTryCreate},
		{"imap4d: after UID COPY", imap.Error{Text: "UID COPY [trycreate] failed"}, imap.ResponseCodeTryCreate},
		{"plain NO", imap.Error{Text: "Mailbox does not exist"}, ""},
		{"bracket deep in the text", imap.Error{Text: "Client tried to access [nonexistent] namespace"}, ""},
		{"bracket after too many words", imap.Error{Text: "A B C D [TRYCREATE]"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, responseCode(&tc.err), "responseCode(%q)", tc.err.Text)
		})
	}
}

// A resume after a cut between COPY and EXPUNGE, on a server without
// keywords (imap4d), where the message has no Message-ID and the
// destination holds another message of the same size and INTERNALDATE
// (two bounces made by one MTA in the same second, for addresses of the
// same length): the other message is not taken for its copy, so the
// message is copied, not expunged uncopied.
func TestServersResumeTellsApartLookalikes(t *testing.T) {
	srv := startScripted(t, imap4d)
	const dest = "done"
	date := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	mine := []byte("From: MAILER-DAEMON@test\r\nSubject: Undelivered Mail\r\nX-Failed-Recipient: ann@example.net\r\n\r\nbody\r\n")
	other := []byte("From: MAILER-DAEMON@test\r\nSubject: Undelivered Mail\r\nX-Failed-Recipient: bob@example.net\r\n\r\nbody\r\n")
	require.Equal(t, len(mine), len(other))
	require.NoError(t, srv.user.Create(dest, nil))
	for mailbox, msg := range map[string][]byte{"INBOX": mine, dest: other} {
		_, err := srv.user.Append(mailbox, bytes.NewReader(msg), &imap.AppendOptions{Time: date})
		require.NoError(t, err)
	}
	// The journal of the cut run: UID 1 was being copied to dest.
	state := &MemState{}
	ctx := context.Background()
	require.NoError(t, state.BeginCopy(ctx, "INBOX", dest, 1, []uint32{1}))

	f := dialTest(t, srv.url("INBOX"), moveOptions(t, true, dest, ""))
	_, err := f.Fetch(ctx, state, newRecorder().handle)
	require.NoError(t, err, "Fetch()")
	assert.Equal(t, 0, srv.count(t, "INBOX"))
	assert.Equal(t, 2, srv.count(t, dest), "the message copied, beside its lookalike")
}
