package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/internal/oauthtest"
	"github.com/bouncer-dev/bouncer/oauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCreds writes a credentials file for the test server srv.
func writeCreds(t *testing.T, srv *oauthtest.Server, c oauth.Credentials) string {
	t.Helper()
	c.TokenURL, c.DeviceAuthURL, c.AuthURL, c.ClientID = srv.TokenURL, srv.DeviceAuthURL, srv.AuthURL, srv.ClientID
	path := filepath.Join(t.TempDir(), "creds.json")
	require.NoError(t, oauth.WriteFile(path, &c))
	return path
}

func readCreds(t *testing.T, path string) *oauth.Credentials {
	t.Helper()
	c, err := oauth.ReadFile(path)
	require.NoError(t, err)
	return c
}

func TestAuthDevice(t *testing.T) {
	srv := oauthtest.Start(t, "bouncer-test", "")
	file := writeCreds(t, srv, oauth.Credentials{})
	code, stdout, stderr := runBouncer(t, "auth", "--oauth-credentials", file, "--flow", "device")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "enter the code")
	assert.Contains(t, stdout, "authorized; wrote "+file)
	c := readCreds(t, file)
	assert.True(t, srv.ValidRefreshToken(c.RefreshToken), "the refresh token obtained is stored")
	assert.True(t, srv.ValidAccessToken(c.AccessToken))
	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	t.Run("declined", func(t *testing.T) {
		srv.DeviceScript = []string{"access_denied"}
		file := writeCreds(t, srv, oauth.Credentials{})
		code, _, stderr := runBouncer(t, "auth", "--oauth-credentials", file)
		assert.Equal(t, exitError, code)
		assert.Contains(t, stderr, "bouncer auth: oauth: authorization not granted")
		assert.Empty(t, readCreds(t, file).RefreshToken)
	})
	t.Run("no client", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "auth", "--oauth-credentials", filepath.Join(t.TempDir(), "new.json"), "--provider", "microsoft")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--client-id")
	})
}

func TestAuthBrowser(t *testing.T) {
	srv := oauthtest.Start(t, "bouncer-test", "")
	file := writeCreds(t, srv, oauth.Credentials{})
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run([]string{"auth", "--oauth-credentials", file, "--flow", "browser"}, nil, pw, &stderr)
		pw.Close()
	}()
	// The user opens the URL shown: the authorization server approves and
	// sends the browser back to bouncer's loopback listener.
	sc := bufio.NewScanner(pr)
	var authURL string
	for authURL == "" && sc.Scan() {
		if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), srv.AuthURL); ok {
			authURL = srv.AuthURL + u
		}
	}
	require.NotEmpty(t, authURL, "no authorization URL shown")
	resp, err := http.Get(authURL)
	require.NoError(t, err)
	resp.Body.Close()
	go io.Copy(io.Discard, pr)
	select {
	case code := <-done:
		require.Equal(t, exitOK, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("bouncer auth did not finish")
	}
	assert.True(t, srv.ValidRefreshToken(readCreds(t, file).RefreshToken))
}

func TestRunOAuthCredentials(t *testing.T) {
	dovecot := dovecottest.Start(t)
	srv := oauthtest.Start(t, "bouncer-test", "")
	args := func(file string) []string {
		return []string{"run", "--imap", dovecot.URL("INBOX"), "--ca-file", dovecot.CACertFile, "--retries", "0",
			"--state", filepath.Join(t.TempDir(), "s.db"), "--oauth-credentials", file}
	}
	t.Run("expired token refreshed", func(t *testing.T) {
		rt := srv.IssueRefreshToken()
		file := writeCreds(t, srv, oauth.Credentials{RefreshToken: rt, AccessToken: "old", Expiry: time.Now().Add(-time.Minute)})
		code, _, stderr := runBouncer(t, args(file)...)
		// Dovecot here knows no OAuth2: the login with the fresh token
		// fails, after the refresh.
		assert.Equal(t, exitError, code)
		assert.Contains(t, stderr, "login failed")
		assert.Equal(t, 1, srv.Requests("refresh_token"))
		c := readCreds(t, file)
		assert.True(t, srv.ValidAccessToken(c.AccessToken), "the refreshed token is stored back")
		assert.True(t, c.Expiry.After(time.Now().Add(30*time.Minute)))
	})
	t.Run("revoked", func(t *testing.T) {
		rt := srv.IssueRefreshToken()
		srv.Revoke(rt)
		file := writeCreds(t, srv, oauth.Credentials{RefreshToken: rt})
		code, stdout, stderr := runBouncer(t, args(file)...)
		checkOneLineError(t, code, stdout, stderr, "bouncer: imap: no OAuth2 token for ")
		assert.Contains(t, stderr, "the refresh token was refused (revoked or expired): authorize again")
		assert.Contains(t, stderr, "bouncer auth --oauth-credentials")
	})
	t.Run("not with a password file", func(t *testing.T) {
		code, _, stderr := runBouncer(t, append(args("x.json"), "--password-file", dovecot.PasswordFile)...)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "give one of --password-file, --oauth-token-file and --oauth-credentials")
	})
	t.Run("bad file from env", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(bad, []byte(`{"client_id": ""}`), 0o600))
		t.Setenv("BOUNCER_OAUTH_CREDENTIALS", bad)
		a := args("")
		code, _, stderr := runBouncer(t, a[:len(a)-2]...)
		assert.Equal(t, exitUsage, code)
		assert.True(t, strings.HasPrefix(stderr, "bouncer run: BOUNCER_OAUTH_CREDENTIALS="+bad+": bad --oauth-credentials: oauth: bad credentials file"), stderr)
	})
}
