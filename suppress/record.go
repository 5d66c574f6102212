package suppress

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// Outcome is what processing made of a message.
type Outcome string

const (
	// OutcomeBounce: a report with at least one failure (hard, soft,
	// policy or complaint) event.
	OutcomeBounce Outcome = "bounce"
	// OutcomeNotBounce: read, but reports no failure (an auto-reply, a
	// delivery notice, an ordinary message).
	OutcomeNotBounce Outcome = "notbounce"
	// OutcomeUnrecognized: the parser could not read it as a report.
	OutcomeUnrecognized Outcome = "unrecognized"
)

func (o Outcome) valid() bool {
	switch o {
	case OutcomeBounce, OutcomeNotBounce, OutcomeUnrecognized:
		return true
	}
	return false
}

// Limits on stored text, in bytes. Longer values are cut (at a UTF-8
// boundary) before they are stored: every byte of a bounce is untrusted.
const (
	MaxStoredDiagnostic = 4096 // Event.Diagnostic
	MaxStoredField      = 998  // every other text field (RFC 5322 line length)
)

// Message is one processed message of the mailbox with the events read from
// it.
type Message struct {
	// Mailbox, UIDValidity and UID name the message on the IMAP server
	// (RFC 9051 section 2.3.1.1). UID 0 means "no UID" (a maildir or a
	// file); such messages are known by Hash alone.
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// Hash is the SHA-256 of the raw message, lower-case hex (see Hash).
	// Required: it is what makes Record idempotent.
	Hash string
	// MessageID is the bounce's own Message-ID.
	MessageID string
	// Outcome is what processing made of it; empty means OutcomeBounce when
	// an event has a failure category and OutcomeNotBounce otherwise.
	Outcome Outcome
	// Source says where the message came from ("imap", "maildir:/path").
	Source string
	// Date is the message's own date (Date header, else the IMAP
	// INTERNALDATE); it stands in for an Event whose Date is zero.
	Date time.Time
	// Location says where the message was read: a file path ("path#N"
	// for the N-th message of an mbox), or "UID 42" for IMAP.
	Location string
	// Placed says where the message went once recorded: PlacedProcessed
	// or PlacedUnrecognized (the source's folder for humans), or the
	// folder's name when the source knows it.
	Placed string
	// Events are the recipients the report is about.
	Events []Event
}

// Event is one bounce of one address.
type Event struct {
	Address    string            // normalised by Record (NormalizeAddress)
	Category   classify.Category // empty: Reason.Category()
	Reason     classify.Reason
	Status     string // enhanced status code (RFC 3463), "5.1.1"
	ReplyCode  string // SMTP reply code (RFC 5321), "550"
	Diagnostic string // what the remote server said
	// Date is when the bounce happened, from the report itself (Arrival-Date,
	// Last-Attempt-Date, the Date header); never the time of processing.
	Date time.Time
	// MessageID is the Message-ID of the original message that bounced.
	MessageID string
	// Source names what read the event (the dsn detector, "arf", …).
	Source string
	// Evidence is what decided the reason, as parse --explain shows it
	// (classify.Evidence.String: `phrase "user unknown"`).
	Evidence string
	// RecipientFrom says where in the bounce the address was read
	// (dsn.Position: "dsn", "x-failed-recipients", "text", …).
	RecipientFrom string
	// Proof is the verdict of the proof of the bounce ("proven: verp",
	// "unverified: no-proof"), "" when none was asked for.
	Proof string
}

// Where a recorded message went (Message.Placed).
const (
	PlacedProcessed    = "processed"
	PlacedUnrecognized = "unrecognized"
)

// Result says what Record did.
type Result struct {
	// Already is true when the message (by Hash, or by mailbox, UIDVALIDITY
	// and UID) had been recorded before; nothing was written.
	Already bool
	// Outcome is the outcome stored for the message: the earlier one when
	// Already is true.
	Outcome Outcome
	// Events is the number of events recorded for the message.
	Events int
	// Skipped holds one error per event that was not recorded (a bad
	// address wraps ErrBadAddress, anything else ErrBadEvent). A duplicate
	// of an address already in the same message is dropped silently.
	Skipped []error
}

