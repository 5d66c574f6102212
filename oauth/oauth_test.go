package oauth

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/bouncer-dev/bouncer/internal/oauthtest"
)

// writeCreds writes c to a new credentials file and returns its name.
func writeCreds(t *testing.T, c *Credentials) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "credentials.json")
	require.NoError(t, WriteFile(name, c))
	return name
}

func readCreds(t *testing.T, name string) *Credentials {
	t.Helper()
	c, err := ReadFile(name)
	require.NoError(t, err)
	return c
}

func inode(t *testing.T, name string) uint64 {
	t.Helper()
	fi, err := os.Stat(name)
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestSourceRefresh(t *testing.T) {
	tests := []struct {
		name        string
		secret      string
		auth        ClientAuth
		rotate      bool
		expiresIn   time.Duration // of the stored access token; 0: none stored
		wantRefresh bool
	}{
		{name: "valid token kept", expiresIn: time.Hour, wantRefresh: false},
		{name: "expiring soon", expiresIn: time.Minute, wantRefresh: true},
		{name: "expired", expiresIn: -time.Hour, wantRefresh: true},
		{name: "no token yet", wantRefresh: true},
		{name: "rotated refresh token", rotate: true, wantRefresh: true},
		{name: "confidential client, Basic", secret: "s3cr=t&", auth: ClientAuthBasic, wantRefresh: true},
		{name: "confidential client, post", secret: "s3cr=t&", auth: ClientAuthPost, wantRefresh: true},
		{name: "confidential client, auto", secret: "s3cr=t&", wantRefresh: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := oauthtest.Start(t, "bouncer-client", tc.secret)
			srv.RotateRefreshTokens = tc.rotate
			rt := srv.IssueRefreshToken()
			c := &Credentials{TokenURL: srv.TokenURL, ClientID: "bouncer-client", ClientSecret: tc.secret, ClientAuth: tc.auth, RefreshToken: rt}
			if tc.expiresIn != 0 {
				c.AccessToken, c.TokenType, c.Expiry = "stored-token", "Bearer", time.Now().Add(tc.expiresIn).Round(time.Second)
			}
			name := writeCreds(t, c)
			before := inode(t, name)

			src, err := NewSource(name, nil)
			require.NoError(t, err)
			tok, err := src.Token()
			require.NoError(t, err)
			if !tc.wantRefresh {
				assert.Equal(t, "stored-token", tok.AccessToken)
				assert.Zero(t, srv.Requests("refresh_token"))
				assert.Equal(t, before, inode(t, name), "the file was rewritten")
				return
			}
			assert.Equal(t, 1, srv.Requests("refresh_token"))
			assert.True(t, srv.ValidAccessToken(tok.AccessToken), "token %q not issued by the server", tok.AccessToken)
			assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)

			stored := readCreds(t, name)
			assert.Equal(t, tok.AccessToken, stored.AccessToken, "the new token is stored")
			assert.True(t, tok.Expiry.Equal(stored.Expiry))
			assert.Equal(t, "bouncer-client", stored.ClientID)
			assert.Equal(t, tc.secret, stored.ClientSecret)
			if tc.rotate {
				assert.NotEqual(t, rt, stored.RefreshToken)
				assert.True(t, srv.ValidRefreshToken(stored.RefreshToken), "the rotated refresh token is stored")
			} else {
				assert.Equal(t, rt, stored.RefreshToken, "the refresh token is kept")
			}
			fi, err := os.Stat(name)
			require.NoError(t, err)
			assert.Equal(t, FileMode, fi.Mode().Perm())
			assert.NotEqual(t, before, inode(t, name), "not replaced by a rename")
			entries, err := os.ReadDir(filepath.Dir(name))
			require.NoError(t, err)
			assert.Len(t, entries, 1, "a temporary file was left behind")

			// Valid now: no second request, from this Source or a new one.
			again, err := src.Token()
			require.NoError(t, err)
			assert.Equal(t, tok.AccessToken, again.AccessToken)
			other, err := NewSource(name, nil)
			require.NoError(t, err)
			_, err = other.Token()
			require.NoError(t, err)
			assert.Equal(t, 1, srv.Requests("refresh_token"))
		})
	}
}

func TestSourceRevokedRefreshToken(t *testing.T) {
	srv := oauthtest.Start(t, "bouncer-client", "")
	rt := srv.IssueRefreshToken()
	name := writeCreds(t, &Credentials{TokenURL: srv.TokenURL, ClientID: "bouncer-client", RefreshToken: rt})
	content, err := os.ReadFile(name)
	require.NoError(t, err)
	srv.Revoke(rt)

	src, err := NewSource(name, nil)
	require.NoError(t, err)
	_, err = src.Token()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidGrant)
	re, ok := errorsAs[*oauth2.RetrieveError](err)
	require.True(t, ok, "the RetrieveError is wrapped")
	assert.Equal(t, "invalid_grant", re.ErrorCode)
	msg := err.Error()
	assert.Contains(t, msg, "revoked or expired")
	assert.Contains(t, msg, "authorize again")
	assert.Contains(t, msg, "invalid_grant: AADSTS70008")
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, rt, "the refresh token must not show in errors")

	after, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, content, after, "the file must stay as it was")
}

