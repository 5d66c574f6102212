package imapfetch

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "ya29.test-token"

// saslSession adds XOAUTH2 and OAUTHBEARER to an in-memory session. A
// valid token logs in as testUser.
type saslSession struct {
	imapserver.Session
	valid func(token string) bool // nil: only testToken
}

func (s *saslSession) validToken(token string) bool {
	if s.valid != nil {
		return s.valid(token)
	}
	return token == testToken
}

func (s *saslSession) AuthenticateMechanisms() []string {
	return []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
}

func (s *saslSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.Login(user, pass) }), nil
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if o.Username != testUser || !s.validToken(o.Token) {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			if err := s.Login(testUser, testPassword); err != nil {
				return &sasl.OAuthBearerError{Status: "invalid_request"}
			}
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{login: func() error { return s.Login(testUser, testPassword) }, valid: s.validToken}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "unsupported mechanism"}
}

// xoauth2Server mimics Gmail: a JSON challenge on a bad token, then NO.
type xoauth2Server struct {
	login  func() error
	valid  func(token string) bool
	failed bool
}

func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if s.failed {
		return nil, true, errors.New("invalid credentials")
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	if token, ok := strings.CutPrefix(string(resp), "user="+testUser+"\x01auth=Bearer "); ok && s.valid(strings.TrimSuffix(token, "\x01\x01")) {
		return nil, true, s.login()
	}
	s.failed = true
	challenge, _ := json.Marshal(map[string]string{"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"})
	return challenge, false, nil
}

func startSASLMem(t *testing.T) *memServer {
	return startSASLMemValid(t, nil)
}

// startSASLMemValid is startSASLMem accepting the tokens valid approves.
func startSASLMemValid(t *testing.T, valid func(token string) bool) *memServer {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	require.NoError(t, user.Create("INBOX", nil))
	mem.AddUser(user)
	return startMemWith(t, capsRev1, func() imapserver.Session { return &saslSession{Session: mem.NewSession(), valid: valid} }, user)
}

func TestAuth(t *testing.T) {
	srv := startSASLMem(t)
	srv.append(t, "INBOX", testMessage(0, 0))
	tests := []struct {
		name    string
		mech    Mechanism
		secret  string
		wantErr error
	}{
		{"auto picks PLAIN", MechanismAuto, testPassword, nil},
		{"LOGIN", MechanismLogin, testPassword, nil},
		{"PLAIN", MechanismPlain, testPassword, nil},
		{"XOAUTH2", MechanismXOAuth2, testToken, nil},
		{"OAUTHBEARER", MechanismOAuthBearer, testToken, nil},
		{"LOGIN wrong password", MechanismLogin, "wrong", ErrAuth},
		{"PLAIN wrong password", MechanismPlain, "wrong", ErrAuth},
		{"XOAUTH2 expired token", MechanismXOAuth2, "expired", ErrAuth},
		{"OAUTHBEARER expired token", MechanismOAuthBearer, "expired", ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, tc.secret)
			opts.Mechanism = tc.mech
			f, err := Dial(context.Background(), srv.url("INBOX"), opts)
			require.ErrorIs(t, err, tc.wantErr, "Dial()")
			if err != nil {
				msg := err.Error()
				assert.True(t, strings.HasPrefix(msg, "imapfetch: authentication failed: "), "error %q", msg)
				assert.NotContains(t, msg, "\n", "error %q", msg)
				assert.NotContains(t, msg, tc.secret, "error %q", msg)
				return
			}
			defer f.Close()
			st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
			assert.NoError(t, err, "Fetch() after login")
			assert.Equal(t, 1, st.Fetched, "Fetch() after login")
		})
	}
}

func TestSASLInitialResponses(t *testing.T) {
	tests := []struct {
		name      string
		client    sasl.Client
		wantMech  string
		wantIR    string
		challenge string
		wantResp  []byte
	}{
		{
			name:      "XOAUTH2",
			client:    &xoauth2Client{user: "bounce@example.com", token: "tok"},
			wantMech:  "XOAUTH2",
			wantIR:    "user=bounce@example.com\x01auth=Bearer tok\x01\x01",
			challenge: `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`,
			wantResp:  []byte{},
		},
		{
			name:      "OAUTHBEARER",
			client:    &oauthBearerClient{user: "a,b=c", token: "tok", host: "imap.example.com", port: 993},
			wantMech:  "OAUTHBEARER",
			wantIR:    "n,a=a=2Cb=3Dc,\x01host=imap.example.com\x01port=993\x01auth=Bearer tok\x01\x01",
			challenge: `{"status":"invalid_token","schemes":"bearer"}`,
			wantResp:  []byte{0x01},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mech, ir, err := tc.client.Start()
			assert.NoError(t, err, "Start()")
			assert.Equal(t, tc.wantMech, mech, "Start()")
			assert.Equal(t, tc.wantIR, string(ir), "Start()")
			resp, err := tc.client.Next([]byte(tc.challenge))
			assert.NoError(t, err, "Next(error challenge)")
			assert.Equal(t, tc.wantResp, resp, "Next(error challenge)")
			_, err = tc.client.Next([]byte(tc.challenge))
			assert.Error(t, err, "a second challenge was accepted")
		})
	}
}

func TestSecretReread(t *testing.T) {
	opts := testOptions(t, "first")
	o, err := opts.withDefaults()
	require.NoError(t, err)
	s, err := o.secret()
	assert.Equal(t, "first", s, "secret()")
	assert.NoError(t, err, "secret()")
	writeFile(t, o.SecretFile, "second\r\n")
	s, _ = o.secret()
	assert.Equal(t, "second", s, "secret() after rotation")

	t.Setenv("IMAPFETCH_TEST_TOKEN", "from-env")
	o = Options{SecretEnv: "IMAPFETCH_TEST_TOKEN"}
	s, err = o.secret()
	assert.Equal(t, "from-env", s, "secret() from env")
	assert.NoError(t, err, "secret() from env")
	o = Options{SecretEnv: "IMAPFETCH_TEST_UNSET_VARIABLE"}
	_, err = o.secret()
	assert.ErrorIs(t, err, ErrSecret, "secret() from unset env")
}
