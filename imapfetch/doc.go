// Package imapfetch pulls a bounce mailbox over IMAP, incrementally, and
// never loses a message.
//
// A Fetcher (see Dial) connects to imaps://USER@HOST[:PORT]/MAILBOX
// (implicit TLS) or imap://… (STARTTLS, RFC 3501 section 6.2.1, required
// unless Options.InsecurePlaintext, and used even then whenever the server
// offers it), verifies the certificate (against the system roots plus
// Options.CAFile), and authenticates with LOGIN, AUTHENTICATE PLAIN
// (RFC 4616), XOAUTH2 or OAUTHBEARER (RFC 7628), the password or token
// being read from a file or an environment variable, or the token asked
// from Options.TokenSource (see package oauth, which refreshes it), on
// every connection. It speaks IMAP4rev1 (RFC 3501) and IMAP4rev2
// (RFC 9051) through github.com/emersion/go-imap/v2.
//
// # Never lose a message
//
// Fetch lists the UIDs above the State's last UID, then fetches them in
// batches with UID FETCH BODY.PEEK[] (so \Seen is not set), streaming each
// message to the Handler, one at a time: no message or batch is held in
// memory. A message larger than Options.MaxMessageBytes is fetched
// partially (BODY.PEEK[]<0.N>) and marked Truncated. The Handler commits
// each message to its own store and returns an Outcome; only after that,
// per batch and for exactly the committed UIDs, does the Fetcher act on
// the server: move (MOVE, RFC 6851, into a mailbox created when missing),
// flag (\Seen plus a keyword), delete (\Deleted plus UID EXPUNGE,
// RFC 4315), or nothing. Unrecognized messages go to
// Options.UnrecognizedMailbox, and messages the Handler failed on stay in
// place or go to Options.FailedMailbox; neither is ever deleted. Then the
// State records the batch's last UID with the mailbox's UIDVALIDITY; when
// UIDVALIDITY changes (RFC 3501 section 2.3.1.1) everything is fetched
// again.
//
// A message whose literal comes short, or a FETCH that ends in an error,
// means the connection dropped: the message is not acted on and the
// Handler's Body reader reports io.ErrUnexpectedEOF. Dropped connections,
// server NO and BYE answers and timeouts are retried with exponential
// backoff (Options.MaxRetries). A refusal for good is not retried: BAD
// (RFC 3501 section 7.1.3), or NO with a response code of RFC 5530
// section 3 that repeating cannot change (CANNOT, NOPERM, OVERQUOTA,
// TRYCREATE once CREATE failed, …; UNAVAILABLE, INUSE, SERVERBUG and LIMIT
// are retried). When it concerns an action, the messages concerned stay
// in place, the State moves past them, the pass goes on, and Fetch reports
// ErrRefused at its end (Stats.LeftInPlace), so a folder that cannot be
// created does not stop later runs. After reconnecting, the messages already
// committed are acted on without being handed to the Handler again, and
// fetching resumes after them. After a crash, the messages of the last
// batch are handed to the Handler again, which is why it must be
// idempotent. Watch does the same continuously, waiting for new mail with
// IDLE (RFC 2177) or, without it, by polling with NOOP.
//
// # Divergences
//
//   - Only the USER@HOST:PORT/MAILBOX part of RFC 5092 IMAP URLs is
//     understood; ";AUTH=", a password, a query or a fragment are refused.
//     The mailbox is taken verbatim as the server names it (percent-decoded,
//     no modified UTF-7 conversion).
//   - Servers without MOVE get COPY, then, once COPY succeeded, \Deleted and
//     UID EXPUNGE. Before COPY the messages are flagged MovingKeyword (COPY
//     copies it), and a message found flagged at the next attempt — after a
//     crash or a dropped connection between COPY and EXPUNGE — is looked for
//     in the destination (same Message-ID, size and INTERNALDATE, flagged
//     too) and not copied again. The copies keep the keyword. On a mailbox
//     without keywords (PERMANENTFLAGS lacks \*), or when the server does not
//     preserve INTERNALDATE, such a cut still leaves a second copy. Servers
//     without UIDPLUS cannot expunge single messages: a plain EXPUNGE is
//     sent only when no other message is flagged \Deleted; otherwise ours
//     stay flagged \Deleted (and copied) until someone expunges.
//   - An XOAUTH2 failure is answered with "=" (go-imap's encoding of an
//     empty response) rather than an empty line; servers end with NO or
//     BAD either way, and the connection is closed after any failed login.
//   - The Handler's time is not bounded; go-imap gives up on a literal that
//     is not read for 5 minutes, which counts as a dropped connection.
//   - Listing the new UIDs holds one (UID, size) pair per new message in
//     memory (16 bytes each), not the messages.
//   - With Options.InsecurePlaintext, whether the server offers STARTTLS is
//     read from the plaintext greeting (or a CAPABILITY command before
//     go-imap takes over): an attacker on the path can hide it, which is
//     why the option is for trusted networks only. A server that offers
//     STARTTLS and then fails it, or whose certificate is not trusted, is
//     an error, never a reason to fall back to plaintext.
//
// # Errors
//
// Every error is an *Error: a Kind (each wrapping a sentinel error such as
// ErrAuth, for errors.Is), the server's address, the mailbox, the
// operation, and the cause (the server's *imap.Error with its response
// code, a net error…). KindUnreachable (the connection could not be
// opened) and KindDisconnected (it dropped after it was opened) both wrap
// ErrConnection; Error.Retryable says what the Fetcher retries.
package imapfetch
