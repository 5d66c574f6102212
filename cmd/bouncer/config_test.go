package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cursor returns the UIDVALIDITY and last UID the state at path keeps
// for the mailbox URL.
func cursor(t *testing.T, path, url string) (uint32, uint32) {
	t.Helper()
	u, err := imapfetch.ParseURL(url)
	require.NoError(t, err)
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(t, err)
	defer db.Close()
	v, last, err := db.LoadState(context.Background(), u.Key())
	require.NoError(t, err)
	return v, last
}

func TestConfigTwoMailboxes(t *testing.T) {
	srv := dovecottest.Start(t)
	samples := runSamples(t)
	half := len(samples) / 2
	for _, s := range samples[:half] {
		srv.Append(t, "INBOX", s.data)
	}
	for _, s := range samples[half:] {
		srv.Append(t, "second", s.data)
	}
	dir := t.TempDir()
	state, list := filepath.Join(dir, "bouncer.db"), filepath.Join(dir, "list.csv")
	conf := writeFile(t, filepath.Join(dir, "bouncer.toml"), fmt.Sprintf(`state = %q
out = %q

[[mailbox]]
name = "first"
imap = %q
password_file = %q
ca_file = %q

[[mailbox]]
name = "second"
imap = %q
password_file = %q
ca_file = %q
processed_folder = "second-done"
`, state, list, srv.URL("INBOX"), srv.PasswordFile, srv.CACertFile, srv.URL("second"), srv.PasswordFile, srv.CACertFile))

	code, stdout, stderr := runBouncer(t, "run", "--config", conf)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)))
	assert.Equal(t, runWant, readList(t, list), "the list of both mailboxes")
	for box, n := range map[string]int{"INBOX": 0, "second": 0} {
		got, _ := srv.MailboxStatus(t, box)
		assert.Equal(t, n, got, "%s emptied", box)
	}
	done, _ := srv.MailboxStatus(t, "second-done")
	assert.Positive(t, done, "the second mailbox's own processed folder")

	_, firstLast := cursor(t, state, srv.URL("INBOX"))
	_, secondLast := cursor(t, state, srv.URL("second"))
	assert.Equal(t, uint32(half), firstLast, "the first mailbox's cursor")
	assert.Equal(t, uint32(len(samples)-half), secondLast, "the second mailbox's cursor")

	// New mail in one mailbox: only it is read, from its own cursor.
	srv.Append(t, "second", samples[0].data)
	code, stdout, stderr = runBouncer(t, "run", "--config", conf, "--after", "seen")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "messages: 1 read")
	_, firstAgain := cursor(t, state, srv.URL("INBOX"))
	_, secondAgain := cursor(t, state, srv.URL("second"))
	assert.Equal(t, firstLast, firstAgain)
	assert.Equal(t, secondLast+1, secondAgain)
	n, _ := srv.MailboxStatus(t, "second")
	assert.Equal(t, 1, n, "--after seen from the command line overrides the file: the message stays")

	t.Run("flags pick one mailbox", func(t *testing.T) {
		srv.Append(t, "third", samples[1].data)
		code, stdout, stderr := runBouncer(t, "run", "--config", conf, "--imap", srv.URL("third"),
			"--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile)
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Contains(t, stdout, "messages: 1 read")
		assert.Contains(t, stdout, "wrote "+list, "the file's list")
	})
	t.Run("bad file", func(t *testing.T) {
		bad := writeFile(t, filepath.Join(dir, "bad.toml"), "[[mailbox]]\nimap = \"imaps://u@h/INBOX\"\npasword_file = \"x\"\n")
		code, _, stderr := runBouncer(t, "run", "--config", bad)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "bouncer run: --config: config: "+bad+": unknown key mailbox.pasword_file")
		t.Setenv("BOUNCER_CONFIG", filepath.Join(dir, "missing.toml"))
		code, _, stderr = runBouncer(t, "run")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "bouncer run: BOUNCER_CONFIG="+filepath.Join(dir, "missing.toml")+": --config: ")
	})
}

