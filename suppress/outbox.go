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
)

// The outbox holds, for each push target (package push), the events still
// to deliver to it. Record fills it in the transaction that records the
// events (DB.SetOutbox says for which targets and categories), so an event
// is either recorded and queued, or neither; a deliverer drains it with
// Due, BeginAttempt and one of MarkDelivered, MarkRetry, MarkUnanswered or
// MarkFailed, each
// its own short transaction, never one held across a network call.

// outboxSchema is migration step 2 (see migrations in db.go).
const outboxSchema = `CREATE TABLE outbox (
		id         INTEGER PRIMARY KEY,
		event      INTEGER NOT NULL REFERENCES events (id),
		target     TEXT    NOT NULL,           -- OutboxTarget.Name
		state      TEXT    NOT NULL,           -- OutboxState
		attempts   INTEGER NOT NULL DEFAULT 0, -- attempts begun
		inflight   INTEGER NOT NULL DEFAULT 0, -- 1: an attempt began and its end was not recorded
		next_try   INTEGER NOT NULL DEFAULT 0, -- Unix milliseconds
		last_error TEXT    NOT NULL DEFAULT '',
		done_at    INTEGER NOT NULL DEFAULT 0, -- Unix milliseconds of delivery or failure
		UNIQUE (target, event)
	);
	CREATE INDEX outbox_due ON outbox (target, state, next_try);`

// OutboxState is the state of one event for one target.
type OutboxState string

const (
	// OutboxPending: not delivered yet; due at its next try.
	OutboxPending OutboxState = "pending"
	// OutboxDelivered: the target accepted it; never sent again.
	OutboxDelivered OutboxState = "delivered"
	// OutboxFailed: the target refused it for good, or the attempts ran
	// out; kept with its last error, sent again only after RequeueFailed.
	OutboxFailed OutboxState = "failed"
)

// MaxOutboxError is the most bytes of an error message stored with an
// outbox entry.
const MaxOutboxError = 1024

// ErrNoOutboxEntry reports a Mark call for an entry that does not exist or
// is no longer pending.
var ErrNoOutboxEntry = errors.New("suppress: no pending outbox entry")

// OutboxTarget is a destination that Record queues new events for.
type OutboxTarget struct {
	// Name identifies the target in the outbox across runs ("listmonk=
	// https://lists.example.org"); renaming a target starts a new queue.
	Name string
	// Categories are the event categories it takes; empty means all.
	Categories []classify.Category
}

// SetOutbox sets the targets that Record queues each newly recorded event
// for, replacing the ones set before; nil stops queueing. Events recorded
// before, or while no target was set, are not queued: a target added to an
// old state gets the new events, not the history.
func (db *DB) SetOutbox(targets []OutboxTarget) error {
	ts := make([]OutboxTarget, 0, len(targets))
	seen := make(map[string]bool)
	for _, t := range targets {
		if t.Name == "" {
			return errors.New("suppress: outbox target with an empty name")
		}
		if seen[t.Name] {
			return fmt.Errorf("suppress: outbox target %q given twice", t.Name)
		}
		seen[t.Name] = true
		for _, c := range t.Categories {
			if !validCategory(c) {
				return fmt.Errorf("suppress: outbox target %q: unknown category %q", t.Name, c)
			}
		}
		ts = append(ts, OutboxTarget{Name: t.Name, Categories: append([]classify.Category(nil), t.Categories...)})
	}
	db.mu.Lock()
	db.outbox = ts
	db.mu.Unlock()
	return nil
}

// enqueue queues the events of the message row id for every outbox target
// that takes their category. It runs inside the transaction that inserted
// them (Record), so the events and their queue entries commit together.
func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, message int64) error {
	db.mu.Lock()
	targets := db.outbox
	db.mu.Unlock()
	for _, t := range targets {
		q := `INSERT INTO outbox (event, target, state)
			SELECT id, CAST(? AS TEXT), 'pending' FROM events WHERE message = ?`
		args := []any{t.Name, message}
		if len(t.Categories) > 0 {
			q += " AND category IN (?" + strings.Repeat(", ?", len(t.Categories)-1) + ")"
			for _, c := range t.Categories {
				args = append(args, string(c))
			}
		}
		q += " ORDER BY id ON CONFLICT DO NOTHING"
		if _, err := tx.ExecContext(ctx, db.d.bind(q), args...); err != nil {
			return fmt.Errorf("queue for %s: %w", t.Name, err)
		}
	}
	return nil
}

