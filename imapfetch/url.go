package imapfetch

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Security is how a connection is protected.
type Security string

const (
	// SecurityTLS is implicit TLS from the first byte (imaps://, port 993).
	SecurityTLS Security = "tls"
	// SecuritySTARTTLS is a plaintext connection upgraded with STARTTLS
	// before authentication (imap://, port 143; RFC 3501 section 6.2.1).
	SecuritySTARTTLS Security = "starttls"
)

// Default ports.
const (
	DefaultPortTLS      = 993
	DefaultPortSTARTTLS = 143
)

// URL is a parsed mailbox URL: imaps://USER@HOST[:PORT]/MAILBOX or
// imap://USER@HOST[:PORT]/MAILBOX.
type URL struct {
	Security Security
	User     string // percent-decoded; may contain "@"
	Host     string // host name or IP literal, without brackets
	Port     int
	Mailbox  string // percent-decoded; "INBOX" when the path is empty
}

// Addr returns HOST:PORT.
func (u *URL) Addr() string {
	return net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
}

// String returns the URL in the form ParseURL accepts. It holds no secret.
func (u *URL) String() string {
	scheme := "imaps"
	if u.Security == SecuritySTARTTLS {
		scheme = "imap"
	}
	v := url.URL{Scheme: scheme, User: url.User(u.User), Host: u.Addr(), Path: "/" + u.Mailbox}
	return v.String()
}

// Key names the mailbox for a state: USER@HOST/MAILBOX, the host in
// lower case, without scheme or port, so that the same mailbox reached
// over imaps://…:993 and imap://…:143 with STARTTLS is one mailbox. (Its
// UIDVALIDITY is kept beside the key.)
func (u *URL) Key() string {
	return u.User + "@" + strings.ToLower(u.Host) + "/" + u.Mailbox
}

// LegacyKeys are the keys an older bouncer kept this mailbox's state
// under: its whole URL (String), and the same with the other scheme on its
// default port. A state found under one of them is carried over to Key.
func (u *URL) LegacyKeys() []string {
	keys := []string{u.String()}
	for _, v := range []URL{
		{Security: SecurityTLS, User: u.User, Host: u.Host, Port: DefaultPortTLS, Mailbox: u.Mailbox},
		{Security: SecuritySTARTTLS, User: u.User, Host: u.Host, Port: DefaultPortSTARTTLS, Mailbox: u.Mailbox},
	} {
		if k := v.String(); k != keys[0] {
			keys = append(keys, k)
		}
	}
	return keys
}

// ParseURL parses an IMAP URL. The user name is required, a password in
// the URL is refused (it would show in process lists and logs; see
// Options.SecretFile), and the mailbox defaults to INBOX.
func ParseURL(raw string) (*URL, error) {
	v, err := url.Parse(raw)
	if err != nil {
		// Not the url.Error itself: it repeats the input, password included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, &Error{Kind: KindURL, Err: err}
	}
	u := &URL{}
	switch strings.ToLower(v.Scheme) {
	case "imaps":
		u.Security, u.Port = SecurityTLS, DefaultPortTLS
	case "imap":
		u.Security, u.Port = SecuritySTARTTLS, DefaultPortSTARTTLS
	default:
		return nil, errorf(KindURL, "%q: scheme must be imaps:// or imap://", redact(v))
	}
	if v.Opaque != "" {
		return nil, errorf(KindURL, "%q: want imaps://USER@HOST/MAILBOX", redact(v))
	}
	if v.User == nil || v.User.Username() == "" {
		return nil, errorf(KindURL, "%q: missing user name (imaps://USER@HOST/MAILBOX)", redact(v))
	}
	if _, ok := v.User.Password(); ok {
		return nil, errorf(KindURL, "%q: a password in the URL is not allowed; use a secret file or environment variable", redact(v))
	}
	u.User = v.User.Username()
	if strings.Contains(strings.ToUpper(u.User), ";AUTH=") {
		return nil, errorf(KindURL, "%q: ;AUTH= is not supported; choose the mechanism in the options", redact(v))
	}
	u.Host = v.Hostname()
	if u.Host == "" {
		return nil, errorf(KindURL, "%q: missing host", redact(v))
	}
	if p := v.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errorf(KindURL, "%q: bad port %q", redact(v), p)
		}
		u.Port = n
	}
	if v.RawQuery != "" || v.ForceQuery || v.Fragment != "" {
		return nil, errorf(KindURL, "%q: query and fragment are not supported", redact(v))
	}
	u.Mailbox = strings.TrimPrefix(v.Path, "/")
	if u.Mailbox == "" {
		u.Mailbox = "INBOX"
	}
	return u, nil
}

// redact drops a password from v for error messages.
func redact(v *url.URL) string {
	return v.Redacted()
}