func TestSourceClientRefused(t *testing.T) {
	srv := oauthtest.Start(t, "bouncer-client", "right")
	name := writeCreds(t, &Credentials{TokenURL: srv.TokenURL, ClientID: "bouncer-client", ClientSecret: "wrong", ClientAuth: ClientAuthPost, RefreshToken: srv.IssueRefreshToken()})
	src, err := NewSource(name, nil)
	require.NoError(t, err)
	_, err = src.Token()
	assert.ErrorIs(t, err, ErrClient)
}

func TestSourceEndpointDown(t *testing.T) {
	srv := oauthtest.Start(t, "bouncer-client", "")
	name := writeCreds(t, &Credentials{TokenURL: srv.TokenURL + "/missing", ClientID: "bouncer-client", RefreshToken: srv.IssueRefreshToken()})
	src, err := NewSource(name, nil)
	require.NoError(t, err)
	_, err = src.Token()
	assert.ErrorIs(t, err, ErrRefused, "404: refused")

	name = writeCreds(t, &Credentials{TokenURL: "http://127.0.0.1:1/token", ClientID: "bouncer-client", RefreshToken: "rt"})
	src, err = NewSource(name, &Options{HTTPClient: nil})
	require.NoError(t, err)
	_, err = src.Token()
	assert.ErrorIs(t, err, ErrEndpoint)
}

// Microsoft 365 app-only access: the client credentials grant.
func TestSourceClientCredentials(t *testing.T) {
	srv := oauthtest.Start(t, "app-id", "app-secret")
	c := &Credentials{Provider: ProviderMicrosoft, Tenant: "contoso.onmicrosoft.com", TokenURL: srv.TokenURL,
		ClientID: "app-id", ClientSecret: "app-secret", Grant: GrantClientCredentials}
	name := writeCreds(t, c)
	src, err := NewSource(name, nil)
	require.NoError(t, err)
	tok, err := src.Token()
	require.NoError(t, err)
	assert.True(t, srv.ValidAccessToken(tok.AccessToken))
	assert.Equal(t, 1, srv.Requests("client_credentials"))
	stored := readCreds(t, name)
	assert.Equal(t, tok.AccessToken, stored.AccessToken)
	assert.Empty(t, stored.RefreshToken)
	assert.Empty(t, stored.Scopes, "the defaults are not written into the file")
}

func TestCredentialsDefaults(t *testing.T) {
	tests := []struct {
		name      string
		c         Credentials
		wantErr   string
		wantToken string
		wantScope []string
	}{
		{name: "google", c: Credentials{Provider: ProviderGoogle, ClientID: "id", RefreshToken: "rt"},
			wantToken: GoogleTokenURL, wantScope: []string{GoogleScope}},
		{name: "microsoft delegated", c: Credentials{Provider: ProviderMicrosoft, ClientID: "id", RefreshToken: "rt"},
			wantToken: "https://login.microsoftonline.com/common/oauth2/v2.0/token", wantScope: []string{MicrosoftDelegatedScope, MicrosoftOfflineScope}},
		{name: "microsoft app-only", c: Credentials{Provider: ProviderMicrosoft, Tenant: "t1", ClientID: "id", ClientSecret: "s", Grant: GrantClientCredentials},
			wantToken: "https://login.microsoftonline.com/t1/oauth2/v2.0/token", wantScope: []string{MicrosoftAppScope}},
		{name: "app-only needs a tenant", c: Credentials{Provider: ProviderMicrosoft, ClientID: "id", ClientSecret: "s", Grant: GrantClientCredentials}, wantErr: "needs the tenant"},
		{name: "app-only needs a secret", c: Credentials{Provider: ProviderMicrosoft, Tenant: "t", ClientID: "id", Grant: GrantClientCredentials}, wantErr: "needs a client_secret"},
		{name: "no refresh token", c: Credentials{Provider: ProviderGoogle, ClientID: "id"}, wantErr: "no refresh_token"},
		{name: "no client", c: Credentials{Provider: ProviderGoogle, RefreshToken: "rt"}, wantErr: "no client_id"},
		{name: "custom without URL", c: Credentials{ClientID: "id", RefreshToken: "rt"}, wantErr: "no token_url"},
		{name: "unknown provider", c: Credentials{Provider: "yahoo", ClientID: "id", RefreshToken: "rt"}, wantErr: `unknown provider "yahoo"`},
		{name: "bad tenant", c: Credentials{Provider: ProviderMicrosoft, Tenant: "a/b", ClientID: "id", RefreshToken: "rt"}, wantErr: "bad tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.withDefaults(true)
			if tc.wantErr != "" {
				assert.ErrorIs(t, err, ErrFile)
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantToken, got.TokenURL)
			assert.Equal(t, tc.wantScope, got.Scopes)
		})
	}
}

func TestReadFileRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"unknown key": `{"client_id": "x", "token_url": "https://x/t", "refresh_token": "r", "clientsecret": "typo"}`,
		"not JSON":    `client_id=x`,
		"too large":   `{"client_id": "` + strings.Repeat("x", MaxFileBytes) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
			_, err := ReadFile(file)
			assert.ErrorIs(t, err, ErrFile)
		})
	}
}

// The device authorization grant, polled as RFC 8628 section 3.5 says:
// authorization_pending keeps the interval, slow_down adds 5 s (the server
// fails the test when polled too fast).
func TestAuthorizeDeviceFlow(t *testing.T) {
	t.Parallel()
	srv := oauthtest.Start(t, "bouncer-client", "")
	srv.DeviceScript = []string{"authorization_pending", "slow_down"}
	c := &Credentials{TokenURL: srv.TokenURL, DeviceAuthURL: srv.DeviceAuthURL, ClientID: "bouncer-client", Scopes: []string{"imap"}}
	name := writeCreds(t, c)

	var prompt bytes.Buffer
	start := time.Now()
	require.NoError(t, AuthorizeFile(context.Background(), name, &prompt, nil))
	assert.GreaterOrEqual(t, time.Since(start), 7*time.Second, "1 s, 1 s, then 6 s after slow_down")
	assert.Equal(t, 3, srv.Requests(oauthtest.DeviceCodeGrant))
	assert.Contains(t, prompt.String(), "/device\n")
	assert.Regexp(t, `enter the code\n\n    [0-9A-F]{8}\n`, prompt.String())

	stored := readCreds(t, name)
	assert.True(t, srv.ValidRefreshToken(stored.RefreshToken), "refresh token %q", stored.RefreshToken)
	assert.True(t, srv.ValidAccessToken(stored.AccessToken))
	assert.Equal(t, []string{"imap"}, stored.Scopes)

	// The file now works as a Source's.
	src, err := NewSource(name, nil)
	require.NoError(t, err)
	tok, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, stored.AccessToken, tok.AccessToken)
}

func TestAuthorizeDenied(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"access_denied", "expired_token"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.Start(t, "bouncer-client", "")
			srv.DeviceScript = []string{code}
			c := &Credentials{TokenURL: srv.TokenURL, DeviceAuthURL: srv.DeviceAuthURL, ClientID: "bouncer-client"}
			out, err := Authorize(context.Background(), c, &bytes.Buffer{}, nil)
			assert.Nil(t, out)
			assert.ErrorIs(t, err, ErrDenied)
			assert.ErrorContains(t, err, code)
		})
	}
	t.Run("client credentials need no user", func(t *testing.T) {
		c := &Credentials{TokenURL: "https://x/t", ClientID: "id", ClientSecret: "s", Grant: GrantClientCredentials}
		_, err := Authorize(context.Background(), c, &bytes.Buffer{}, nil)
		assert.ErrorIs(t, err, ErrFile)
	})
}

// browser is the prompt writer of AuthorizeLoopback tests: it opens the
// first URL written, as the user would, following the redirect back to
// the loopback listener.
type browser struct {
	t      *testing.T
	opened chan int // the status of the final page
	buf    bytes.Buffer
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, opened: make(chan int, 1)} }

func (b *browser) Write(p []byte) (int, error) {
	start := b.buf.Len() == 0
	b.buf.Write(p)
	if m := regexp.MustCompile(`https?://\S+`).FindString(b.buf.String()); start && m != "" {
		go func() {
			resp, err := http.Get(m)
			if !assert.NoError(b.t, err, "browser") {
				b.opened <- 0
				return
			}
			resp.Body.Close()
			b.opened <- resp.StatusCode
		}()
	}
	return len(p), nil
}

// The authorization code grant with PKCE and a loopback redirect, the way
// for Gmail.
func TestAuthorizeLoopback(t *testing.T) {
	srv := oauthtest.Start(t, "desktop-client", "not-so-secret")
	c := &Credentials{TokenURL: srv.TokenURL, AuthURL: srv.AuthURL, ClientID: "desktop-client", ClientSecret: "not-so-secret", Scopes: []string{"mail"}}
	b := newBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := AuthorizeLoopback(ctx, c, b, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, <-b.opened)
	assert.Contains(t, b.buf.String(), srv.AuthURL+"?")
	assert.True(t, srv.ValidRefreshToken(out.RefreshToken))
	assert.True(t, srv.ValidAccessToken(out.AccessToken))
	assert.Equal(t, 1, srv.Requests("authorization_code"))
	assert.Empty(t, c.RefreshToken, "the input is unchanged")

	t.Run("declined", func(t *testing.T) {
		srv.DenyAuthorization = true
		defer func() { srv.DenyAuthorization = false }()
		b := newBrowser(t)
		_, err := AuthorizeLoopback(ctx, c, b, nil)
		assert.ErrorIs(t, err, ErrDenied)
		assert.ErrorContains(t, err, "access_denied")
		<-b.opened
	})
	t.Run("nobody comes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := AuthorizeLoopback(ctx, c, &bytes.Buffer{}, nil)
		assert.ErrorIs(t, err, ErrDenied)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}
