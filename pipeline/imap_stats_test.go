package pipeline

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
)

// TestRunIMAPExpectedAndLocation runs an IMAP mailbox (Dovecot): the
// source announces how many messages the pass fetches (for progress), and
// unverified.csv names the folder a message was moved to.
func TestRunIMAPExpectedAndLocation(t *testing.T) {
	ctx := context.Background()
	srv := dovecottest.Start(t)
	msgs := [][]byte{forwardDSN("bounce@lists.example.org", "a@example.com", "a@example.com", "")}
	msgs = append(msgs, samples(t)[:4]...)
	for _, m := range msgs {
		srv.Append(t, "INBOX", m)
	}
	dir := t.TempDir()
	db := openState(t, filepath.Join(dir, "s.db"))
	defer db.Close()
	f, err := imapfetch.Dial(ctx, srv.URL("INBOX"), &imapfetch.Options{
		SecretFile: srv.PasswordFile, CAFile: srv.CACertFile, BatchSize: 2,
		Action: imapfetch.ActionMove, ProcessedMailbox: "processed", UnrecognizedMailbox: "unrecognized",
	})
	require.NoError(t, err)
	defer f.Close()
	file := filepath.Join(dir, "unverified.csv")
	st, err := Run(ctx, db, IMAP(f, db.SyncStateFor(f.URL().String())), &Options{Proof: &refuse{}, UnverifiedFile: file})
	require.NoError(t, err)
	assert.Equal(t, len(msgs), st.Expected, "the new messages of the mailbox")
	assert.Equal(t, len(msgs), st.Messages)

	b, err := os.ReadFile(file)
	require.NoError(t, err)
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2, "unverified.csv:\n%s", b)
	var where []string
	for _, r := range rows[1:] {
		where = append(where, r[5])
		assert.True(t, strings.HasPrefix(r[5], "unrecognized (moved from INBOX UID "), "where the message is now: %q", r[5])
	}
	assert.Contains(t, where, "unrecognized (moved from INBOX UID 1)", "the forged report, first in the mailbox")
}
