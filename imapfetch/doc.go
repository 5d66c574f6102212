// Package imapfetch pulls a bounce mailbox over IMAP, incrementally, and
// never loses a message.
//
// A Fetcher (see Dial) connects to imaps://USER@HOST[:PORT]/MAILBOX
// (implicit TLS) or imap://… (STARTTLS, RFC 3501 section 6.2.1, required
// unless Options.InsecurePlaintext), verifies the certificate (against the
// system roots plus Options.CAFile), and authenticates with LOGIN,
// AUTHENTICATE PLAIN (RFC 4616), XOAUTH2 or OAUTHBEARER (RFC 7628), the
// password or token being read from a file or an environment variable on
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
// backoff (Options.MaxRetries); after reconnecting, the messages already
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
//     UID EXPUNGE. Servers without UIDPLUS cannot expunge single messages:
//     a plain EXPUNGE is sent only when no other message is flagged
//     \Deleted; otherwise ours stay flagged \Deleted (and copied) until
//     someone expunges. On such servers a crash between COPY and EXPUNGE
//     leaves a second copy in the destination on the next run.
//   - An XOAUTH2 failure is answered with "=" (go-imap's encoding of an
//     empty response) rather than an empty line; servers end with NO or
//     BAD either way, and the connection is closed after any failed login.
//   - The Handler's time is not bounded; go-imap gives up on a literal that
//     is not read for 5 minutes, which counts as a dropped connection.
//   - Listing the new UIDs holds one (UID, size) pair per new message in
//     memory (16 bytes each), not the messages.
package imapfetch
