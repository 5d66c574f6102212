package imapfetch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
)

// Integration tests of issue 24 against a real Dovecot in two layouts:
// its own ("" namespace prefix, "/" delimiter, MOVE and UIDPLUS), and
// Courier-IMAP's (every folder under "INBOX." with "." as delimiter, no
// MOVE, no UIDPLUS).

// layouts are the server layouts the tests run against.
var layouts = []struct {
	name   string
	opts   *dovecottest.Options
	prefix string
}{
	{"dovecot", nil, ""},
	{"courier", &dovecottest.Options{CourierLayout: true, Capability: dovecottest.CourierCapability}, "INBOX."},
}

// layoutOptions moves bounces and the rest to bouncer's default folders,
// placed in the server's namespace.
func layoutOptions(srv *dovecottest.Server) *Options {
	opts := dovecotOptions(srv)
	opts.Action = ActionMove
	opts.ProcessedMailbox, opts.UnrecognizedMailbox = "bounces-processed", "bounces-unrecognized"
	opts.DefaultNamed = FolderProcessed | FolderUnrecognized
	opts.BatchSize = 10
	return opts
}

// Every message is filed in the folders of the server's namespace, and a
// rerun changes nothing.
func TestDovecotLayoutsFileEverything(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			srv := dovecottest.StartWith(t, l.opts)
			const n = 30
			for i := range n {
				srv.Append(t, "INBOX", testMessage(i, 200))
			}
			opts := layoutOptions(srv)
			state := &MemState{}
			rec := newRecorder()
			f := dialTest(t, srv.URL("INBOX"), opts)
			folders := f.Folders()
			assert.Equal(t, l.prefix+"bounces-processed", folders.Processed)
			assert.Equal(t, l.prefix+"bounces-unrecognized", folders.Unrecognized)
			st, err := f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "Fetch()")
			assert.Equal(t, 0, st.Reconnects, "Reconnects")
			rec.checkOnce(t, n)
			inbox, _ := srv.MailboxStatus(t, "INBOX")
			processed, _ := srv.MailboxStatus(t, folders.Processed)
			unrecognized, _ := srv.MailboxStatus(t, folders.Unrecognized)
			assert.Equal(t, [3]int{0, n / 2, n / 2}, [3]int{inbox, processed, unrecognized}, "INBOX, processed, unrecognized")

			f = dialTest(t, srv.URL("INBOX"), opts)
			st, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "rerun")
			assert.Equal(t, 0, st.Fetched, "rerun fetched")
			processed, _ = srv.MailboxStatus(t, folders.Processed)
			assert.Equal(t, n/2, processed, "rerun: processed")
		})
	}
}

// A run killed between COPY and EXPUNGE (on the Courier layout, which
// has no MOVE) and resumed files each message exactly once, as a run not
// killed does.
func TestDovecotLayoutsKillResume(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			srv := dovecottest.StartWith(t, l.opts)
			const n = 25
			for i := range n {
				srv.Append(t, "INBOX", testMessage(2*i, 300))
			}
			opts := layoutOptions(srv)
			f := dialTest(t, srv.URL("INBOX"), opts)
			dest := f.Folders().Processed
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			copies := 0
			f.afterCopy = func() error {
				if copies++; copies == 2 {
					cancel()
					return errKilled
				}
				return nil
			}
			state := &MemState{}
			rec := newRecorder()
			_, err := f.Fetch(ctx, state, rec.handle)
			if l.opts != nil { // no MOVE: the kill struck between COPY and EXPUNGE
				require.ErrorIs(t, err, context.Canceled)
				inbox, _ := srv.MailboxStatus(t, "INBOX")
				require.Equal(t, n-10, inbox, "INBOX after the kill: one batch moved, one copied")
			} else {
				require.NoError(t, err, "with MOVE there is no cut between COPY and EXPUNGE")
			}
			f.Close()

			f = dialTest(t, srv.URL("INBOX"), opts)
			_, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err, "resume")
			inbox, _ := srv.MailboxStatus(t, "INBOX")
			processed, _ := srv.MailboxStatus(t, dest)
			assert.Equal(t, 0, inbox, "INBOX after the resume")
			assert.Equal(t, n, processed, "%s: each message exactly once", dest)
		})
	}
}
