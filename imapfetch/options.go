package imapfetch

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/oauth2"
)

// Mechanism is a SASL mechanism (or LOGIN) used to authenticate.
type Mechanism string

const (
	// MechanismAuto uses PLAIN when the server advertises AUTH=PLAIN,
	// LOGIN otherwise; with Options.TokenSource, OAUTHBEARER when the
	// server advertises it, XOAUTH2 otherwise.
	MechanismAuto Mechanism = ""
	// MechanismLogin is the IMAP LOGIN command (RFC 3501 section 6.2.3).
	MechanismLogin Mechanism = "LOGIN"
	// MechanismPlain is AUTHENTICATE PLAIN (RFC 4616).
	MechanismPlain Mechanism = "PLAIN"
	// MechanismXOAuth2 is Google's and Microsoft's XOAUTH2 with an OAuth2
	// bearer token as the secret.
	MechanismXOAuth2 Mechanism = "XOAUTH2"
	// MechanismOAuthBearer is OAUTHBEARER (RFC 7628) with an OAuth2 bearer
	// token as the secret.
	MechanismOAuthBearer Mechanism = "OAUTHBEARER"
)

// Action is what happens to a message on the server once the Handler has
// committed it.
type Action string

const (
	// ActionNone leaves the message untouched (read-only mode; only the
	// State remembers it was seen).
	ActionNone Action = ""
	// ActionMove moves the message to Options.ProcessedMailbox, created
	// when missing.
	ActionMove Action = "move"
	// ActionFlag adds \Seen and Options.Keyword.
	ActionFlag Action = "flag"
	// ActionDelete flags the message \Deleted and expunges exactly it
	// (see the package doc for servers without UIDPLUS).
	ActionDelete Action = "delete"
)

// Defaults of the Options fields.
const (
	DefaultKeyword         = "$BouncerProcessed"
	DefaultBatchSize       = 100
	DefaultMaxMessageBytes = 10 << 20
	DefaultMaxRetries      = 5
	DefaultBackoff         = time.Second
	DefaultMaxBackoff      = time.Minute
	DefaultDialTimeout     = 30 * time.Second
	DefaultCommandTimeout  = 2 * time.Minute
	DefaultIOTimeout       = 2 * time.Minute
	DefaultMaxGreeting     = 8 << 10
	DefaultMaxLineBytes    = 8 << 20
	DefaultMaxLiteralBytes = 1 << 20
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultPollInterval    = time.Minute
	DefaultIdleRecheck     = 2 * time.Minute
)

