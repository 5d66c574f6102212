package dovecottest

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	s := Start(t)

	cfg, err := s.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := greet(s.Addr, cfg); err != nil {
		t.Fatalf("greeting over TLS with CACertFile: %v", err)
	}
	// Without the CA the certificate must be refused.
	if err := greet(s.Addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Error("TLS handshake without the CA succeeded, want a certificate error")
	}

	s.Append(t, "INBOX", []byte("Subject: one\r\n\r\nbody\r\n"))
	s.Append(t, "INBOX", []byte("Subject: two\r\n\r\nbody\r\n"))
	s.Append(t, "Other/Sub", []byte("Subject: three\r\n\r\nbody\r\n"))
	if n, _ := s.MailboxStatus(t, "INBOX"); n != 2 {
		t.Errorf("INBOX holds %d messages, want 2", n)
	}
	if n, _ := s.MailboxStatus(t, "Other/Sub"); n != 1 {
		t.Errorf("Other/Sub holds %d messages, want 1", n)
	}

	s.SetUIDValidity(t, "INBOX", 4242)
	if _, v := s.MailboxStatus(t, "INBOX"); v != 4242 {
		t.Errorf("UIDVALIDITY = %d, want 4242", v)
	}
	s.Kick(t) // no session: must still succeed

	start := time.Now()
	s.Stop()
	t.Logf("stop took %v", time.Since(start))
	if err := greet(s.Addr, cfg); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("after Stop, dial error = %v, want connection refused", err)
	}
}