// OutboxEntry is one event queued for one target, with what a target needs
// to hear about it.
type OutboxEntry struct {
	ID     int64 // the outbox row: the handle for BeginAttempt and the Mark calls
	Target string
	State  OutboxState
	// Key identifies the event for good: hex of SHA-256 over the bounce
	// message's Hash and the address, 32 characters. It stays the same if
	// the state is rebuilt from the same mailbox, so a receiver can drop
	// a repeat by it (an idempotency key).
	Key string
	// Attempts is the number of attempts begun before this one.
	Attempts int
	// Uncertain is true when an earlier attempt began and its end was
	// never recorded (the process died, or was stopped, in between), or
	// ended without an answer (MarkUnanswered): the target may have the
	// event already.
	Uncertain bool
	// LastError is the error of the latest failed attempt.
	LastError string
	// Event is the event as recorded (address normalised, text cleaned).
	Event Event
	// BounceMessageID is the Message-ID of the bounce the event was read
	// from (Event.MessageID is that of the original message).
	BounceMessageID string
	// EventID is the event's row (DB.SoftThresholdReached).
	EventID int64
	// Result is what the target made of a delivered entry when it was
	// not what the event asks (MarkDone), else "".
	Result string
	// Allowed is true when an allow of the address (DB.Allow) covers the
	// event (dated at or before the allow, or its Until): the operator
	// lifted the suppression the event asks for, so it must not reach the
	// target any more.
	Allowed bool
}

const outboxSelect = `SELECT o.id, o.target, o.state, o.attempts, o.inflight, o.last_error,
		e.address, e.category, e.reason, e.status, e.reply_code, e.diagnostic, e.date,
		e.original_message_id, e.source, m.hash, m.message_id, e.id, e.list_subscriber, e.list_campaign, o.result,
		CASE WHEN EXISTS (SELECT 1 FROM allows a WHERE a.address = e.address
			AND (e.date <= a.created OR e.date <= a.until_date)) THEN 1 ELSE 0 END
	FROM outbox o JOIN events e ON e.id = o.event JOIN messages m ON m.id = e.message`

// Due returns up to limit pending entries of target whose next try is at or
// before now, oldest first.
func (db *DB) Due(ctx context.Context, target string, now time.Time, limit int) ([]OutboxEntry, error) {
	return db.outboxQuery(ctx, "due",
		outboxSelect+` WHERE o.target = ? AND o.state = 'pending' AND o.next_try <= ? ORDER BY o.next_try, o.id LIMIT ?`,
		target, now.UnixMilli(), limit)
}

// Outbox returns up to limit entries of target in state, in queue order:
// for a report of what failed and why.
func (db *DB) Outbox(ctx context.Context, target string, state OutboxState, limit int) ([]OutboxEntry, error) {
	return db.outboxQuery(ctx, "outbox",
		outboxSelect+` WHERE o.target = ? AND o.state = ? ORDER BY o.id LIMIT ?`,
		target, string(state), limit)
}

func (db *DB) outboxQuery(ctx context.Context, op string, q string, args ...any) ([]OutboxEntry, error) {
	rows, err := db.sql.QueryContext(ctx, db.d.bind(q), args...)
	if err != nil {
		return nil, db.wrapErr(op, err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var (
			o              OutboxEntry
			state, cat, rs string
			inflight       int
			allowed        int
			date           int64
			hash           string
		)
		if err := rows.Scan(&o.ID, &o.Target, &state, &o.Attempts, &inflight, &o.LastError,
			&o.Event.Address, &cat, &rs, &o.Event.Status, &o.Event.ReplyCode, &o.Event.Diagnostic, &date,
			&o.Event.MessageID, &o.Event.Source, &hash, &o.BounceMessageID, &o.EventID,
			&o.Event.ListSubscriber, &o.Event.ListCampaign, &o.Result, &allowed); err != nil {
			return nil, db.wrapErr(op, err)
		}
		o.State = OutboxState(state)
		o.Uncertain = inflight != 0
		o.Allowed = allowed != 0
		o.Event.Category = classify.Category(cat)
		o.Event.Reason = classify.Reason(rs)
		o.Event.Date = time.Unix(date, 0).UTC()
		o.Key = eventKey(hash, o.Event.Address)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr(op, err)
	}
	return out, nil
}

// eventKey is OutboxEntry.Key.
func eventKey(messageHash, address string) string {
	s := sha256.Sum256([]byte(messageHash + "\x00" + address))
	return hex.EncodeToString(s[:16])
}

// BeginAttempt records that an attempt to deliver entry id begins: its
// attempt count goes up, and until a Mark call ends it, the entry reads as
// Uncertain. Call it before the request, so that a crash during the request
// is known afterwards.
func (db *DB) BeginAttempt(ctx context.Context, id int64) error {
	return db.markOutbox(ctx, "begin attempt", id,
		`UPDATE outbox SET attempts = attempts + 1, inflight = 1 WHERE id = ? AND state = 'pending'`, id)
}

// MarkDelivered records that the target accepted entry id at time at. It is
// one atomic update: once it returns, the entry is never due again.
func (db *DB) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return db.markOutbox(ctx, "mark delivered", id,
		`UPDATE outbox SET state = 'delivered', inflight = 0, last_error = '', done_at = ? WHERE id = ? AND state = 'pending'`,
		at.UnixMilli(), id)
}

