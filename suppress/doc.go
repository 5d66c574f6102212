// Package suppress keeps the history of a bounce mailbox and decides, from
// it, which addresses a mailing list must stop mailing.
//
// # History
//
// The state is one SQLite file (modernc.org/sqlite, pure Go, chosen in
// sqlite_driver.go; docs/sqlite.md measures it against the other embedded
// drivers) in WAL mode with synchronous=FULL and a busy timeout
// (Options), or a PostgreSQL
// database shared by several hosts (Open with a "postgres://" URL; pgx's
// database/sql driver). Both run the same statements and schema through a
// small dialect layer (dialect.go: placeholders, 64-bit integers, byte-wise
// text order, the write lock), so the same history gives the same lists,
// byte for byte. The schema is migrated by ordered steps counted in PRAGMA
// user_version (PostgreSQL: the bouncer_schema table); a state from a newer
// version is refused (ErrNewerSchema). It holds:
//
//   - messages: every processed message (mailbox, UIDVALIDITY, UID, SHA-256
//     of the raw bytes, Message-ID, outcome, source, where it was read
//     and where it went);
//   - events: every bounce event (normalised address, category, reason,
//     status, reply code, diagnostic, date from the bounce itself, the
//     original message's Message-ID, source, and the evidence: the rule
//     that decided the reason, where the address was read, the proof);
//   - allows: the lifted suppressions, with who, when, why and until when
//     (DB.Allow; history.go);
//   - pruned: per suppressed address, the summary of its events removed
//     by DB.Prune;
//   - sync_state: per IMAP mailbox, its UIDVALIDITY and last UID processed
//     (LoadState, SaveState; DB.SyncState adapts them to imapfetch.State).
//   - outbox: per push target, the events still to deliver and those
//     delivered or refused (outbox.go; package push drains it);
//   - leases: per mailbox, the host that works it and until when
//     (lease.go: AcquireLease, WaitLease). A lease expires when its holder
//     stops renewing it, and every Batch checks the leases of its DB before
//     it commits (ErrLeaseLost).
//
// DB.Record writes a message and its events in one transaction, so a crash
// at any point loses nothing and counts nothing twice; recording a message
// again (same hash, or same mailbox, UIDVALIDITY and UID) is a no-op that
// returns the stored outcome (DB.Lookup and DB.KnownHashes ask the same
// question without writing, through a pool of readers that an open write
// transaction does not hold up). A Batch (DB.Begin) records many messages
// in one transaction, one disk sync, with statements prepared once at Open.
// The same transaction queues each new event in the outbox for the targets
// set with DB.SetOutbox, so an event is never recorded without being
// queued, nor queued twice. After a commit that left the write-ahead log
// over Options.WALLimit, and when the lock is taken, the log is
// checkpointed and truncated, so that a nearly full disk keeps its space
// for the history; a full disk is ErrDiskFull, a state that cannot be
// written ErrReadOnly. DB.Lock takes an OS file lock beside the state so
// that a second run fails at once with ErrLocked (on PostgreSQL it does
// nothing: the leases keep hosts apart, per mailbox). On PostgreSQL a
// write transaction first takes a database-wide advisory lock, as BEGIN
// IMMEDIATE does in SQLite, so that two hosts' batches never interleave;
// a message seen by several hosts is recorded once (the unique hash and
// IMAP identity, ON CONFLICT DO NOTHING).
//
// # Policy
//
// Decide and DB.Lists apply a Policy to the history. The defaults (zero
// Policy): hard and complaint events suppress at once; soft events suppress
// after 3 of them on 3 different UTC days within 30 days, older ones ageing
// out, or after permanent ones (Event.Permanent: a 5xx or "permanent error"
// that says nothing more, docs/taxonomy.md) on 2 different UTC days within
// those 30 days (Policy.PermanentThreshold); policy events are never
// suppressed but are listed in Lists.Policy;
// category none (auto-replies, delivery notices) is ignored. "Now" is a
// parameter whose default is the latest event's date, never the clock, so
// the same history always gives the same lists.
//
// Deliberate choices:
//   - Suppression is not lifted by a later delivery notice or auto-reply:
//     those are rare, unreliable, and lifting is the list owner's call
//     (DB.Allow): the events of an allowed address dated up to its allow
//     (or its Until) do not count, so a rerun over the same messages keeps
//     it off the lists, and a new bounce dated after it counts again.
//   - Hard and complaint suppressions do not age out.
//   - An address that qualifies under several categories is listed once,
//     under the first of complaint, hard, soft, policy.
//   - The entry's reason, status, reply code and diagnostic are those of the
//     latest event of its category; ties on the date are broken by content,
//     never by the order of recording.
//   - An address repeated in one message counts once for that message.
//   - An event without a date takes the message's date (Message.Date); with
//     neither, it is skipped: the clock is never a bounce date.
//
// # The operator's questions
//
// One API answers them, for the CLI and the console alike (history.go,
// pending.go, stats.go, forget.go, prune.go): DB.Why (an address's events
// with their evidence, the rule that suppresses it, its allows), DB.Allow
// and DB.AllowsSince, DB.Pending (soft bounces under the threshold),
// DB.Stats, DB.OutboxStatus, DB.Forget (every trace of an address erased,
// then, on SQLite, secure delete, log truncated and VACUUM, so its bytes
// leave the files) and DB.Prune (old events removed, who is suppressed
// unchanged: a summary per suppressed address stands for them). None of
// them takes the run lock: each is one transaction, safe beside a run.
//
// # Lists
//
// WriteCSV, WriteFile and WriteDir write the lists as CSV (RFC 4180, CRLF
// line ends, UTF-8 without BOM), sorted by address, with dates in RFC 3339
// UTC taken from the bounces: two writes of the same history give the same
// bytes. WriteFile writes atomically (temporary file, fsync, rename). The
// formats (Format) are generic, listmonk, mailchimp (text cut to 255 bytes),
// mautic, mailgun (unsubscribes), mailgun-bounces, mailgun-complaints and
// plain. Text that came from a remote server is neutralised against
// spreadsheet formula injection (OWASP): a cell starting with "=", "+", "-",
// "@", tab or CR gets a leading "'". Diagnostics are collapsed to one line
// and cut to MaxDiagnostic bytes.
//
// # Addresses
//
// NormalizeAddress gives every address one form: trimmed, angle brackets and
// an "rfc822;" prefix removed, the domain in lower-case ASCII (IDN labels as
// punycode A-labels), and the local part lower-cased as well, because list
// software compares addresses case-insensitively. Strings that are not
// addresses are refused with ErrBadAddress; Record skips such an event and
// reports it, without failing the message.
//
// # Divergences
//
// NormalizeAddress is stricter than RFC 5321/5322: it refuses quoted local
// parts, address literals and single-label domains, which no mailing list
// holds, and local parts starting with "=", "+" or "-": the address column is
// never altered in a list (an importer must match it byte for byte), so an
// address that a spreadsheet would run as a formula is refused instead.
// Stored text fields are cut to MaxStoredDiagnostic / MaxStoredField bytes
// and made valid UTF-8, with NUL bytes (which PostgreSQL text cannot hold)
// replaced by U+FFFD in both stores.
package suppress