func TestConfigWatchTwoMaildirs(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	files := demoFiles(t)
	a, b := map[string][]byte{}, map[string][]byte{}
	i := 0
	for name, data := range files {
		if i%2 == 0 {
			a[name] = data
		} else {
			b[name] = data
		}
		i++
	}
	list := filepath.Join(dir, "list.csv")
	conf := writeFile(t, filepath.Join(dir, "bouncer.toml"), fmt.Sprintf(`state = %q
out = %q
[[mailbox]]
maildir = %q
[[mailbox]]
maildir = %q
after = "none"
`, filepath.Join(dir, "bouncer.db"), list, newMaildir(t, filepath.Join(dir, "a"), a), newMaildir(t, filepath.Join(dir, "b"), b)))
	w := startWatch(t, bin, "run", "--config", conf, "--watch", "--poll", "50ms")
	waitListed(t, list, complaintAddr, 20*time.Second)
	waitListed(t, list, userUnknownAddr, 20*time.Second)
	stdout := w.stop(t)
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(files)), "both mailboxes, watched at once")
	assert.Len(t, listDir(t, filepath.Join(dir, "b", "new")), len(b), "the second mailbox's after = none")
	assert.Empty(t, listDir(t, filepath.Join(dir, "a", "new")))
}

func TestConfigPushDryRun(t *testing.T) {
	msgs := map[string][]byte{
		"1.hard": seedDSN(0, "seed-nosuchuser@example.net", "5.1.1", "550 5.1.1 No such user <seed-nosuchuser@example.net>"),
		"2.soft": seedDSN(1, "seed-quota@example.net", "4.2.2", "452 4.2.2 Mailbox full <seed-quota@example.net>"),
	}
	lm := newListmonkContract(t, "bouncer-api", "s3cret")
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "bouncer.toml"), fmt.Sprintf(`state = %q
push = [%q]
push_secret_file = %q
[[mailbox]]
maildir = %q
`, filepath.Join(dir, "s.db"), "listmonk="+lm.URL, writeFile(t, filepath.Join(dir, "secrets"), "listmonk bouncer-api:s3cret\n"),
		newMaildir(t, filepath.Join(dir, "Maildir"), msgs)))

	before := treeHash(t, dir)
	code, stdout, stderr := runBouncer(t, "run", "--config", conf, "--dry-run")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "dry run: would push 2 events to listmonk="+lm.URL, "the soft one too: it is decided when delivered")
	acc, _, _ := lm.snapshot()
	assert.Empty(t, acc, "a dry run pushes nothing")
	assert.Equal(t, before, treeHash(t, dir))

	code, stdout, stderr = runBouncer(t, "run", "--config", conf)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "pushed: 1 delivered", "the file's push targets")
	assert.Contains(t, stdout, "1 soft below bouncer's threshold")
}

// TestConfigMailboxFails runs a --config of three mailboxes, one of them
// misnamed (not a Maildir) and one down (nothing listens): the good one is
// done and its bounces listed, each failed one has its own line on stderr
// and in the summary, and the run ends 1 naming them.
func TestConfigMailboxFails(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	pw := writeFile(t, filepath.Join(dir, "pw"), "secret")
	conf := writeFile(t, filepath.Join(dir, "bouncer.toml"), fmt.Sprintf(`state = %q
out = %q
[[mailbox]]
name = "misnamed"
maildir = %q
[[mailbox]]
name = "down"
imap = "imaps://bounce@%s/INBOX"
password_file = %q
[[mailbox]]
name = "good"
maildir = %q
`, filepath.Join(dir, "bouncer.db"), list, filepath.Join(dir, "no-such-maildir"), freePort(t), pw,
		newMaildir(t, filepath.Join(dir, "good"), demoFiles(t))))
	code, stdout, stderr := runBouncer(t, "run", "--config", conf, "--retries", "0")
	assert.Equal(t, exitError, code, "%s%s", stdout, stderr)
	assert.Contains(t, readList(t, list), complaintAddr, "the good mailbox is done")
	assert.Empty(t, listDir(t, filepath.Join(dir, "good", "new")))
	for _, name := range []string{"misnamed", "down"} {
		assert.Contains(t, stdout, fmt.Sprintf("mailbox %q: failed: ", name))
		assert.Contains(t, stderr, fmt.Sprintf("bouncer: mailbox %q: ", name))
	}
	assert.NotContains(t, stdout, `mailbox "good": failed`)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	assert.Equal(t, `bouncer: 2 of 3 mailboxes failed: "misnamed", "down"; the others were done`, lines[len(lines)-1])
}