// MarkRetry records a failed attempt of entry id that is worth another: it
// is due again at next.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, cause error) error {
	return db.markOutbox(ctx, "mark retry", id,
		`UPDATE outbox SET inflight = 0, next_try = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
		next.UnixMilli(), errText(cause), id)
}

// MarkUnanswered is MarkRetry for an attempt that got no answer (a timeout,
// a connection lost after the request was sent): the target may have acted
// on it, so the entry stays Uncertain until an attempt ends with an answer.
func (db *DB) MarkUnanswered(ctx context.Context, id int64, next time.Time, cause error) error {
	return db.markOutbox(ctx, "mark unanswered", id,
		`UPDATE outbox SET inflight = 1, next_try = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
		next.UnixMilli(), errText(cause), id)
}

// MarkFailed records that entry id will not be delivered (the target refused
// it, or the attempts ran out), with the error, at time at.
func (db *DB) MarkFailed(ctx context.Context, id int64, at time.Time, cause error) error {
	return db.markOutbox(ctx, "mark failed", id,
		`UPDATE outbox SET state = 'failed', inflight = 0, last_error = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
		errText(cause), at.UnixMilli(), id)
}

func (db *DB) markOutbox(ctx context.Context, op string, id int64, q string, args ...any) error {
	res, err := db.sql.ExecContext(ctx, db.d.bind(q), args...)
	if err != nil {
		return db.wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s: entry %d", ErrNoOutboxEntry, op, id)
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return clean(err.Error(), MaxOutboxError)
}

// RequeueFailed makes the failed entries of target pending again, due at
// once with their attempts reset (after a fixed token or URL), and returns
// how many there were.
func (db *DB) RequeueFailed(ctx context.Context, target string) (int, error) {
	res, err := db.sql.ExecContext(ctx, db.d.bind(
		`UPDATE outbox SET state = 'pending', attempts = 0, inflight = 0, next_try = 0, done_at = 0
		 WHERE target = ? AND state = 'failed'`), target)
	if err != nil {
		return 0, db.wrapErr("requeue", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, db.wrapErr("requeue", err)
	}
	return int(n), nil
}

// OutboxCounts is how many entries a target has in each state.
type OutboxCounts struct {
	Pending, Delivered, Failed int
}

// OutboxCount counts the entries of target by state.
func (db *DB) OutboxCount(ctx context.Context, target string) (OutboxCounts, error) {
	rows, err := db.sql.QueryContext(ctx, db.d.bind(`SELECT state, count(*) FROM outbox WHERE target = ? GROUP BY state`), target)
	if err != nil {
		return OutboxCounts{}, db.wrapErr("outbox count", err)
	}
	defer rows.Close()
	var c OutboxCounts
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return OutboxCounts{}, db.wrapErr("outbox count", err)
		}
		switch OutboxState(state) {
		case OutboxPending:
			c.Pending = n
		case OutboxDelivered:
			c.Delivered = n
		case OutboxFailed:
			c.Failed = n
		}
	}
	if err := rows.Err(); err != nil {
		return OutboxCounts{}, db.wrapErr("outbox count", err)
	}
	return c, nil
}
