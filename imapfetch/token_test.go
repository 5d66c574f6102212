package imapfetch

import (
	"cmp"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/bouncer-dev/bouncer/internal/oauthtest"
	"github.com/bouncer-dev/bouncer/oauth"
)

// tokenOptions returns testOptions with ts instead of a secret file.
func tokenOptions(t *testing.T, ts oauth2.TokenSource, mech Mechanism) *Options {
	opts := testOptions(t, "unused")
	opts.SecretFile = ""
	opts.TokenSource = ts
	opts.Mechanism = mech
	return opts
}

func TestTokenSourceLogin(t *testing.T) {
	srv := startSASLMem(t)
	srv.append(t, "INBOX", testMessage(0, 0))
	static := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})
	for _, mech := range []Mechanism{MechanismAuto, MechanismXOAuth2, MechanismOAuthBearer} {
		t.Run(cmp.Or(string(mech), "auto"), func(t *testing.T) {
			f := dialTest(t, srv.url("INBOX"), tokenOptions(t, static, mech))
			st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
			require.NoError(t, err)
			assert.Equal(t, 1, st.Fetched)
		})
	}

	t.Run("auto prefers OAUTHBEARER", func(t *testing.T) {
		o := &Options{TokenSource: static}
		caps := map[string]bool{"AUTH=XOAUTH2": true, "AUTH=OAUTHBEARER": true}
		assert.Equal(t, MechanismOAuthBearer, o.mechanism(capSet(caps)))
		delete(caps, "AUTH=OAUTHBEARER")
		assert.Equal(t, MechanismXOAuth2, o.mechanism(capSet(caps)))
	})
	t.Run("a password mechanism is refused", func(t *testing.T) {
		_, err := Dial(context.Background(), srv.url("INBOX"), tokenOptions(t, static, MechanismPlain))
		assert.ErrorIs(t, err, ErrOptions)
	})
	t.Run("two secrets are refused", func(t *testing.T) {
		opts := testOptions(t, testPassword)
		opts.TokenSource = static
		_, err := Dial(context.Background(), srv.url("INBOX"), opts)
		assert.ErrorIs(t, err, ErrOptions)
	})
}

// The whole chain: a credentials file whose access token expired, a token
// endpoint, and an IMAP server that accepts only the tokens it issued.
func TestTokenSourceRefreshesForLogin(t *testing.T) {
	ts := oauthtest.Start(t, "bouncer-client", "")
	srv := startSASLMemValid(t, ts.ValidAccessToken)
	srv.append(t, "INBOX", testMessage(0, 0))
	rt := ts.IssueRefreshToken()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	require.NoError(t, oauth.WriteFile(creds, &oauth.Credentials{
		TokenURL: ts.TokenURL, ClientID: "bouncer-client", RefreshToken: rt,
		AccessToken: "expired", TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute),
	}))
	src, err := oauth.NewSource(creds, nil)
	require.NoError(t, err)

	f := dialTest(t, srv.url("INBOX"), tokenOptions(t, src, MechanismXOAuth2))
	st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Fetched)
	assert.Equal(t, 1, ts.Requests("refresh_token"))
	stored, err := oauth.ReadFile(creds)
	require.NoError(t, err)
	assert.True(t, ts.ValidAccessToken(stored.AccessToken), "the refreshed token is stored")

	t.Run("revoked refresh token", func(t *testing.T) {
		ts.Revoke(rt)
		require.NoError(t, oauth.WriteFile(creds, &oauth.Credentials{TokenURL: ts.TokenURL, ClientID: "bouncer-client", RefreshToken: rt}))
		src, err := oauth.NewSource(creds, nil)
		require.NoError(t, err)
		before := ts.Requests("refresh_token")
		_, err = Dial(context.Background(), srv.url("INBOX"), tokenOptions(t, src, MechanismXOAuth2))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, KindToken, e.Kind)
		assert.ErrorIs(t, err, oauth.ErrInvalidGrant)
		assert.Equal(t, before+1, ts.Requests("refresh_token"), "a refused refresh token is not retried")
	})
	t.Run("token endpoint down is retried", func(t *testing.T) {
		require.NoError(t, oauth.WriteFile(creds, &oauth.Credentials{TokenURL: "http://127.0.0.1:1/token", ClientID: "bouncer-client", RefreshToken: "rt"}))
		src, err := oauth.NewSource(creds, nil)
		require.NoError(t, err)
		opts := tokenOptions(t, src, MechanismXOAuth2)
		opts.MaxRetries = 1
		_, err = Dial(context.Background(), srv.url("INBOX"), opts)
		assert.ErrorIs(t, err, ErrToken)
		assert.ErrorIs(t, err, oauth.ErrEndpoint)
		assert.ErrorContains(t, err, "(gave up after 2 attempts)")
	})
}

func capSet(m map[string]bool) imap.CapSet {
	out := imap.CapSet{}
	for k := range m {
		out[imap.Cap(k)] = struct{}{}
	}
	return out
}
