package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/suppress"
)

// TestRunTwoHostsIMAP runs two hosts at once over one IMAP mailbox
// (Dovecot) and one PostgreSQL database, with the default lease of the
// mailbox's URL: each message is recorded by one host, once, and every
// message leaves the INBOX.
func TestRunTwoHostsIMAP(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).Database(t)
	srv := dovecottest.Start(t)
	msgs := samples(t)
	for _, m := range msgs {
		srv.Append(t, "INBOX", m)
	}

	var (
		wg    sync.WaitGroup
		stats [2]Stats
		errs  [2]error
	)
	for i := range stats {
		db := openState(t, url)
		defer db.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := imapfetch.Dial(ctx, srv.URL("INBOX"), &imapfetch.Options{
				SecretFile: srv.PasswordFile, CAFile: srv.CACertFile, BatchSize: 8,
				Action: imapfetch.ActionMove, ProcessedMailbox: "processed", UnrecognizedMailbox: "unrecognized",
			})
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			o := &Options{Source: "imap", BatchSize: 8, Lease: suppress.LeaseOptions{TTL: 500 * time.Millisecond}}
			stats[i], errs[i] = runUntilLeased(ctx, db, IMAP(f, db.SyncStateFor(f.URL().String())), o)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	fresh := stats[0].Messages - stats[0].Already + stats[1].Messages - stats[1].Already
	assert.Equal(t, len(msgs), fresh, "each message is recorded by one host")
	assert.ElementsMatch(t, []int{0, len(msgs)}, []int{stats[0].Messages, stats[1].Messages},
		"one host worked the mailbox; the other, after it, found it empty")

	db := openState(t, url)
	defer db.Close()
	c, err := db.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(msgs), c.Messages)
	left, _ := srv.MailboxStatus(t, "INBOX")
	assert.Zero(t, left, "every message was moved out of the INBOX")
	processed, _ := srv.MailboxStatus(t, "processed")
	unrecognized, _ := srv.MailboxStatus(t, "unrecognized")
	assert.Equal(t, len(msgs), processed+unrecognized, "each message was moved once")
}
