// Package pipeline is the bounce job as a library: raw message in, recorded
// events out.
//
// A Processor reads one message (dsn.Parse), classifies each recipient
// (classify), and applies the job's own rules: the address on the list is
// the one the mail was sent to (a report's Original-Recipient, RFC 3464
// section 2.3.1), and a failed forward is recorded for the address it led to
// too; a bounce dated far after its arrival is dated by its arrival; an
// address read from a notice's running text suppresses nothing unless the
// report confirms it (its VERP address, the recipients of the returned
// original); a Proof, when given (ProofChecker: signed VERP, BATV or our
// domains, package proof), must prove each recipient before its failure
// suppresses, and the failures it does not prove are recorded as
// unverified and listed (Options.UnverifiedFile); a message that hit a
// limit is recorded with what was read and left for a human. Each message gives Records (one shape for bouncer parse and the
// state) and a suppress.Message.
//
// Run is the whole job over a mailsource.Source (pipeline.IMAP for an
// imapfetch.Fetcher, mailsource.Maildir for a local Maildir): the source
// hands each message over, parse workers feed one writer that records many
// messages per transaction, and the source acts on the messages (a MOVE of
// a UID set, renames) only once they are committed. With Options.Push (a
// push.Deliverer) the recorded events are delivered to listmonk, Mautic or
// a webhook: after the mailbox work, or beside it with Watch. Parse is the
// read-only path of bouncer parse: files, folders and mbox files in,
// records out in the order of the inputs.
//
// On a state shared by several hosts (suppress on PostgreSQL), Run holds
// the mailbox's lease (suppress.DB.AcquireLease, keyed by the IMAP URL, or
// by host and path for a Maildir) while it works: one host at a time works
// a mailbox, a standby (Options.Watch) takes over when the holder's lease
// expires, and a holder that lost it commits nothing more.
//
// # Divergences
//
//   - A message that hits a limit of dsn.Options (Report.Truncated) or was
//     cut by its source is recorded but goes to the folder for humans
//     (suppress.OutcomeUnrecognized), never to the processed folder:
//     raising the limit and reading it again is a human's call.
//   - A failure whose address was read from free text (dsn.PositionText)
//     and is confirmed nowhere else is recorded with category none and
//     the note NoteUnconfirmed: a guess never suppresses.
package pipeline