// Hash returns the content hash Record expects: SHA-256 of raw, lower-case
// hex.
func Hash(raw []byte) string {
	s := sha256.Sum256(raw)
	return hex.EncodeToString(s[:])
}

// testHookEvent, when set by a test, runs after each event insert inside the
// transaction; an error from it aborts the transaction.
var testHookEvent func(i int) error

// Record stores m and its events in one transaction: either the message is
// marked processed together with all its (valid) events, or nothing is
// written. Recording a message already recorded (same Hash, or same
// mailbox, UIDVALIDITY and UID) writes nothing and returns Already with the
// stored outcome, so a run resumed after a crash counts nothing twice.
//
// A bad event does not fail the message: it is skipped and reported in
// Result.Skipped. Record fails only for a bad Message (ErrBadMessage) or a
// database error, and then nothing is written. To record many messages,
// Begin a Batch: one transaction, one disk sync.
func (db *DB) Record(ctx context.Context, m *Message) (Result, error) {
	if err := checkMessage(m); err != nil {
		return Result{}, err
	}
	b, err := db.Begin(ctx)
	if err != nil {
		return Result{}, err
	}
	defer b.Rollback() // no-op after Commit
	res, err := b.Record(ctx, m)
	if err != nil {
		return Result{}, err
	}
	if err := b.Commit(ctx); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Batch is one write transaction holding many messages: recording them
// costs one disk sync in all. Begin one with DB.Begin, Record into it, then
// Commit (or Rollback). A Batch is not safe for concurrent use, and while it
// is open other writers of the same DB wait (readers do not: Known, Lists).
type Batch struct {
	db                                  *DB
	tx                                  *sql.Tx
	insMessage, insEvent, byHash, byUID *sql.Stmt
	n                                   int
	done                                bool
}

// Begin starts a Batch (BEGIN IMMEDIATE: it takes the write lock at once;
// on PostgreSQL the same lock is an advisory lock of the database, shared
// by every host).
func (db *DB) Begin(ctx context.Context) (*Batch, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, db.wrapErr("record", err)
	}
	return &Batch{
		db: db, tx: tx,
		insMessage: tx.StmtContext(ctx, db.insMessage),
		insEvent:   tx.StmtContext(ctx, db.insEvent),
		byHash:     tx.StmtContext(ctx, db.byHash),
		byUID:      tx.StmtContext(ctx, db.byUID),
	}, nil
}

// Len returns the number of messages recorded into the batch (those found
// already recorded are not counted).
func (b *Batch) Len() int { return b.n }

// Record adds m to the batch, as DB.Record does in a transaction of its
// own; it is written when the batch commits. After a database error the
// batch must be rolled back: what it held is lost, not half-written.
func (b *Batch) Record(ctx context.Context, m *Message) (Result, error) {
	if err := checkMessage(m); err != nil {
		return Result{}, err
	}
	events, skipped := prepareEvents(m)
	outcome := m.Outcome
	if outcome == "" {
		outcome = OutcomeNotBounce
		for _, e := range events {
			if e.Category != classify.CategoryNone {
				outcome = OutcomeBounce
				break
			}
		}
	}
	// The insert does nothing when the message is known already (same
	// hash, or same mailbox, UIDVALIDITY and UID): then its stored outcome
	// is looked up.
	var id int64
	err := b.insMessage.QueryRowContext(ctx,
		m.Hash, clean(m.Mailbox, MaxStoredField), int64(m.UIDValidity), int64(m.UID),
		clean(m.MessageID, MaxStoredField), string(outcome), clean(m.Source, MaxStoredField), len(events),
		clean(m.Location, MaxStoredField), clean(m.Placed, MaxStoredField)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // no row returned: not inserted
		stored, ok, err := b.known(ctx, m)
		if err == nil && !ok {
			err = fmt.Errorf("%w: message neither inserted nor found", ErrBadMessage)
		}
		return Result{Already: true, Outcome: stored}, err
	}
	if err != nil {
		return Result{}, b.db.wrapErr("record", err)
	}
	for i, e := range events {
		if _, err := b.insEvent.ExecContext(ctx, id, e.Address, string(e.Category), string(e.Reason),
			e.Status, e.ReplyCode, e.Diagnostic, e.Date.Unix(), e.MessageID, e.Source,
			e.Evidence, e.RecipientFrom, e.Proof); err != nil {
			return Result{}, b.db.wrapErr("record", err)
		}
		if testHookEvent != nil {
			if err := testHookEvent(i); err != nil {
				return Result{}, b.db.wrapErr("record", err)
			}
		}
	}
	if err := b.db.enqueue(ctx, b.tx, id); err != nil { // the push outbox (outbox.go)
		return Result{}, b.db.wrapErr("record", err)
	}
	b.n++
	return Result{Outcome: outcome, Events: len(events), Skipped: skipped}, nil
}

