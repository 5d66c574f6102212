package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/demoimap"
)

// demoUser is the login of the demo mailbox.
const demoUser = demoimap.User

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := runBouncer(t, "demo")
	require.Equal(t, exitOK, code, "demo\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	list := filepath.Join(dir, "demo-suppressions.csv")
	l := readList(t, list)
	assert.Equal(t, demoSuppressed(), l, "demo-suppressions.csv")
	for _, want := range []string{
		"holds 12 sample messages in INBOX",
		"messages: 12 read: 10 bounces, 2 not bounces, 0 unrecognized",
		"failed recipients by category: 4 hard, 4 soft, 1 policy, 1 complaint",
		"newly suppressed: 5 addresses",
		"wrote " + list,
		"INBOX 0, bounces-processed 10, bounces-unrecognized 2",
	} {
		assert.Contains(t, stdout, want, "demo output")
	}
	assert.True(t, strings.HasPrefix(stdout, "demo: starting"), "the first line says what the demo does: %q", stdout)
	assert.NotContains(t, stdout, "policy report", "no policy list is written")
	// The state lives in a temporary folder: nothing else is left behind,
	// and a second demo starts clean.
	assert.Equal(t, []string{"demo-suppressions.csv"}, listDir(t, dir), "what the demo leaves in the current folder")
	first, err := os.ReadFile(list)
	require.NoError(t, err)
	code, stdout, _ = runBouncer(t, "demo")
	require.Equal(t, exitOK, code, "second demo")
	assert.Contains(t, stdout, "newly suppressed: "+strconv.Itoa(len(l)), "second demo")
	second, err := os.ReadFile(list)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(second), "second demo's list")
}

// TestRunPlaintext runs bouncer run against the demo's in-memory server,
// which offers no TLS: imap:// needs --insecure-plaintext.
func TestRunPlaintext(t *testing.T) {
	dir := t.TempDir()
	srv, err := demoimap.Start(dir, demoSamples())
	require.NoError(t, err)
	defer srv.Close()
	url := "imap://" + demoUser + "@" + srv.Addr + "/INBOX"
	state := filepath.Join(dir, "s.db")

	code, stdout, stderr := runBouncer(t, "run", "--imap", url, "--password-file", srv.PasswordFile, "--state", state)
	checkOneLineError(t, code, stdout, stderr, "bouncer: imap: "+srv.Addr+" offers no STARTTLS")

	list := filepath.Join(dir, "list.csv")
	code, stdout, stderr = runBouncer(t, "run", "--imap", url, "--insecure-plaintext", "--password-file", srv.PasswordFile,
		"--after", "seen", "--state", state, "--out", list)
	require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
	assert.Equal(t, demoSuppressed(), readList(t, list))
	// --after seen leaves the bounces in INBOX; the rest goes to humans.
	assert.Equal(t, len(demoWant), srv.Count("INBOX"), "INBOX")
	assert.Equal(t, len(demoNotBounces), srv.Count(defaultUnrecognizedFolder), defaultUnrecognizedFolder)
}
