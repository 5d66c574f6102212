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
// the server: move (MOVE, RFC 6851, into a mailbox created when missing,
// see "Folders" below),
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
// are retried); a move refused again after its destination was checked
// (see "Folders") is refused for good too. When it concerns an action,
// the messages concerned stay
// in place, the State moves past them, the pass goes on, and Fetch reports
// ErrRefused at its end (Stats.LeftInPlace), so a folder that cannot be
// created does not stop later runs. After reconnecting, the messages already
// committed and still in the mailbox (UID SEARCH UID) are acted on without
// being handed to the Handler again, and fetching resumes after them. After a crash, the messages of the last
// batch are handed to the Handler again, which is why it must be
// idempotent. Watch does the same continuously, waiting for new mail with
// IDLE (RFC 2177), which it ends every Options.IdleRecheck for a NOOP
// (some servers report new mail late in IDLE, or never), or, without IDLE,
// by polling with NOOP.
//
// # Folders
//
// The destination folders whose names are bouncer's defaults
// (Options.DefaultNamed) are placed under the personal namespace the
// server reports (NAMESPACE, RFC 2342 section 5): "INBOX.bounces-processed"
// on Courier-IMAP and on Cyrus without altnamespace, "bounces-processed" on
// Dovecot, Gmail and Microsoft 365. A name the user gave is used as given.
// Fetcher.Folders says which folders are used. When a COPY or MOVE into a
// folder is refused, however the server words it (NO [TRYCREATE] as
// RFC 3501 section 6.4.7 asks, NO [NONEXISTENT], or a plain NO), the
// folder is looked up with LIST, created when missing, and the command
// sent once more; a refusal that stays is permanent at once and names the
// command refused (CREATE, UID COPY, UID MOVE or EXAMINE), and the marks
// of the attempt (MovingKeyword, the copy journal) are removed.
//
// # Limits and timeouts
//
// Every byte of the server is untrusted, and the connection is bounded in
// time and size whatever the server does:
//
//   - Options.DialTimeout bounds the TCP and TLS connection;
//     Options.CommandTimeout each command (for FETCH, the wait for each
//     next message), the Handler's time left out.
//   - Options.IOTimeout (2 min) bounds each read and write of the
//     connection while the server owes us bytes, message bodies included
//     while the Handler reads them: no byte for that long closes the
//     connection, and the error (ErrTimeout) is retried like a dropped
//     connection, the message in progress handed to the Handler again after
//     reconnecting. Reads in IDLE and between commands wait as long as they
//     must. go-imap's own deadlines (30 s per response, 5 min per body
//     literal) apply as well, the earlier one winning.
//   - What the server sends besides the bodies asked for is capped
//     (RFC 3501 section 4.3 literals, section 7 responses): the greeting
//     (Options.MaxGreetingBytes, 8 KiB; on imap:// each line before TLS is
//     at most 8 KiB), each response, its literals included and fetched
//     bodies left out (Options.MaxLineBytes, 8 MiB), and each literal other
//     than a fetched body (Options.MaxLiteralBytes, 1 MiB). A fetched body
//     may not exceed the Options.MaxMessageBytes asked for. Past a cap the
//     connection is closed at once and the error wraps ErrTooLarge, its
//     cause a *LimitError naming the cap; it is not retried. The caps are
//     checked as the bytes arrive, and a literal is refused from its
//     announced size, before its first byte: a hostile server costs at
//     most about five times MaxLineBytes of allocation (go-imap's parser
//     copies a response as it grows), whatever it sends.
//
// go-imap v2 (v2.0.0-beta.8) bounds none of this on the client side: its
// parser (internal/imapwire.Decoder) has MaxSize and
// CheckBufferedLiteralFunc, but only its server sets them, and
// imapclient.Options exposes neither; no upstream issue asks for them for
// the client (the server's is emersion/go-imap#93). So the package wraps
// the connection itself: a net.Conn that puts the deadlines on each read
// and write, and follows the stream (where each response ends, which bytes
// are literals, which literal is a "BODY[…]" of a FETCH response) to
// enforce the caps. For that it must see the plaintext: STARTTLS is done
// here, before go-imap takes over (RFC 3501 section 6.2.1; a server that
// sends anything between its OK and the TLS handshake is refused, as those
// bytes could be injected), and go-imap is then told the capabilities
// anew.
//
// # Divergences
//
//   - A response code written after the command name rather than first
//     ("NO COPY [TRYCREATE] failed": GNU Mailutils imap4d) is read as the
//     response code, up to three words in.
//   - Only the USER@HOST:PORT/MAILBOX part of RFC 5092 IMAP URLs is
//     understood; ";AUTH=", a password, a query or a fragment are refused.
//     The mailbox is taken verbatim as the server names it (percent-decoded,
//     no modified UTF-7 conversion).
//   - Servers without MOVE get COPY, then, once COPY succeeded, \Deleted and
//     UID EXPUNGE. Before COPY the messages are marked as being copied: with
//     MovingKeyword where the mailbox keeps keywords (COPY copies it), and in
//     the State's CopyJournal when it has one (package suppress keeps it
//     beside the sync state). A message found marked at the next attempt —
//     after a crash or a dropped connection between COPY and EXPUNGE — is
//     looked for in the destination (same Message-ID, RFC822.SIZE,
//     INTERNALDATE and first 64 KiB of header, so that two messages of one
//     size and second without a Message-ID are not taken for each other)
//     and not copied again. SEARCH is asked for the Message-ID
//     and the date only and the sizes are compared from FETCH, because
//     Courier-IMAP's SEARCH LARGER/SMALLER compares its LF file size, not the
//     CRLF size it reports. The copies keep the keyword. With neither
//     keywords nor a journal, or when the server does not preserve
//     INTERNALDATE, such a cut still leaves a second copy. Servers
//     without UIDPLUS cannot expunge single messages: a plain EXPUNGE is
//     sent only when no other message is flagged \Deleted; otherwise ours
//     stay flagged \Deleted (and copied) until someone expunges.
//   - An XOAUTH2 failure is answered with "=" (go-imap's encoding of an
//     empty response) rather than an empty line; servers end with NO or
//     BAD either way, and the connection is closed after any failed login.
//   - The Handler's time is not bounded; go-imap gives up on a literal that
//     is not read for 5 minutes, which counts as a dropped connection.
//   - The caps follow the stream leniently: a line may end with a bare LF;
//     "{N}" at the end of a status response or a continuation request
//     (RFC 3501 sections 7.1 and 7.5) is text, as go-imap reads it, and
//     elsewhere always announces a literal ("{N+}" and "~{N}" too);
//     a literal is a fetched body when its response starts "* N FETCH ("
//     and the literal follows "BODY[section]" or "BODY[section]<origin>",
//     whatever was asked.
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