// Options configures a Fetcher. The zero value means the defaults, and a
// nil *Options is the same as a zero one.
type Options struct {
	// Mechanism to authenticate with. Default MechanismAuto.
	Mechanism Mechanism
	// SecretFile names a file holding the password (LOGIN, PLAIN) or the
	// OAuth2 access token (XOAUTH2, OAUTHBEARER); one trailing newline is
	// ignored. SecretEnv names an environment variable holding it instead.
	// Exactly one of the two must be set. The secret is read again on every
	// connection, so an external refresher can rotate a token.
	SecretFile string
	SecretEnv  string
	// TokenSource gives the OAuth2 access token instead, asked again on
	// every connection (e.g. oauth.NewSource, which refreshes it before it
	// expires); it needs MechanismAuto, MechanismXOAuth2 or
	// MechanismOAuthBearer. Exactly one of SecretFile, SecretEnv and
	// TokenSource must be set.
	TokenSource oauth2.TokenSource

	// CAFile is a PEM file of extra CA certificates to trust besides the
	// system's, for a private CA. Certificates are always verified.
	CAFile string
	// InsecurePlaintext lets imap:// URLs talk in the clear, password
	// included, when the server does not offer STARTTLS; a server that
	// offers it is still talked to over STARTTLS, its certificate verified.
	// For tests and loopback servers only. It has no effect on imaps://
	// URLs.
	InsecurePlaintext bool

	// Action applies to messages the Handler returned OutcomeProcessed for.
	// Default ActionNone.
	Action Action
	// ProcessedMailbox is the destination of ActionMove; required with it.
	ProcessedMailbox string
	// Keyword is the keyword ActionFlag sets besides \Seen. Default
	// DefaultKeyword.
	Keyword string
	// UnrecognizedMailbox receives messages the Handler returned
	// OutcomeUnrecognized for (created when missing), e.g.
	// "bounces-unrecognized". Empty: they are left in place, untouched.
	UnrecognizedMailbox string
	// FailedMailbox receives messages for which the Handler returned an
	// error, and the pass goes on. Empty: such a message is left in place,
	// the pass stops and returns an error wrapping ErrHandler, and the
	// next pass retries it. Such messages are never deleted.
	FailedMailbox string

	// DefaultNamed says which of the three folders above carry
	// bouncer's default names rather than names the user gave: those are
	// placed under the server's personal namespace (RFC 2342), e.g.
	// "bounces-processed" becomes "INBOX.bounces-processed" on
	// Courier-IMAP and on Cyrus without altnamespace. A name the user gave
	// is used as given. Fetcher.Folders says the names used.
	DefaultNamed Folder

	// BatchSize is the number of messages fetched, then acted on, per UID
	// FETCH command. Default DefaultBatchSize (100).
	BatchSize int
	// MaxMessageBytes caps the bytes fetched per message: a larger message
	// is fetched partially (BODY.PEEK[]<0.N>) and Message.Truncated is set.
	// Default DefaultMaxMessageBytes (10 MiB); negative: no cap.
	MaxMessageBytes int64

	// MaxRetries is the number of reconnections after consecutive
	// failures (connection dropped, timeout, server NO/BYE) before giving
	// up. The count starts again after progress. Default DefaultMaxRetries
	// (5); negative: no retry.
	MaxRetries int
	// Backoff is the wait before the first retry; it doubles each time up
	// to MaxBackoff. Defaults DefaultBackoff (1 s) and DefaultMaxBackoff
	// (1 min).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// DialTimeout bounds the TCP and TLS connection. Default
	// DefaultDialTimeout (30 s).
	DialTimeout time.Duration
	// CommandTimeout bounds each IMAP command, and for FETCH the wait for
	// each next message; the time the Handler spends is not counted.
	// Default DefaultCommandTimeout (2 min).
	CommandTimeout time.Duration
	// IOTimeout bounds each read and write of the connection: while an
	// answer or a message body is expected, no byte from the server for
	// that long (or a write that long blocked) drops the connection
	// (ErrTimeout, retried like any dropped connection). Unlike
	// CommandTimeout it applies while the Handler reads a body. Reads in
	// IDLE and between commands are not bounded. Default DefaultIOTimeout
	// (2 min).
	IOTimeout time.Duration

	// MaxGreetingBytes caps the server's greeting (sent before TLS on
	// imap://, so by anyone on the path). Default DefaultMaxGreeting
	// (8 KiB). On imap:// every line before TLS (or, with
	// InsecurePlaintext, before go-imap takes over) is capped at 8 KiB
	// whatever this says.
	MaxGreetingBytes int64
	// MaxLineBytes caps each response of the server, its literals
	// included, the message bodies fetched left out (a UID SEARCH answer
	// naming a million messages takes about 7 MiB). Default
	// DefaultMaxLineBytes (8 MiB).
	MaxLineBytes int64
	// MaxLiteralBytes caps each literal the server sends other than a
	// fetched message body (a mailbox name, a header field); bodies are
	// capped by MaxMessageBytes. Default DefaultMaxLiteralBytes (1 MiB).
	// Past any of these caps the connection is closed and the error wraps
	// ErrTooLarge.
	MaxLiteralBytes int64

	// IdleTimeout is how long Watch stays in one IDLE before it ends it,
	// checks for mail and idles again (RFC 2177 asks for less than 29 min).
	// Default DefaultIdleTimeout (10 min).
	IdleTimeout time.Duration
	// IdleRecheck is how often Watch, while in IDLE, ends it and asks
	// the server with NOOP whether mail came: some servers report new mail
	// during IDLE late (Courier-IMAP, Cyrus without idled: about every
	// 60 s) or never (GNU Mailutils imap4d). Default DefaultIdleRecheck
	// (2 min).
	IdleRecheck time.Duration
	// PollInterval is how often Watch polls (NOOP, then a pass) when the
	// server lacks IDLE. Default DefaultPollInterval (1 min).
	PollInterval time.Duration

	// Logger receives reconnections, UIDVALIDITY changes and skipped
	// expunges. Default: discard.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with defaults filled in, after
// checking it.
func (o *Options) withDefaults() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	switch v.Mechanism {
	case MechanismAuto, MechanismLogin, MechanismPlain, MechanismXOAuth2, MechanismOAuthBearer:
	default:
		return v, errorf(KindOptions, "unknown mechanism %q", v.Mechanism)
	}
	secrets := 0
	for _, set := range []bool{v.SecretFile != "", v.SecretEnv != "", v.TokenSource != nil} {
		if set {
			secrets++
		}
	}
	if secrets != 1 {
		return v, errorf(KindOptions, "set exactly one of SecretFile, SecretEnv and TokenSource")
	}
	if v.TokenSource != nil && (v.Mechanism == MechanismLogin || v.Mechanism == MechanismPlain) {
		return v, errorf(KindOptions, "TokenSource needs an OAuth2 mechanism, not %s", v.Mechanism)
	}
	switch v.Action {
	case ActionNone, ActionFlag, ActionDelete:
	case ActionMove:
		if v.ProcessedMailbox == "" {
			return v, errorf(KindOptions, "ActionMove needs ProcessedMailbox")
		}
	default:
		return v, errorf(KindOptions, "unknown action %q", v.Action)
	}
	if v.Keyword == "" {
		v.Keyword = DefaultKeyword
	}
	if strings.ContainsAny(v.Keyword, " ()[]{%*\"\\") {
		return v, errorf(KindOptions, "keyword %q is not an IMAP atom", v.Keyword)
	}
	if v.BatchSize <= 0 {
		v.BatchSize = DefaultBatchSize
	}
	if v.MaxMessageBytes == 0 {
		v.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if v.MaxRetries == 0 {
		v.MaxRetries = DefaultMaxRetries
	}
	if v.MaxRetries < 0 {
		v.MaxRetries = 0
	}
	if v.Backoff <= 0 {
		v.Backoff = DefaultBackoff
	}
	if v.MaxBackoff <= 0 {
		v.MaxBackoff = DefaultMaxBackoff
	}
	if v.DialTimeout <= 0 {
		v.DialTimeout = DefaultDialTimeout
	}
	if v.CommandTimeout <= 0 {
		v.CommandTimeout = DefaultCommandTimeout
	}
	v.setLimitDefaults()
	if v.IdleTimeout <= 0 {
		v.IdleTimeout = DefaultIdleTimeout
	}
	if v.IdleRecheck <= 0 {
		v.IdleRecheck = DefaultIdleRecheck
	}
	if v.PollInterval <= 0 {
		v.PollInterval = DefaultPollInterval
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v, nil
}

// setLimitDefaults fills in the defaults of the time and size limits of
// the connection.
func (v *Options) setLimitDefaults() {
	if v.IOTimeout <= 0 {
		v.IOTimeout = DefaultIOTimeout
	}
	if v.MaxGreetingBytes <= 0 {
		v.MaxGreetingBytes = DefaultMaxGreeting
	}
	if v.MaxLineBytes <= 0 {
		v.MaxLineBytes = DefaultMaxLineBytes
	}
	if v.MaxLiteralBytes <= 0 {
		v.MaxLiteralBytes = DefaultMaxLiteralBytes
	}
}

// wireLimits returns the caps on what the server sends.
func (o *Options) wireLimits() wireLimits {
	body := o.MaxMessageBytes
	if body <= 0 {
		body = -1
	}
	return wireLimits{greeting: o.MaxGreetingBytes, line: o.MaxLineBytes, literal: o.MaxLiteralBytes, body: body}
}

// mechanism returns the mechanism to use with a server advertising caps.
func (o *Options) mechanism(caps imap.CapSet) Mechanism {
	if o.Mechanism != MechanismAuto {
		return o.Mechanism
	}
	mechs := caps.AuthMechanisms()
	if o.TokenSource != nil {
		if slices.Contains(mechs, string(MechanismOAuthBearer)) {
			return MechanismOAuthBearer
		}
		return MechanismXOAuth2
	}
	if slices.Contains(mechs, string(MechanismPlain)) {
		return MechanismPlain
	}
	return MechanismLogin
}

// secret reads the password or token, afresh.
func (o *Options) secret() (string, error) {
	if o.TokenSource != nil {
		tok, err := o.TokenSource.Token()
		if err != nil {
			return "", &Error{Kind: KindToken, Op: "token", Err: err}
		}
		if tok.AccessToken == "" {
			return "", &Error{Kind: KindToken, Op: "token", Err: errors.New("empty access token")}
		}
		return tok.AccessToken, nil
	}
	if o.SecretFile != "" {
		b, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return "", &Error{Kind: KindSecret, Err: err}
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return "", errorf(KindSecret, "%s is empty", o.SecretFile)
		}
		return s, nil
	}
	s := os.Getenv(o.SecretEnv)
	if s == "" {
		return "", errorf(KindSecret, "environment variable %s is unset or empty", o.SecretEnv)
	}
	return s, nil
}

// tlsConfig returns the TLS configuration for host: system roots plus
// CAFile.
func (o *Options) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if o.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, errorf(KindOptions, "CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errorf(KindOptions, "CA file %s holds no PEM certificate", o.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
