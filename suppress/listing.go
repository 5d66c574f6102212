package suppress

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// What a push target needs beyond the event itself (issue 21): the list
// software's identifiers of the subscriber and the campaign, read from the
// returned original (listmonk writes X-Listmonk-Subscriber and
// X-Listmonk-Campaign into every campaign message), what a target made of
// an event it accepted (OutboxEntry.Result), and whether a soft event is
// the one that brings its address to the soft threshold
// (DB.SoftThresholdReached), and the lifts of suppressions (an Allow) that
// a target has to hear about (DB.DueLifts, DB.MarkLift).

// listingSchema is the migration step of this file: two columns of events
// and one of the outbox, each with an empty default, so that the events
// and entries recorded before read as "none known".
const listingSchema = `ALTER TABLE events ADD COLUMN list_subscriber TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN list_campaign TEXT NOT NULL DEFAULT '';
	ALTER TABLE outbox ADD COLUMN result TEXT NOT NULL DEFAULT '';
	CREATE TABLE lifts (
		id         INTEGER PRIMARY KEY,
		allow      INTEGER NOT NULL,           -- allows.id (no foreign key: Forget deletes allows)
		target     TEXT    NOT NULL,           -- OutboxTarget.Name
		state      TEXT    NOT NULL,           -- OutboxDelivered or OutboxFailed
		result     TEXT    NOT NULL DEFAULT '',
		last_error TEXT    NOT NULL DEFAULT '',
		done_at    INTEGER NOT NULL DEFAULT 0, -- Unix milliseconds
		UNIQUE (target, allow)
	);`

// uuidRE is the form of a UUID that list software writes (RFC 9562 section
// 4, hexadecimal in either case).
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ListID returns s, a header field's value that should hold a UUID, in
// lower case when it is one, else "": a forged or broken value is dropped,
// never passed on to a push target.
func ListID(s string) string {
	s = strings.TrimSpace(s)
	if !uuidRE.MatchString(s) {
		return ""
	}
	return strings.ToLower(s)
}

