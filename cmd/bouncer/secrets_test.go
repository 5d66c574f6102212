package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretPrinted runs commands that fail with a secret in their
// input (a PostgreSQL URL with a password in its user-info or its query, a
// push secret a target refuses, an IMAP password file, an IMAP server
// that cannot be reached) as a separate process, and looks for every
// secret in each of its output streams.
func TestNoSecretPrinted(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, "gone@example.net", "5.1.1", "550 5.1.1 No such user")})
	secrets := []string{"S3cretUserinfo", "S3cretQuery", "S3cretSSL", "S3cretPassfile", "S3cretPush", "S3cretIMAP"}
	pushFile := writeFile(t, filepath.Join(dir, "push.secrets"), "webhook S3cretPush\n")
	require.NoError(t, os.Chmod(pushFile, 0o600))
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