// known looks m up inside the transaction: by hash, then by IMAP identity.
func (b *Batch) known(ctx context.Context, m *Message) (Outcome, bool, error) {
	return lookup(ctx, b.byHash, b.byUID, m, b.db)
}

// Commit writes the batch. Then, when the write-ahead log has grown past
// Options.WALLimit, it is checkpointed and truncated; an error there is
// not the batch's (it is committed) and is not returned.
func (b *Batch) Commit(ctx context.Context) error {
	if b.done {
		return fmt.Errorf("%w: batch already ended", ErrClosed)
	}
	b.done = true
	// The fence: a batch of a host that lost its mailbox is not written.
	if err := b.db.renewLeases(ctx, b.tx); err != nil {
		b.tx.Rollback()
		return err
	}
	if err := b.tx.Commit(); err != nil {
		return b.db.wrapErr("commit", err)
	}
	b.db.afterCommit(ctx)
	return nil
}

// Rollback drops the batch; after Commit it does nothing.
func (b *Batch) Rollback() error {
	if b.done {
		return nil
	}
	b.done = true
	if err := b.tx.Rollback(); err != nil {
		return b.db.wrapErr("rollback", err)
	}
	return nil
}

// checkMessage refuses a Message that cannot be recorded at all.
func checkMessage(m *Message) error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrBadMessage)
	}
	if !isSHA256Hex(m.Hash) {
		return fmt.Errorf("%w: hash %q is not a SHA-256 hex digest", ErrBadMessage, m.Hash)
	}
	if m.Outcome != "" && !m.Outcome.valid() {
		return fmt.Errorf("%w: unknown outcome %q", ErrBadMessage, m.Outcome)
	}
	return nil
}

// lookup finds a recorded message by m's Hash, or by its Mailbox,
// UIDValidity and UID when UID is not 0 (or Hash is empty).
func lookup(ctx context.Context, byHash, byUID *sql.Stmt, m *Message, db *DB) (Outcome, bool, error) {
	var stored string
	if m.Hash != "" {
		err := byHash.QueryRowContext(ctx, m.Hash).Scan(&stored)
		switch {
		case err == nil:
			return Outcome(stored), true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", false, db.wrapErr("lookup", err)
		}
	}
	if m.UID == 0 {
		return "", false, nil
	}
	err := byUID.QueryRowContext(ctx, clean(m.Mailbox, MaxStoredField), int64(m.UIDValidity), int64(m.UID)).Scan(&stored)
	switch {
	case err == nil:
		return Outcome(stored), true, nil
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	}
	return "", false, db.wrapErr("lookup", err)
}

// Lookup reports whether a message with m's Hash, or with its Mailbox,
// UIDValidity and UID (when UID is not 0), was recorded, and its stored
// outcome. It lets a caller skip parsing what Record would ignore anyway;
// Record itself checks again inside its transaction. It reads through the
// read pool: an open Batch does not hold it up (nor does it see the
// batch's messages before the batch commits). m.Hash may be empty, to look
// up by IMAP identity alone before the message is read.
func (db *DB) Lookup(ctx context.Context, m *Message) (Outcome, bool, error) {
	if m == nil {
		return "", false, fmt.Errorf("%w: nil message", ErrBadMessage)
	}
	return lookup(ctx, db.readHash, db.readUID, m, db)
}