// MarkDone records that the target accepted entry id at time at, as
// MarkDelivered does, with result: what the target made of it when that
// was not what the event asks ("not-a-subscriber", "already-blocklisted",
// "below-threshold"), or "" when it acted on it.
func (db *DB) MarkDone(ctx context.Context, id int64, at time.Time, result string) error {
	return db.markOutbox(ctx, "mark delivered", id,
		`UPDATE outbox SET state = 'delivered', inflight = 0, last_error = '', result = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
		clean(result, MaxStoredField), at.UnixMilli(), id)
}

// SoftThreshold says how the soft events of an address stand against a
// Policy at the date of one of them.
type SoftThreshold struct {
	// Reached is true when the event is the one that brings its address
	// to the threshold: with the soft events before it (by date, then
	// order of recording) in the window ending at its date, it suppresses;
	// without it, they did not.
	Reached bool
	// Events and Days count the soft bounces in that window, the event
	// included (the notices about one sent message count once, as Policy
	// counts them), and the UTC days they fall on.
	Events, Days int
	// PermanentDays counts the days of those that were permanent failures
	// (Event.Permanent); ByPermanent is true when the permanent rule
	// (Policy.PermanentThreshold), not the soft count, makes it reached.
	PermanentDays int
	ByPermanent   bool
	// Policy is the policy applied, with its defaults.
	Policy Policy
}

// String says the threshold as a person reads it: "soft threshold: 3 soft
// bounces on 3 days within 30 days".
func (s SoftThreshold) String() string {
	if s.ByPermanent {
		return fmt.Sprintf("permanent threshold: permanent failures on %d days within %s (policy: %d days)",
			s.PermanentDays, windowText(s.Policy.SoftWindow), s.Policy.PermanentThreshold)
	}
	return fmt.Sprintf("soft threshold: %d soft bounces on %d days within %s (policy: %d on %d days within %s)",
		s.Events, s.Days, windowText(s.Policy.SoftWindow),
		s.Policy.SoftThreshold, s.Policy.SoftDistinctDays, windowText(s.Policy.SoftWindow))
}

// windowText writes d in days when it is whole days ("30 days"), else as
// time.Duration does.
func windowText(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		if d == day {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// SoftThresholdReached tells whether the soft event eventID (an
// OutboxEntry.EventID) brings its address to the soft threshold of p (nil:
// the defaults). An event of another category never does. As in Lists,
// the address's events dated at or before an allow of it (or its Until)
// do not count.
func (db *DB) SoftThresholdReached(ctx context.Context, eventID int64, p *Policy) (SoftThreshold, error) {
	pol := p.withDefaults()
	out := SoftThreshold{Policy: pol}
	var (
		addr, cat string
		date      int64
	)
	err := db.sql.QueryRowContext(ctx, db.d.bind(`SELECT address, category, date FROM events WHERE id = ?`), eventID).
		Scan(&addr, &cat, &date)
	if err != nil {
		return out, db.wrapErr("soft threshold", err)
	}
	if classify.Category(cat) != classify.CategorySoft {
		return out, nil
	}
	start := time.Unix(date, 0).Add(-pol.SoftWindow).Unix()
	allows, err := db.allowsOf(ctx, []string{addr})
	if err != nil {
		return out, err
	}
	if cut, ok := cutoffMap(allows)[addr]; ok {
		if date <= cut.Unix() {
			return out, nil
		}
		start = max(start, cut.Unix())
	}
	rows, err := db.sql.QueryContext(ctx, db.d.bind(
		`SELECT id, date, permanent, original_message_id FROM events WHERE address = ? AND category = 'soft' AND date > ? AND date <= ?
		 ORDER BY date, id`), addr, start, date)
	if err != nil {
		return out, db.wrapErr("soft threshold", err)
	}
	defer rows.Close()
	var before, with []Event
	for rows.Next() {
		var (
			id   int64
			d    int64
			perm int
			mid  string
		)
		if err := rows.Scan(&id, &d, &perm, &mid); err != nil {
			return out, db.wrapErr("soft threshold", err)
		}
		e := Event{Date: time.Unix(d, 0).UTC(), Category: classify.CategorySoft, Permanent: perm != 0, MessageID: mid}
		if id != eventID && (d < date || id < eventID) {
			before = append(before, e)
		}
		if id == eventID || d < date || id < eventID {
			with = append(with, e)
		}
	}
	if err := rows.Err(); err != nil {
		return out, db.wrapErr("soft threshold", err)
	}
	var perm []Event
	for _, e := range with {
		if e.Permanent {
			perm = append(perm, e)
		}
	}
	out.Events, out.Days = sends(with)
	_, out.PermanentDays = sends(perm)
	out.Reached = pol.suppresses(classify.CategorySoft, with) && !pol.suppresses(classify.CategorySoft, before)
	out.ByPermanent = out.Reached && !pol.softCountSuppresses(with)
	return out, nil
}

// Lift is an allow (DB.Allow) that a push target has to hear about: the
// target acted on a suppression of the address that the allow lifts.
type Lift struct {
	AllowID int64 // the allow record; with the target, the lift's key
	Address string
	Reason  string // why it was allowed
	By      string
	At      time.Time
	Until   time.Time // zero: none
}

// DueLifts returns up to limit allows, oldest first, that target has not
// heard about (MarkLift) and that lift a suppression it acted on: an event
// of the address, dated at or before the allow's At (or Until), that the
// target accepted and acted on (delivered, with no Result). A target is
// told only of lifts of what bouncer told it: an address it suppressed
// for another reason stays as it is.
func (db *DB) DueLifts(ctx context.Context, target string, limit int) ([]Lift, error) {
	rows, err := db.sql.QueryContext(ctx, db.d.bind(`SELECT a.id, a.address, a.reason, a.who, a.created, a.until_date
		FROM allows a
		WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.target = ? AND l.allow = a.id)
		  AND EXISTS (SELECT 1 FROM outbox o JOIN events e ON e.id = o.event
			WHERE o.target = ? AND o.state = 'delivered' AND o.result = '' AND e.address = a.address
			  AND e.category != 'none' AND (e.date <= a.created OR e.date <= a.until_date))
		ORDER BY a.id LIMIT ?`), target, target, limit)
	if err != nil {
		return nil, db.wrapErr("due lifts", err)
	}
	defer rows.Close()
	var out []Lift
	for rows.Next() {
		var (
			l         Lift
			at, until int64
		)
		if err := rows.Scan(&l.AllowID, &l.Address, &l.Reason, &l.By, &at, &until); err != nil {
			return nil, db.wrapErr("due lifts", err)
		}
		l.At = time.Unix(at, 0).UTC()
		if until != 0 {
			l.Until = time.Unix(until, 0).UTC()
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("due lifts", err)
	}
	return out, nil
}

// MarkLift records that target heard about the lift allowID for good:
// OutboxDelivered (with result, as MarkDone) or OutboxFailed (with cause).
// A lift marked is never due again; one not marked (a failure worth
// another try) is due at the next pass.
func (db *DB) MarkLift(ctx context.Context, target string, allowID int64, state OutboxState, result string, cause error, at time.Time) error {
	if state != OutboxDelivered && state != OutboxFailed {
		return fmt.Errorf("suppress: mark lift: state %q", state)
	}
	_, err := db.sql.ExecContext(ctx, db.d.bind(`INSERT INTO lifts (allow, target, state, result, last_error, done_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		allowID, target, string(state), clean(result, MaxStoredField), errText(cause), at.UnixMilli())
	if err != nil {
		return db.wrapErr("mark lift", err)
	}
	return nil
}
