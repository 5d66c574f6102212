package suppress

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// ErrNoCutoff reports a Prune without a date.
var ErrNoCutoff = errors.New("suppress: prune needs a date")

// PruneRequest says which events Prune removes.
type PruneRequest struct {
	// Before: events dated before it are removed, except those that still
	// count (see Prune). Required.
	Before time.Time
	// Policy is the policy whose decision must not change (nil: the
	// defaults); its soft window says which soft events still count.
	Policy *Policy
}

// PruneReport says what Prune did.
type PruneReport struct {
	Before time.Time `json:"before"`
	// Events and Outbox count the rows removed; Kept the events dated
	// before Before that were kept (soft bounces in the window, entries
	// still to push).
	Events int `json:"events"`
	Outbox int `json:"outbox"`
	Kept   int `json:"kept"`
	// Summaries counts the suppressed addresses whose pruned events were
	// folded into their summary.
	Summaries int `json:"summaries"`
}

// Prune removes the events dated before r.Before without changing who is
// suppressed. A suppressed address keeps a summary of its pruned events
// (Summary: category, latest reason and diagnostic, first and last dates,
// count), which Lists and Why count as those events were; soft bounces
// within the policy's window of the history's now are kept (they may still
// add up to a suppression), and so are events still waiting in the push
// outbox. The messages stay recorded (by hash), so a rerun over the same
// mailbox does not bring the events back. One write transaction: safe
// beside a running bouncer run.
func (db *DB) Prune(ctx context.Context, r PruneRequest) (PruneReport, error) {
	rep := PruneReport{Before: r.Before.UTC()}
	if r.Before.IsZero() {
		return rep, ErrNoCutoff
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return rep, db.wrapErr("prune", err)
	}
	defer tx.Rollback()
	events, err := db.readEvents(ctx, tx)
	if err != nil {
		return rep, err
	}
	cut, err := db.cutoffs(ctx)
	if err != nil {
		return rep, err
	}
	sums, err := db.summaries(ctx, tx, nil)
	if err != nil {
		return rep, err
	}
	pol := r.Policy.withDefaults()
	if pol.Now.IsZero() {
		pol.Now = latestFailure(events, sums)
	}
	lists := decide(events, cut, sums, &pol, nil)
	newSums := summarize(events, lists.Suppressed, cut, sums, &pol, rep.Before)
	for _, s := range newSums {
		if err := db.saveSummary(ctx, tx, s); err != nil {
			return rep, db.wrapErr("prune", err)
		}
	}
	rep.Summaries = len(newSums)
	softFrom := pol.Now.Add(-pol.SoftWindow).Unix()
	steps := []struct {
		n    *int
		q    string
		args []any
	}{
		{&rep.Outbox, `DELETE FROM outbox WHERE state != 'pending' AND event IN
			(SELECT id FROM events WHERE date < ? AND NOT (category = 'soft' AND date > ?))`, []any{rep.Before.Unix(), softFrom}},
		{&rep.Events, `DELETE FROM events WHERE date < ? AND NOT (category = 'soft' AND date > ?)
			AND id NOT IN (SELECT event FROM outbox)`, []any{rep.Before.Unix(), softFrom}},
	}
	for _, s := range steps {
		res, err := tx.ExecContext(ctx, db.d.bind(s.q), s.args...)
		if err != nil {
			return rep, db.wrapErr("prune", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return rep, db.wrapErr("prune", err)
		}
		*s.n = int(n)
	}
	if err := tx.QueryRowContext(ctx, db.d.bind(`SELECT count(*) FROM events WHERE date < ?`), rep.Before.Unix()).Scan(&rep.Kept); err != nil {
		return rep, db.wrapErr("prune", err)
	}
	if err := tx.Commit(); err != nil {
		return rep, db.wrapErr("prune", err)
	}
	db.afterCommit(ctx)
	return rep, nil
}

// summarize folds the events before `before` of each suppressed address
// (of its suppressing category, counted: after its allow's cutoff) into
// its summary, merged with the summary it had. Soft suppressions need
// none: their events in the window are kept.
func summarize(events []Event, entries []Entry, cut map[string]time.Time, old map[string]Summary, p *Policy, before time.Time) []Summary {
	byAddr := make(map[string]Entry, len(entries))
	for _, e := range entries {
		if e.Category != classify.CategorySoft {
			byAddr[e.Address] = e
		}
	}
	out := make(map[string]*Summary)
	for _, ev := range events {
		e, ok := byAddr[ev.Address]
		if !ok || !ev.Date.Before(before) {
			continue
		}
		s := out[ev.Address]
		if s == nil {
			prev, had := old[ev.Address]
			if !had || prev.Category != e.Category {
				prev = Summary{Address: ev.Address, Category: e.Category}
			}
			s = &prev
			out[ev.Address] = s
		}
		s.Events++
		if ev.Category != e.Category {
			continue
		}
		if c, ok := cut[ev.Address]; ok && !ev.Date.After(c) {
			continue
		}
		s.Bounces++
		if s.FirstBounce.IsZero() || ev.Date.Before(s.FirstBounce) {
			s.FirstBounce = ev.Date
		}
		if s.LastBounce.IsZero() || !ev.Date.Before(s.LastBounce) {
			s.LastBounce, s.Reason, s.Status, s.ReplyCode, s.Diagnostic = ev.Date, ev.Reason, ev.Status, ev.ReplyCode, ev.Diagnostic
		}
	}
	res := make([]Summary, 0, len(out))
	for _, s := range out {
		if s.Bounces > 0 {
			res = append(res, *s)
		}
	}
	return res
}

// saveSummary writes s, replacing the address's summary.
func (db *DB) saveSummary(ctx context.Context, tx *sql.Tx, s Summary) error {
	if _, err := tx.ExecContext(ctx, db.d.bind(`DELETE FROM pruned WHERE address = ?`), s.Address); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, db.d.bind(`INSERT INTO pruned (address, category, reason, status, reply_code, diagnostic,
		first_date, last_date, bounces, events, pruned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		s.Address, string(s.Category), string(s.Reason), s.Status, s.ReplyCode, s.Diagnostic,
		s.FirstBounce.Unix(), s.LastBounce.Unix(), s.Bounces, s.Events, time.Now().Unix())
	return err
}

// readEvents is Events through q (a transaction, for a consistent read).
func (db *DB) readEvents(ctx context.Context, q querier2) ([]Event, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT address, category, reason, status, reply_code, diagnostic, date, original_message_id, source
		 FROM events ORDER BY address, date, id`)
	if err != nil {
		return nil, db.wrapErr("events", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e        Event
			cat, rsn string
			date     int64
		)
		if err := rows.Scan(&e.Address, &cat, &rsn, &e.Status, &e.ReplyCode, &e.Diagnostic,
			&date, &e.MessageID, &e.Source); err != nil {
			return nil, db.wrapErr("events", err)
		}
		e.Category, e.Reason = classify.Category(cat), classify.Reason(rsn)
		e.Date = time.Unix(date, 0).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("events", err)
	}
	return out, nil
}
