package imapfetch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want URL // zero Security: an error is expected
	}{
		{"imaps default port", "imaps://bounce@mail.example.com/INBOX", URL{SecurityTLS, "bounce", "mail.example.com", 993, "INBOX"}},
		{"imap STARTTLS default port", "imap://bounce@mail.example.com/INBOX", URL{SecuritySTARTTLS, "bounce", "mail.example.com", 143, "INBOX"}},
		{"explicit port", "imaps://bounce@127.0.0.1:10993/INBOX", URL{SecurityTLS, "bounce", "127.0.0.1", 10993, "INBOX"}},
		{"IPv6 literal", "imaps://bounce@[::1]:993/INBOX", URL{SecurityTLS, "bounce", "::1", 993, "INBOX"}},
		{"empty path is INBOX", "imaps://bounce@mail.example.com", URL{SecurityTLS, "bounce", "mail.example.com", 993, "INBOX"}},
		{"slash path is INBOX", "imaps://bounce@mail.example.com/", URL{SecurityTLS, "bounce", "mail.example.com", 993, "INBOX"}},
		{"escaped @ in user", "imaps://bounce%40example.com@imap.gmail.com/INBOX", URL{SecurityTLS, "bounce@example.com", "imap.gmail.com", 993, "INBOX"}},
		{"nested, escaped mailbox", "imaps://u@h/Bounces/To%20Check", URL{SecurityTLS, "u", "h", 993, "Bounces/To Check"}},
		{"scheme is case-insensitive", "IMAPS://u@h/INBOX", URL{SecurityTLS, "u", "h", 993, "INBOX"}},
		{"no user", "imaps://mail.example.com/INBOX", URL{}},
		{"password in URL", "imaps://bounce:s3cr3t-pw@mail.example.com/INBOX", URL{}},
		{"RFC 5092 ;AUTH=", "imaps://bounce;AUTH=XOAUTH2@mail.example.com/INBOX", URL{}},
		{"wrong scheme", "pop3://bounce@mail.example.com/", URL{}},
		{"no scheme", "bounce@mail.example.com/INBOX", URL{}},
		{"no host", "imaps://bounce@/INBOX", URL{}},
		{"port zero", "imaps://bounce@h:0/INBOX", URL{}},
		{"port too large", "imaps://bounce@h:70000/INBOX", URL{}},
		{"query", "imaps://bounce@h/INBOX?UNSEEN", URL{}},
		{"fragment", "imaps://bounce@h/INBOX#x", URL{}},
		{"garbage", "imaps://bou nce@h:x/", URL{}},
		{"unparsable with password", "imaps://bounce:s3cr3t-pw@h:x/", URL{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if tc.want.Security == "" {
				assert.ErrorIs(t, err, ErrURL, "ParseURL(%q)", tc.in)
				if err != nil {
					assert.False(t, containsSecret(err.Error()), "ParseURL(%q) error %q shows the password", tc.in, err)
				}
				return
			}
			assert.NoError(t, err, "ParseURL(%q)", tc.in)
			assert.Equal(t, tc.want, *got, "ParseURL(%q)", tc.in)
		})
	}
}

func containsSecret(s string) bool {
	return strings.Contains(s, "s3cr3t-pw")
}

func TestURLString(t *testing.T) {
	u, err := ParseURL("imaps://bounce%40example.com@mail.example.com/Bounces/To%20Check")
	require.NoError(t, err)
	back, err := ParseURL(u.String())
	assert.NoError(t, err, "ParseURL(%q)", u.String())
	assert.Equal(t, *u, *back, "ParseURL(%q)", u.String())
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    *Options
		wantErr error
	}{
		{"nil options lack a secret", nil, ErrOptions},
		{"secret file", &Options{SecretFile: "/x"}, nil},
		{"both secret sources", &Options{SecretFile: "/x", SecretEnv: "X"}, ErrOptions},
		{"move without mailbox", &Options{SecretEnv: "X", Action: ActionMove}, ErrOptions},
		{"move", &Options{SecretEnv: "X", Action: ActionMove, ProcessedMailbox: "done"}, nil},
		{"unknown action", &Options{SecretEnv: "X", Action: "archive"}, ErrOptions},
		{"unknown mechanism", &Options{SecretEnv: "X", Mechanism: "CRAM-MD5"}, ErrOptions},
		{"keyword with space", &Options{SecretEnv: "X", Action: ActionFlag, Keyword: "$a b"}, ErrOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.withDefaults()
			assert.ErrorIs(t, err, tc.wantErr, "withDefaults()")
		})
	}

	o, err := (&Options{SecretEnv: "X"}).withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultBatchSize, o.BatchSize, "BatchSize")
	assert.EqualValues(t, DefaultMaxMessageBytes, o.MaxMessageBytes, "MaxMessageBytes")
	assert.Equal(t, DefaultMaxRetries, o.MaxRetries, "MaxRetries")
	assert.Equal(t, DefaultKeyword, o.Keyword, "Keyword")
	assert.Equal(t, DefaultCommandTimeout, o.CommandTimeout, "CommandTimeout")
	assert.NotNil(t, o.Logger, "Logger")
	o, _ = (&Options{SecretEnv: "X", MaxRetries: -1, MaxMessageBytes: -1}).withDefaults()
	assert.Equal(t, 0, o.MaxRetries, "negative MaxRetries/MaxMessageBytes")
	assert.EqualValues(t, -1, o.MaxMessageBytes, "negative MaxRetries/MaxMessageBytes")
}

// One mailbox reached over imaps:// or imap://, on any port, has one key;
// another user, host or mailbox another.
func TestURLKey(t *testing.T) {
	key := func(raw string) string {
		u, err := ParseURL(raw)
		require.NoError(t, err)
		return u.Key()
	}
	want := "bounce@mail.example/INBOX"
	for _, raw := range []string{"imaps://bounce@mail.example/INBOX", "imap://bounce@MAIL.example:143/INBOX", "imaps://bounce@mail.example:1993"} {
		assert.Equal(t, want, key(raw), "Key(%s)", raw)
	}
	for _, raw := range []string{"imaps://other@mail.example/INBOX", "imaps://bounce@mail2.example/INBOX", "imaps://bounce@mail.example/Bounces"} {
		assert.NotEqual(t, want, key(raw), "Key(%s)", raw)
	}
	u, err := ParseURL("imap://bounce@mail.example:1143/INBOX")
	require.NoError(t, err)
	assert.Equal(t, []string{"imap://bounce@mail.example:1143/INBOX", "imaps://bounce@mail.example:993/INBOX", "imap://bounce@mail.example:143/INBOX"}, u.LegacyKeys())
}
