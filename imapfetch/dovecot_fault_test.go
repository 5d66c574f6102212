package imapfetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
)

// Integration tests of issue 14 items 3 to 5 against a real Dovecot.

// logWait bounds the wait for a line in Dovecot's log, which its log
// process writes after the event, later on a loaded machine.
const logWait = 30 * time.Second

// waitLog waits for Dovecot's log to contain want (imap-login writes it
// asynchronously) and returns the log.
func waitLog(t *testing.T, srv *dovecottest.Server, want string) string {
	t.Helper()
	deadline := time.Now().Add(logWait)
	for {
		log := srv.Log(t)
		if strings.Contains(log, want) || time.Now().After(deadline) {
			return log
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With InsecurePlaintext, a server that offers STARTTLS is still talked to
// over TLS: Dovecot logs the login as "TLS", not "secured" (its word for a
// plaintext connection from loopback).
func TestDovecotInsecurePlaintextUsesSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := dovecottest.StartWith(t, &dovecottest.Options{PlainListener: true, DisablePlaintextAuth: true})
	srv.Append(t, "INBOX", testMessage(0, 100))

	opts := dovecotOptions(srv)
	opts.InsecurePlaintext = true
	f := dialTest(t, srv.PlainURL("INBOX"), opts)
	st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Fetched)
	assert.True(t, f.sess.tls, "session not marked as encrypted")

	log := waitLog(t, srv, "Login: user=<bounce>")
	var logins []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Login: user=<bounce>") {
			logins = append(logins, line)
		}
	}
	require.Len(t, logins, 1, "log:\n%s", log)
	assert.Contains(t, logins[0], ", TLS,", "the login did not go over TLS")
	assert.NotContains(t, logins[0], "secured")

	t.Run("certificate still verified", func(t *testing.T) {
		opts := dovecotOptions(srv)
		opts.InsecurePlaintext = true
		opts.CAFile = ""
		opts.MaxRetries = -1
		_, err := Dial(context.Background(), srv.PlainURL("INBOX"), opts)
		assert.ErrorIs(t, err, ErrCertificate, "an untrusted certificate must not fall back to plaintext")
	})
}

// A processed folder Dovecot cannot create is not retried: the bounces
// stay in INBOX, the rest of the pass goes on, the error says so, and the
// next pass handles only new mail. Two ways Dovecot refuses: a name it
// does not allow ("." with the "/" separator: MOVE gets NO [CANNOT] at
// once), and no right to create (MOVE gets NO [TRYCREATE], then CREATE
// NO [NOPERM]).
func TestDovecotUncreatableFolder(t *testing.T) {
	tests := []struct {
		name         string
		opts         dovecottest.Options
		processed    string
		unrecognized string // a creatable folder, or empty
		wantOp       string
		wantCode     imap.ResponseCode
	}{
		{name: "name refused", processed: "bounces.processed", unrecognized: "bounces-unrecognized", wantOp: "UID MOVE", wantCode: imap.ResponseCodeCannot},
		{name: "no right to create", opts: dovecottest.Options{DenyCreate: true}, processed: "bounces-processed", wantOp: "CREATE", wantCode: imap.ResponseCodeNoPerm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dovecottest.StartWith(t, &tc.opts)
			const n = 12
			for i := 0; i < n; i++ {
				srv.Append(t, "INBOX", testMessage(i, 100))
			}
			opts := dovecotOptions(srv)
			opts.Action = ActionMove
			opts.ProcessedMailbox = tc.processed
			opts.UnrecognizedMailbox = tc.unrecognized
			opts.BatchSize = 5
			opts.Backoff = time.Second // a retry would show in the time taken
			f := dialTest(t, srv.URL("INBOX"), opts)
			rec := newRecorder()
			state := &MemState{}

			start := time.Now()
			st, err := f.Fetch(context.Background(), state, rec.handle)
			require.Error(t, err)
			assert.Less(t, time.Since(start), opts.Backoff, "the refusal was retried")
			assert.ErrorIs(t, err, ErrRefused)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, KindRefused, e.Kind)
			assert.Equal(t, tc.processed, e.Mailbox)
			assert.Equal(t, tc.wantOp, e.Op)
			var imapErr *imap.Error
			require.ErrorAs(t, err, &imapErr)
			assert.Equal(t, tc.wantCode, imapErr.Code)
			assert.Contains(t, err.Error(), "(6 messages left in place)")

			rec.checkOnce(t, n)
			assert.Equal(t, Stats{Fetched: n, Processed: n / 2, Unrecognized: n / 2, LeftInPlace: n / 2, Bytes: st.Bytes}, st)
			inbox, _ := srv.MailboxStatus(t, "INBOX")
			if tc.unrecognized != "" {
				assert.Equal(t, n/2, inbox, "the bounces stay in INBOX")
				moved, _ := srv.MailboxStatus(t, tc.unrecognized)
				assert.Equal(t, n/2, moved, "the rest was moved")
			} else {
				assert.Equal(t, n, inbox, "the bounces stay in INBOX, and the rest")
			}
			_, last, _ := state.Load(context.Background(), "INBOX")
			assert.EqualValues(t, n, last, "the cursor is past the refused messages")

			// The next pass is not stuck: nothing new, no error.
			st, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err)
			assert.Zero(t, st.Fetched)

			// New mail is handled; its bounce is refused again, on its own.
			srv.Append(t, "INBOX", testMessage(n, 100))
			srv.Append(t, "INBOX", testMessage(n+1, 100))
			st, err = f.Fetch(context.Background(), state, rec.handle)
			assert.ErrorIs(t, err, ErrRefused)
			assert.Equal(t, 2, st.Fetched)
			assert.Equal(t, 1, st.LeftInPlace)
			rec.checkOnce(t, n+2)
		})
	}
}

