package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	// A tiny cap makes every message hit it: one log line each.
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"),
		"--max-bytes", "300", "--log-format", "json")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.NotEmpty(t, lines)
	for _, line := range lines {
		var rec map[string]any
		if assert.NoError(t, json.Unmarshal([]byte(line), &rec), "stderr line %q is not JSON", line) {
			assert.Contains(t, rec, "time")
			assert.Contains(t, rec, "level")
			assert.NotEmpty(t, rec["msg"])
		}
	}
	assert.Contains(t, stdout, "messages:", "the summary stays text on stdout")

	t.Run("bad", func(t *testing.T) {
		t.Setenv("BOUNCER_LOG_FORMAT", "xml")
		code, _, stderr := runBouncer(t, "run", "--maildir", md)
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, "bouncer run: BOUNCER_LOG_FORMAT=xml: unknown --log-format \"xml\": want text or json\n", stderr)
	})
}

// treeHash returns the names, modes and bytes of every file under root.
func treeHash(t *testing.T, root string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel] = fi.Mode().String()
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = fi.Mode().String() + " " + hex.EncodeToString(sum[:])
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestDryRunMaildir(t *testing.T) {
	dir := t.TempDir()
	files := demoFiles(t)
	first, later := map[string][]byte{}, map[string][]byte{}
	i := 0
	for name, b := range files {
		if i%2 == 0 {
			first[name] = b
		} else {
			later[name] = b
		}
		i++
	}
	md := newMaildir(t, filepath.Join(dir, "Maildir"), first)
	state := filepath.Join(dir, "var", "bouncer.db")
	args := []string{"run", "--maildir", md, "--state", state, "--out", filepath.Join(dir, "list.csv"),
		"--out-dir", filepath.Join(dir, "lists")}
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	for name, b := range later {
		require.NoError(t, os.WriteFile(filepath.Join(md, "new", name), b, 0o600))
	}

	before := treeHash(t, dir)
	code, stdout, stderr = runBouncer(t, append(args, "--dry-run")...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Equal(t, before, treeHash(t, dir), "the Maildir, the state and the lists byte for byte as they were")
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(later)))
	assert.Regexp(t, `dry run: would move to bounces-processed [1-9]\d* bounces, move to bounces-unrecognized [1-9]\d* others`, stdout)
	assert.Contains(t, stdout, "dry run: would write "+filepath.Join(dir, "list.csv"))
	assert.Contains(t, stdout, "dry run: nothing was changed")
	assert.NotContains(t, stdout, "\nwrote ")

	// The real run afterwards finds the same work to do.
	code, real, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", real, stderr)
	assert.Contains(t, real, fmt.Sprintf("messages: %d read", len(later)))

	t.Run("no state yet", func(t *testing.T) {
		fresh := filepath.Join(dir, "new", "bouncer.db")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", fresh, "--dry-run")
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.NoDirExists(t, filepath.Dir(fresh), "no state, no folder created")
	})
	t.Run("not with watch", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "run", "--maildir", md, "--dry-run", "--watch")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--dry-run makes one pass")
	})
}

// mailboxSnapshot returns the mailboxes of srv's user and, for each, the
// UID, flags (but the session flag \Recent) and GUID of each message.
func mailboxSnapshot(t *testing.T, srv *dovecottest.Server) string {
	t.Helper()
	boxes := strings.Fields(srv.Doveadm(t, "mailbox", "list", "-u", srv.User))
	sort.Strings(boxes)
	var b strings.Builder
	for _, box := range boxes {
		out := srv.Doveadm(t, "-f", "flow", "fetch", "-u", srv.User, "uid flags guid", "mailbox", box)
		fmt.Fprintf(&b, "%s:\n%s\n", box, strings.ReplaceAll(out, `\Recent`, ""))
	}
	return b.String()
}

func TestDryRunDovecot(t *testing.T) {
	srv := dovecottest.Start(t)
	samples := runSamples(t)
	for _, s := range samples {
		srv.Append(t, "INBOX", s.data)
	}
	dir := t.TempDir()
	args := []string{"run", "--imap", srv.URL("INBOX"), "--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile,
		"--state", filepath.Join(dir, "bouncer.db"), "--out", filepath.Join(dir, "list.csv")}
	mailbox, files := mailboxSnapshot(t, srv), treeHash(t, dir)
	require.Contains(t, mailbox, "uid=1 ")

	for _, after := range []string{"move", "seen", "delete"} {
		code, stdout, stderr := runBouncer(t, append(args, "--dry-run", "--after", after)...)
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)))
		assert.Equal(t, mailbox, mailboxSnapshot(t, srv), "--after %s: the mailbox as it was", after)
		assert.Equal(t, files, treeHash(t, dir), "--after %s: no state, no list", after)
	}
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)), "the dry runs left the cursor where it was")
	n, _ := srv.MailboxStatus(t, "INBOX")
	assert.Zero(t, n)
}
