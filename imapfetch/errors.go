package imapfetch

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them (check
// with errors.Is) and their text starts with "imapfetch: ".
var (
	// ErrURL: the mailbox URL cannot be parsed. Not retried.
	ErrURL = errors.New("imapfetch: bad IMAP URL")
	// ErrOptions: the Options are inconsistent. Not retried.
	ErrOptions = errors.New("imapfetch: bad options")
	// ErrSecret: the password or token cannot be read. Not retried.
	ErrSecret = errors.New("imapfetch: cannot read secret")
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
	// ErrConnection: the server is unreachable, or the connection dropped
	// (mid-message too). Retried.
	ErrConnection = errors.New("imapfetch: connection failed")
	// ErrTimeout: an IMAP command took longer than Options.CommandTimeout.
	// Retried.
	ErrTimeout = errors.New("imapfetch: timeout")
	// ErrServer: the server answered NO or BAD to a command after login.
	// Retried.
	ErrServer = errors.New("imapfetch: server refused command")
	// ErrHandler: the Handler returned an error (or no Outcome) and
	// Options.FailedMailbox is empty: the message was left in place and the
	// pass stopped. Not retried.
	ErrHandler = errors.New("imapfetch: handler failed")
	// ErrState: the State store failed. Not retried.
	ErrState = errors.New("imapfetch: state store failed")
)

// permanent reports whether err must not be retried.
func permanent(err error) bool {
	for _, e := range []error{ErrURL, ErrOptions, ErrSecret, ErrTLSRequired, ErrCertificate, ErrAuth, ErrMailbox, ErrHandler, ErrState} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
