package imapfetch

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/oauth2"
)

// Sentinel errors. Errors returned by this package wrap one of them (check
// with errors.Is), are an *Error (check with errors.As), and their text
// starts with "imapfetch: ".
var (
	// ErrURL: the mailbox URL cannot be parsed. Not retried.
	ErrURL = errors.New("imapfetch: bad IMAP URL")
	// ErrOptions: the Options are inconsistent. Not retried.
	ErrOptions = errors.New("imapfetch: bad options")
	// ErrSecret: the password or token cannot be read. Not retried.
	ErrSecret = errors.New("imapfetch: cannot read secret")
	// ErrToken: Options.TokenSource gave no OAuth2 access token. Retried
	// only when the token endpoint could not be reached or failed (HTTP
	// 5xx); a refusal (invalid_grant: revoked or expired refresh token,
	// invalid_client…) is not.
	ErrToken = errors.New("imapfetch: cannot get an OAuth2 token")
	// ErrTLSRequired: an imap:// server refused STARTTLS and plaintext
	// was not allowed (Options.InsecurePlaintext). Not retried.
	ErrTLSRequired = errors.New("imapfetch: server does not offer STARTTLS")
	// ErrCertificate: the server certificate failed verification. Not
	// retried.
	ErrCertificate = errors.New("imapfetch: server certificate not trusted")
	// ErrAuth: the server refused the credentials. Not retried.
	ErrAuth = errors.New("imapfetch: authentication failed")
	// ErrMailbox: the mailbox cannot be selected (missing, no rights).
	// Not retried.
	ErrMailbox = errors.New("imapfetch: cannot select mailbox")
	// ErrConnection: the server is unreachable (KindUnreachable), or the
	// connection dropped after it was opened, mid-message too
	// (KindDisconnected). Retried.
	ErrConnection = errors.New("imapfetch: connection failed")
	// ErrTimeout: an IMAP command took longer than Options.CommandTimeout,
	// or the server sent no byte for Options.IOTimeout while one was
	// expected (a message body included), or took that long to accept
	// one. Retried.
	ErrTimeout = errors.New("imapfetch: timeout")
	// ErrServer: the server answered NO or BAD to a command after login,
	// with no response code saying the refusal is permanent. Retried.
	ErrServer = errors.New("imapfetch: server refused command")
	// ErrRefused: the server refused a command after login for good
	// (BAD, or NO with a response code of RFC 5530 such as CANNOT, NOPERM,
	// OVERQUOTA, or TRYCREATE for a mailbox that could not be created).
	// Not retried. When it concerns an action (move, flag, delete), the
	// messages concerned are left in place and the pass goes on; Fetch then
	// returns it at the end of the pass.
	ErrRefused = errors.New("imapfetch: server refused command permanently")
	// ErrHandler: the Handler returned an error (or no Outcome) and
	// Options.FailedMailbox is empty: the message was left in place and the
	// pass stopped. Not retried.
	ErrHandler = errors.New("imapfetch: handler failed")
	// ErrState: the State store failed. Not retried.
	ErrState = errors.New("imapfetch: state store failed")
	// ErrTooLarge: the server sent more than a cap allows (a greeting, a
	// response or a literal too long, a message body larger than asked
	// for); the cause is a *LimitError, and the connection was closed. Not
	// retried.
	ErrTooLarge = errors.New("imapfetch: server response over a limit")
)

// Kind is the class of an *Error. Each Kind wraps one sentinel error
// (Kind.Sentinel); KindUnreachable and KindDisconnected both wrap
// ErrConnection.
type Kind int

// The kinds of errors.
const (
	KindURL          Kind = iota + 1 // ErrURL
	KindOptions                      // ErrOptions
	KindSecret                       // ErrSecret
	KindToken                        // ErrToken
	KindTLSRequired                  // ErrTLSRequired
	KindCertificate                  // ErrCertificate
	KindAuth                         // ErrAuth
	KindMailbox                      // ErrMailbox
	KindUnreachable                  // ErrConnection: the TCP or TLS connection could not be opened
	KindDisconnected                 // ErrConnection: an open connection dropped or was reset
	KindTimeout                      // ErrTimeout
	KindServer                       // ErrServer: transient NO or BAD
	KindRefused                      // ErrRefused: permanent NO or BAD
	KindHandler                      // ErrHandler
	KindState                        // ErrState
	KindTooLarge                     // ErrTooLarge
)

var kindSentinels = map[Kind]error{
	KindURL:          ErrURL,
	KindOptions:      ErrOptions,
	KindSecret:       ErrSecret,
	KindToken:        ErrToken,
	KindTLSRequired:  ErrTLSRequired,
	KindCertificate:  ErrCertificate,
	KindAuth:         ErrAuth,
	KindMailbox:      ErrMailbox,
	KindUnreachable:  ErrConnection,
	KindDisconnected: ErrConnection,
	KindTimeout:      ErrTimeout,
	KindServer:       ErrServer,
	KindRefused:      ErrRefused,
	KindHandler:      ErrHandler,
	KindState:        ErrState,
	KindTooLarge:     ErrTooLarge,
}