// errKilled stands for the process dying between COPY and EXPUNGE.
var errKilled = errors.New("killed")

// Without MOVE (UIDPLUS kept), a cut between COPY and EXPUNGE, by a kill
// (a new Fetcher, nothing in memory) or a dropped connection (the same
// Fetcher reconnects), must not leave duplicates in the destination.
func TestDovecotNoMoveCutBetweenCopyAndExpunge(t *testing.T) {
	tests := []struct {
		name string
		kill bool // else drop the connection
	}{
		{name: "kill", kill: true},
		{name: "dropped connection", kill: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dovecottest.StartWith(t, &dovecottest.Options{Capability: dovecottest.CapabilityNoMove})
			const n = 30
			for i := 0; i < n; i++ {
				srv.Append(t, "INBOX", testMessage(i, 500))
			}
			opts := dovecotOptions(srv)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			opts.UnrecognizedMailbox = "done"
			opts.BatchSize = 10
			f := dialTest(t, srv.URL("INBOX"), opts)
			require.False(t, f.sess.caps.Has(imap.CapMove), "Dovecot still advertises MOVE")
			require.True(t, f.sess.caps.Has(imap.CapUIDPlus))

			rec := newRecorder()
			state := &MemState{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			copies := 0
			f.afterCopy = func() error {
				copies++
				if copies != 3 { // the second batch's processed group
					return nil
				}
				if tc.kill {
					cancel()
					return errKilled
				}
				srv.Kick(t)
				select { // make sure the EXPUNGE that follows fails
				case <-f.sess.c.Closed():
				case <-time.After(5 * time.Second):
					t.Error("the kicked connection stayed open")
				}
				return nil
			}
			_, err := f.Fetch(ctx, state, rec.handle)
			if tc.kill {
				require.ErrorIs(t, err, context.Canceled)
				done, _ := srv.MailboxStatus(t, "done")
				require.Equal(t, 15, done, "first batch and the bounces of the second copied")
				inbox, _ := srv.MailboxStatus(t, "INBOX")
				require.Equal(t, 20, inbox, "the second batch not expunged")
				f.Close()
				f = dialTest(t, srv.URL("INBOX"), opts) // the restarted run
				_, err = f.Fetch(context.Background(), state, rec.handle)
			}
			require.NoError(t, err)

			inbox, _ := srv.MailboxStatus(t, "INBOX")
			assert.Zero(t, inbox)
			done, _ := srv.MailboxStatus(t, "done")
			assert.Equal(t, n, done, "each message copied exactly once")
			for i := 0; i < n; i++ {
				assert.GreaterOrEqual(t, rec.committed[testMessageID(i)], 1)
			}
			_, last, _ := state.Load(context.Background(), "INBOX")
			assert.EqualValues(t, n, last)
		})
	}
}

func testMessageID(i int) string { return fmt.Sprintf("<m%d@test>", i) }
