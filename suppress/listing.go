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
// (DB.SoftThresholdReached).

// listingSchema is the migration step of this file: two columns of events
// and one of the outbox, each with an empty default, so that the events
// and entries recorded before read as "none known".
const listingSchema = `ALTER TABLE events ADD COLUMN list_subscriber TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN list_campaign TEXT NOT NULL DEFAULT '';
	ALTER TABLE outbox ADD COLUMN result TEXT NOT NULL DEFAULT '';`

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
	// Events and Days count the soft events in that window, the event
	// included, and the UTC days they fall on.
	Events, Days int
	// Policy is the policy applied, with its defaults.
	Policy Policy
}

// String says the threshold as a person reads it: "soft threshold: 3 soft
// bounces on 3 days within 30 days".
func (s SoftThreshold) String() string {
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
// the defaults). An event of another category never does.
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
	rows, err := db.sql.QueryContext(ctx, db.d.bind(
		`SELECT id, date FROM events WHERE address = ? AND category = 'soft' AND date > ? AND date <= ?
		 ORDER BY date, id`), addr, start, date)
	if err != nil {
		return out, db.wrapErr("soft threshold", err)
	}
	defer rows.Close()
	var before, with []Event
	for rows.Next() {
		var (
			id int64
			d  int64
		)
		if err := rows.Scan(&id, &d); err != nil {
			return out, db.wrapErr("soft threshold", err)
		}
		e := Event{Date: time.Unix(d, 0).UTC(), Category: classify.CategorySoft}
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
	out.Events = len(with)
	days := make(map[string]bool)
	for _, e := range with {
		days[e.Date.Format(time.DateOnly)] = true
	}
	out.Days = len(days)
	out.Reached = pol.suppresses(classify.CategorySoft, with) && !pol.suppresses(classify.CategorySoft, before)
	return out, nil
}
