package imapfetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
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
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
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
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Dial() = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				msg := err.Error()
				if !strings.HasPrefix(msg, "imapfetch: authentication failed: ") || strings.Contains(msg, "\n") || strings.Contains(msg, tc.secret) {
					t.Errorf("error %q: want one line starting with imapfetch: and no secret", msg)
				}
				return
			}
			defer f.Close()
			st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
			if err != nil || st.Fetched != 1 {
				t.Errorf("Fetch() after login = %+v, %v", st, err)
			}
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
			if err != nil || mech != tc.wantMech || string(ir) != tc.wantIR {
				t.Errorf("Start() = %q, %q, %v; want %q, %q", mech, ir, err, tc.wantMech, tc.wantIR)
			}
			resp, err := tc.client.Next([]byte(tc.challenge))
			if err != nil || !bytes.Equal(resp, tc.wantResp) {
				t.Errorf("Next(error challenge) = %q, %v; want %q", resp, err, tc.wantResp)
			}
			if _, err := tc.client.Next([]byte(tc.challenge)); err == nil {
				t.Error("a second challenge was accepted")
			}
		})
	}
}

func TestSecretReread(t *testing.T) {
	opts := testOptions(t, "first")
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := o.secret(); s != "first" || err != nil {
		t.Errorf("secret() = %q, %v; want first (newline trimmed)", s, err)
	}
	writeFile(t, o.SecretFile, "second\r\n")
	if s, _ := o.secret(); s != "second" {
		t.Errorf("secret() after rotation = %q, want second", s)
	}

	t.Setenv("IMAPFETCH_TEST_TOKEN", "from-env")
	o = Options{SecretEnv: "IMAPFETCH_TEST_TOKEN"}
	if s, err := o.secret(); s != "from-env" || err != nil {
		t.Errorf("secret() from env = %q, %v", s, err)
	}
	o = Options{SecretEnv: "IMAPFETCH_TEST_UNSET_VARIABLE"}
	if _, err := o.secret(); !errors.Is(err, ErrSecret) {
		t.Errorf("secret() from unset env = %v, want ErrSecret", err)
	}
}