// Sentinel returns the sentinel error of k (nil for an unknown Kind).
func (k Kind) Sentinel() error { return kindSentinels[k] }

// String returns the sentinel's text without the "imapfetch: " prefix.
func (k Kind) String() string {
	if e := k.Sentinel(); e != nil {
		s := strings.TrimPrefix(e.Error(), "imapfetch: ")
		if k == KindDisconnected {
			s = "connection lost"
		}
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is the error this package returns, shaped like go-imap's
// *imap.Error and net.OpError: what kind of failure, against which server,
// during which operation, caused by what. A server's answer is kept as
// the wrapped *imap.Error (errors.As gives its response code).
type Error struct {
	Kind Kind
	// Addr is the server's HOST:PORT; empty when no server was involved
	// (bad URL or options, the Handler, the State).
	Addr string
	// Mailbox is the mailbox concerned, when there is one: the selected
	// one, or the destination of a move.
	Mailbox string
	// Op is the operation that failed, e.g. "connect", "STARTTLS",
	// "AUTHENTICATE PLAIN", "SELECT", "UID MOVE", "CREATE", "Handler".
	Op string
	// Err is the cause: an *imap.Error, a net error, the Handler's error…
	Err error
}

// Error returns "imapfetch: KIND: ADDR: OP MAILBOX: CAUSE", leaving out the
// parts that are empty, on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("imapfetch: ")
	b.WriteString(e.Kind.String())
	if e.Addr != "" {
		b.WriteString(": ")
		b.WriteString(e.Addr)
	}
	if e.Op != "" || e.Mailbox != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
		if e.Mailbox != "" {
			if e.Op != "" {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%q", e.Mailbox)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.Join(strings.Fields(e.Err.Error()), " "))
	}
	return b.String()
}

// Unwrap returns the Kind's sentinel and the cause, so that errors.Is
// matches both.
func (e *Error) Unwrap() []error {
	var errs []error
	if s := e.Kind.Sentinel(); s != nil {
		errs = append(errs, s)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether the Fetcher retries after this error (with a
// new connection, after a backoff).
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindUnreachable, KindDisconnected, KindTimeout, KindServer:
		return true
	case KindToken:
		return !tokenRefused(e.Err)
	}
	return false
}

// tokenRefused reports whether err is an OAuth2 token endpoint's refusal
// (an RFC 6749 section 5.2 error, or any 4xx answer): retrying will not
// help, unlike an unreachable endpoint or a 5xx.
func tokenRefused(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	if re.Response != nil {
		return re.Response.StatusCode < http.StatusInternalServerError
	}
	return re.ErrorCode != ""
}

// newError returns an *Error; a cause that is already an *Error is
// returned as it is.
func newError(kind Kind, addr, mailbox, op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: kind, Addr: addr, Mailbox: mailbox, Op: op, Err: err}
}

// errorf returns an *Error whose cause is a formatted message.
func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// permanent reports whether err must not be retried: an *Error that is
// not Retryable, or an error that is no *Error at all.
func permanent(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return !e.Retryable()
	}
	// Errors of this package are all *Error; anything else is not ours to
	// retry, except the sentinels wrapped the old way.
	for _, s := range []error{ErrConnection, ErrTimeout, ErrServer} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// Permanent response codes (RFC 5530 section 3, RFC 3501 section 7.1):
// repeating the same command will get the same answer. UNAVAILABLE, INUSE,
// SERVERBUG, CORRUPTION, EXPUNGEISSUED and LIMIT may pass and are not
// listed. TRYCREATE and NONEXISTENT are permanent once the mailbox could not
// be created; the move code handles them before.
var permanentCodes = map[imap.ResponseCode]bool{
	imap.ResponseCodeCannot:               true,
	imap.ResponseCodeNoPerm:               true,
	imap.ResponseCodeOverQuota:            true,
	imap.ResponseCodeAlreadyExists:        true,
	imap.ResponseCodeTryCreate:            true,
	imap.ResponseCodeNonExistent:          true,
	imap.ResponseCodeAuthenticationFailed: true,
	imap.ResponseCodeAuthorizationFailed:  true,
	imap.ResponseCodeExpired:              true,
	imap.ResponseCodePrivacyRequired:      true,
	imap.ResponseCodeContactAdmin:         true,
	imap.ResponseCodeClientBug:            true,
	imap.ResponseCodeBadCharset:           true,
	imap.ResponseCodeParse:                true,
	imap.ResponseCodeUnknownCTE:           true,
	imap.ResponseCodeTooBig:               true,
	imap.ResponseCodeHasChildren:          true,
}

// refusedForGood reports whether a server answer means the command can
// never succeed as it is: BAD (RFC 3501 section 7.1.3: the command is
// wrong), or NO with a permanent response code.
func refusedForGood(e *imap.Error) bool {
	if e.Type == imap.StatusResponseTypeBad {
		return true
	}
	return permanentCodes[responseCode(e)]
}
