package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretPrinted runs commands that fail with a secret in their
// input (a PostgreSQL URL with a password in its user-info or its query,
// given to every command that opens a state; a push secret a target
// refuses, an IMAP password file, an IMAP server that cannot be reached)
// as a separate process, and looks for every secret in each of its output
// streams.
func TestNoSecretPrinted(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, "gone@example.net", "5.1.1", "550 5.1.1 No such user")})
	secrets := []string{"S3cretUserinfo", "S3cretQuery", "S3cretSSL", "S3cretPassfile", "S3cretPush", "S3cretIMAP"}
	pushFile := writeFile(t, filepath.Join(dir, "push.secrets"), "webhook S3cretPush\n")
	require.NoError(t, os.Chmod(pushFile, 0o600))
	tokenFile := writeFile(t, filepath.Join(dir, "console.token"), "console-token-0123456789abcdef\n")
	pwFile := writeFile(t, filepath.Join(dir, "imap.password"), "S3cretIMAP\n")
	require.NoError(t, os.Chmod(pwFile, 0o600))
	// A webhook that refuses every request, quoting what it was sent.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("forbidden: %v", r.Header), http.StatusForbidden)
	}))
	t.Cleanup(refuse.Close)
	pg := []string{
		"postgres://bob:S3cretUserinfo@127.0.0.1:1/db?password=S3cretQuery&sslpassword=S3cretSSL&connect_timeout=1",
		"postgres://127.0.0.1:1/db?sslmode=bogus&password=S3cretQuery&passfile=/S3cretPassfile",
		"postgres://[::1/db?password=S3cretQuery",
		"postgresql://h/db?passfile=/S3cretPassfile&connect_timeout=x&password=S3cretQuery",
	}
	type run struct {
		name string
		args []string
		env  []string
		ok   bool // exits 0 all the same (a failed push does not fail the run)
	}
	var runs []run
	for i, u := range pg {
		for _, cmd := range [][]string{
			{"run", "--maildir", md, "--state", u},
			{"export", "--state", u},
			{"stats", "--state", u},
			{"ingest", "--state", u},
			{"why", "--state", u, "a@example.net"},
			{"allow", "--state", u, "a@example.net", "--reason", "r"},
			{"forget", "--state", u, "a@example.net"},
			{"prune", "--state", u, "--older-than", "1d"},
			{"push", "--status", "--state", u},
			{"serve", "--state", u, "--token-file", tokenFile, "--listen", "127.0.0.1:0"},
		} {
			runs = append(runs, run{name: cmd[0] + " pg " + string(rune('a'+i)), args: cmd})
		}
		runs = append(runs, run{name: "env pg " + string(rune('a'+i)), args: []string{"run", "--maildir", md}, env: []string{"BOUNCER_STATE=" + u}})
	}
	runs = append(runs,
		run{name: "push refused", args: []string{"run", "--maildir", md, "--after", "none", "--state", filepath.Join(dir, "s.db"),
			"--push", "webhook=" + refuse.URL, "--push-secret-file", pushFile}, ok: true},
		run{name: "imap unreachable", args: []string{"run", "--imap", "imaps://bounce@127.0.0.1:1/INBOX", "--password-file", pwFile, "--retries", "0",
			"--state", filepath.Join(dir, "s2.db")}},
		run{name: "imap password in URL", args: []string{"run", "--imap", "imaps://bounce:S3cretIMAP@127.0.0.1:1/INBOX", "--state", filepath.Join(dir, "s3.db")}},
		run{name: "imap password file is a folder", args: []string{"run", "--imap", "imaps://bounce@127.0.0.1:1/INBOX", "--password-file", dir + "/S3cretIMAP/",
			"--state", filepath.Join(dir, "s4.db")}},
	)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			cmd := exec.Command(bin, r.args...)
			cmd.Env = append(os.Environ(), r.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if r.ok {
				require.NoError(t, err, "%s%s", stdout.String(), stderr.String())
				require.Contains(t, stderr.String(), "refused")
			} else {
				require.Error(t, err, "the command was meant to fail\n%s%s", stdout.String(), stderr.String())
			}
			for _, s := range secrets {
				if strings.Contains(strings.Join(r.args, " ")+strings.Join(r.env, " "), "/"+s) && s == "S3cretIMAP" {
					continue // a path, not a secret: it names the file
				}
				assert.NotContains(t, stdout.String(), s, "stdout")
				assert.NotContains(t, stderr.String(), s, "stderr")
			}
		})
	}
}

// TestSecretFileModes checks that every secret file other users can read
// is refused with the words of the password file's warning: the VERP key
// file (run and verp), the push secret file and the OAuth credentials;
// the password file itself is warned about.
func TestSecretFileModes(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, "gone@example.net", "5.1.1", "550 5.1.1 No such user")})
	open := func(name, content string) string {
		p := writeFile(t, filepath.Join(dir, name), content)
		require.NoError(t, os.Chmod(p, 0o644))
		return p
	}
	keys := open("verp.keys", "6c1f0e8b2d5a4e7f9b3c1d0a8e6f4b2c\n")
	push := open("push.secrets", "webhook s3cret\n")
	creds := open("oauth.json", `{"provider":"google"}`)
	base := []string{"run", "--maildir", md, "--state", filepath.Join(dir, "s.db")}
	for _, tc := range []struct {
		name, file string
		args       []string
	}{
		{"verp key file", keys, append(slices.Clone(base), "--verp-key-file", keys)},
		{"verp command", keys, []string{"verp", "--verp-key-file", keys, "--bounce-address", "bounce@lists.example.org", "a@example.net"}},
		{"push secret file", push, append(slices.Clone(base), "--push", "webhook=http://127.0.0.1:1/hook", "--push-secret-file", push)},
		{"oauth credentials", creds, []string{"run", "--imap", "imaps://bounce@127.0.0.1:1/INBOX", "--oauth-credentials", creds, "--state", filepath.Join(dir, "s.db")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBouncer(t, tc.args...)
			assert.NotEqual(t, exitOK, code, "%s%s", stdout, stderr)
			assert.Contains(t, stderr, tc.file+" is readable by others (mode 0644); chmod 600 it")
			assert.Equal(t, []string{"1"}, listDir(t, filepath.Join(md, "new")), "the mailbox is untouched")
		})
	}
}

// TestRunPushInsecure refuses an http:// push target on a host that is
// not loopback before the mailbox is touched, unless --push-insecure.
func TestRunPushInsecure(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, "gone@example.net", "5.1.1", "550 5.1.1 No such user")})
	secrets := writeFile(t, filepath.Join(dir, "push.secrets"), "webhook k\n")
	args := []string{"run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--push", "webhook=http://192.0.2.1/hook", "--push-secret-file", secrets}
	code, stdout, stderr := runBouncer(t, args...)
	assert.Equal(t, exitError, code, "%s%s", stdout, stderr)
	assert.Contains(t, stderr, "push: insecure target webhook=http://192.0.2.1/hook")
	assert.Contains(t, stderr, "--push-insecure")
	assert.Equal(t, []string{"1"}, listDir(t, filepath.Join(md, "new")), "the mailbox is untouched")

	code, stdout, stderr = runBouncer(t, append(args, "--push-insecure", "--dry-run")...)
	assert.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "dry run: would push 1 events to webhook=http://192.0.2.1/hook")
}
