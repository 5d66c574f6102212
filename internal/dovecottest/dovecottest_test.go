package dovecottest

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStart(t *testing.T) {
	s := Start(t)

	cfg, err := s.TLSConfig()
	require.NoError(t, err)
	require.NoError(t, greet(s.Addr, cfg), "greeting over TLS with CACertFile")
	// Without the CA the certificate must be refused.
	assert.Error(t, greet(s.Addr, &tls.Config{ServerName: "127.0.0.1"}), "TLS handshake without the CA succeeded, want a certificate error")

	s.Append(t, "INBOX", []byte("Subject: one\r\n\r\nbody\r\n"))
	s.Append(t, "INBOX", []byte("Subject: two\r\n\r\nbody\r\n"))
	s.Append(t, "Other/Sub", []byte("Subject: three\r\n\r\nbody\r\n"))
	n, _ := s.MailboxStatus(t, "INBOX")
	assert.Equal(t, 2, n, "INBOX holds %d messages", n)
	n, _ = s.MailboxStatus(t, "Other/Sub")
	assert.Equal(t, 1, n, "Other/Sub holds %d messages", n)

	s.SetUIDValidity(t, "INBOX", 4242)
	_, v := s.MailboxStatus(t, "INBOX")
	assert.EqualValues(t, 4242, v, "UIDVALIDITY")
	s.Kick(t) // no session: must still succeed

	start := time.Now()
	s.Stop()
	t.Logf("stop took %v", time.Since(start))
	err = greet(s.Addr, cfg)
	require.Error(t, err, "after Stop, dial error")
	assert.Contains(t, err.Error(), "refused", "after Stop, dial error")
}