// KnownHashes returns the stored outcome of each of hashes that was
// recorded, in KnownBatch hashes per query (one statement prepared once):
// the cheap way to tell, before parsing, which messages of a folder a run
// has seen.
func (db *DB) KnownHashes(ctx context.Context, hashes []string) (map[string]Outcome, error) {
	out := make(map[string]Outcome)
	args := make([]any, KnownBatch)
	for len(hashes) > 0 {
		n := min(len(hashes), KnownBatch)
		for i := range args {
			args[i] = ""
			if i < n {
				args[i] = hashes[i]
			}
		}
		hashes = hashes[n:]
		rows, err := db.readKnown.QueryContext(ctx, args...)
		if err != nil {
			return nil, db.wrapErr("lookup", err)
		}
		for rows.Next() {
			var h, o string
			if err := rows.Scan(&h, &o); err != nil {
				rows.Close()
				return nil, db.wrapErr("lookup", err)
			}
			out[h] = Outcome(o)
		}
		if err := rows.Close(); err != nil {
			return nil, db.wrapErr("lookup", err)
		}
	}
	return out, nil
}

// prepareEvents normalises and checks the events of m, returning the ones to
// store and an error for each one skipped.
func prepareEvents(m *Message) ([]Event, []error) {
	var (
		out     []Event
		skipped []error
		seen    = make(map[string]int) // address → index in out
	)
	for i, e := range m.Events {
		addr, err := NormalizeAddress(e.Address)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("event %d: %w", i, err))
			continue
		}
		if e.Category == "" {
			e.Category = e.Reason.Category()
		}
		if !validCategory(e.Category) {
			skipped = append(skipped, fmt.Errorf("%w: event %d (%s): unknown category %q", ErrBadEvent, i, addr, e.Category))
			continue
		}
		if e.Date.IsZero() {
			e.Date = m.Date
		}
		if e.Date.IsZero() {
			skipped = append(skipped, fmt.Errorf("%w: event %d (%s): no date in the report or the message", ErrBadEvent, i, addr))
			continue
		}
		e.Address = addr
		e.Reason = classify.Reason(clean(string(e.Reason), MaxStoredField))
		e.Status = clean(e.Status, MaxStoredField)
		e.ReplyCode = clean(e.ReplyCode, MaxStoredField)
		e.Diagnostic = clean(e.Diagnostic, MaxStoredDiagnostic)
		e.MessageID = clean(e.MessageID, MaxStoredField)
		e.Source = clean(e.Source, MaxStoredField)
		e.Evidence = clean(e.Evidence, MaxStoredField)
		e.RecipientFrom = clean(e.RecipientFrom, MaxStoredField)
		e.Proof = clean(e.Proof, MaxStoredField)
		e.Date = e.Date.UTC().Truncate(time.Second)
		if j, ok := seen[addr]; ok {
			// One address twice in a message counts once, with the
			// category that weighs most.
			if categoryRank(e.Category) < categoryRank(out[j].Category) {
				out[j] = e
			}
			continue
		}
		seen[addr] = len(out)
		out = append(out, e)
	}
	return out, skipped
}

// categoryRank orders categories by weight: suppressOrder, then none.
func categoryRank(c classify.Category) int {
	for i, o := range suppressOrder {
		if c == o {
			return i
		}
	}
	return len(suppressOrder)
}

func validCategory(c classify.Category) bool {
	switch c {
	case classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy,
		classify.CategoryComplaint, classify.CategoryNone:
		return true
	}
	return false
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// clean makes s valid UTF-8 without NUL bytes (which PostgreSQL's text
// cannot hold; both stores store the same text) and cuts it to at most max
// bytes at a rune boundary.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	return truncate(s, max)
}

// truncate is textcut.Bytes.
func truncate(s string, max int) string { return textcut.Bytes(s, max) }

// wrapErr turns a database error into a package error.
func (db *DB) wrapErr(op string, err error) error {
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return fmt.Errorf("%w: %s: %v", ErrClosed, op, err)
	}
	if kind := db.d.kind(err); kind != nil {
		return fmt.Errorf("%w: %s %s: %v", kind, op, db.path, err)
	}
	return fmt.Errorf("suppress: %s: %w", op, err)
}
