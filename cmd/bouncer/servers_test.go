package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
)

// TestRunCourierLayout runs bouncer against a Dovecot laid out as
// Courier-IMAP is (every folder under "INBOX.", no MOVE, no UIDPLUS): the
// default folders are made under INBOX., the dry run and the summary name
// them, the list is the one a Dovecot in its own layout gives, and a rerun
// changes nothing.
func TestRunCourierLayout(t *testing.T) {
	srv := dovecottest.StartWith(t, &dovecottest.Options{CourierLayout: true, Capability: dovecottest.CourierCapability})
	samples := runSamples(t)
	for _, s := range samples {
		srv.Append(t, "INBOX", s.data)
	}
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	args := []string{"run", "--imap", srv.URL("INBOX"), "--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile,
		"--state", filepath.Join(dir, "state.db"), "--out", list}

	code, stdout, stderr := runBouncer(t, append(args, "--dry-run")...)
	require.Equal(t, exitOK, code, "dry run\n%s%s", stdout, stderr)
	assert.Regexp(t, `dry run: would move [1-9]\d* bounces to INBOX\.bounces-processed, move \d+ others to INBOX\.bounces-unrecognized`, stdout)

	code, stdout, stderr = runBouncer(t, args...)
	require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)))
	assert.Contains(t, stdout, "folders: bounces to INBOX.bounces-processed, others to INBOX.bounces-unrecognized")
	assert.Equal(t, runWant, readList(t, list), "the list")
	inbox, _ := srv.MailboxStatus(t, "INBOX")
	processed, _ := srv.MailboxStatus(t, "INBOX.bounces-processed")
	unrecognized, _ := srv.MailboxStatus(t, "INBOX.bounces-unrecognized")
	assert.Zero(t, inbox, "INBOX after the run")
	assert.Equal(t, len(samples), processed+unrecognized, "processed %d + unrecognized %d", processed, unrecognized)

	first, err := os.ReadFile(list)
	require.NoError(t, err)
	code, stdout, stderr = runBouncer(t, args...)
	require.Equal(t, exitOK, code, "second run\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "messages: 0 read")
	second, err := os.ReadFile(list)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(second), "the second run changed the list")

	t.Run("killed and resumed", func(t *testing.T) {
		for _, s := range samples {
			srv.Append(t, "kill", s.data) // the Maildir folder .kill: INBOX.kill in this layout
		}
		state, killList := filepath.Join(dir, "kill.db"), filepath.Join(dir, "kill.csv")
		args := []string{"run", "--imap", srv.URL("INBOX.kill"), "--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile,
			"--state", state, "--out", killList, "--fetch-batch", "20", "--batch-time", "200ms",
			"--processed-folder", "INBOX.kill-processed", "--unrecognized-folder", "INBOX.kill-unrecognized"}
		killAt(t, args, state, 30, nil)
		killAt(t, args, state, 50, nil)
		code, stdout, stderr := runBouncer(t, args...)
		require.Equal(t, exitOK, code, "resumed run\n%s%s", stdout, stderr)
		got, err := os.ReadFile(killList)
		require.NoError(t, err)
		assert.Equal(t, string(first), string(got), "the list of the killed and resumed run")
		inbox, _ := srv.MailboxStatus(t, "INBOX.kill")
		processed, _ := srv.MailboxStatus(t, "INBOX.kill-processed")
		unrecognized, _ := srv.MailboxStatus(t, "INBOX.kill-unrecognized")
		assert.Zero(t, inbox, "INBOX.kill after the resumed run")
		assert.Equal(t, len(samples), processed+unrecognized, "no copy twice: processed %d + unrecognized %d", processed, unrecognized)
	})
}

// One mailbox reached two ways (imaps:// on one port, imap:// with
// STARTTLS on another) is one mailbox to the state: the second run finds
// nothing new.
func TestRunSameMailboxTwoWays(t *testing.T) {
	srv := dovecottest.StartWith(t, &dovecottest.Options{PlainListener: true})
	samples := runSamples(t)
	for _, s := range samples[:10] {
		srv.Append(t, "INBOX", s.data)
	}
	state := filepath.Join(t.TempDir(), "state.db")
	run := func(url string) string {
		t.Helper()
		code, stdout, stderr := runBouncer(t, "run", "--imap", url, "--password-file", srv.PasswordFile,
			"--ca-file", srv.CACertFile, "--state", state, "--after", "seen")
		require.Equal(t, exitOK, code, "run %s\n%s%s", url, stdout, stderr)
		return stdout
	}
	assert.Contains(t, run(srv.URL("INBOX")), "messages: 10 read")
	assert.Contains(t, run(srv.PlainURL("INBOX")), "messages: 0 read", "the same mailbox over STARTTLS")
	_, last := cursor(t, state, srv.PlainURL("INBOX"))
	assert.Equal(t, uint32(10), last, "one cursor")
}
