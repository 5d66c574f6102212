package suppress

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// PendingEntry is an address with soft bounces in the window that are not
// (yet) enough to suppress it: what export --category pending lists.
type PendingEntry struct {
	Address string `json:"address"`
	// Bounces counts its soft bounces in the window (the notices about
	// one sent message count once, as Policy counts them), on Days different
	// UTC days; Threshold and DistinctDays are what the policy needs.
	Bounces      int `json:"bounces"`
	Days         int `json:"days"`
	Threshold    int `json:"threshold"`
	DistinctDays int `json:"distinct_days"`
	// FirstBounce and LastBounce are the dates of those bounces; the
	// window runs from WindowStart (excluded) to WindowEnd, the decision's
	// now. The first bounce ages out at FirstBounce plus the window.
	FirstBounce time.Time       `json:"first_bounce"`
	LastBounce  time.Time       `json:"last_bounce"`
	WindowStart time.Time       `json:"window_start"`
	WindowEnd   time.Time       `json:"window_end"`
	Reason      classify.Reason `json:"reason"` // of the latest soft bounce
	Diagnostic  string          `json:"diagnostic"`
}

// Entry returns e as a list entry of category soft (for the list formats).
func (e PendingEntry) Entry() Entry {
	return Entry{Address: e.Address, Category: classify.CategorySoft, Reason: e.Reason, Diagnostic: e.Diagnostic,
		Bounces: e.Bounces, FirstBounce: e.FirstBounce, LastBounce: e.LastBounce}
}

// Pending returns the addresses with soft bounces in p's window that are
// not suppressed, sorted by address.
func (db *DB) Pending(ctx context.Context, p *Policy) ([]PendingEntry, error) {
	evs, err := db.Events(ctx)
	if err != nil {
		return nil, err
	}
	cut, err := db.cutoffs(ctx)
	if err != nil {
		return nil, err
	}
	sums, err := db.summaries(ctx, db.read, nil)
	if err != nil {
		return nil, err
	}
	lists := decide(evs, cut, sums, p, nil)
	m := pendingOf(evs, cut, lists, p)
	out := make([]PendingEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sortPending(out)
	return out, nil
}

func sortPending(es []PendingEntry) {
	slices.SortFunc(es, func(a, b PendingEntry) int { return strings.Compare(a.Address, b.Address) })
}

// pendingOf finds the addresses with counted soft bounces in the window
// that lists does not suppress.
func pendingOf(events []Event, cut map[string]time.Time, lists Lists, p *Policy) map[string]PendingEntry {
	pol := p.withDefaults()
	now := lists.Now
	start := now.Add(-pol.SoftWindow)
	suppressed := make(map[string]bool, len(lists.Suppressed))
	for _, e := range lists.Suppressed {
		suppressed[e.Address] = true
	}
	out := make(map[string]PendingEntry)
	counted := make(map[string][]Event)
	latest := make(map[string]Event)
	for _, e := range events {
		if e.Category != classify.CategorySoft || suppressed[e.Address] || !e.Date.After(start) || e.Date.After(now) {
			continue
		}
		if c, ok := cut[e.Address]; ok && !e.Date.After(c) {
			continue
		}
		pe, ok := out[e.Address]
		if !ok {
			pe = PendingEntry{Address: e.Address, Threshold: pol.SoftThreshold, DistinctDays: pol.SoftDistinctDays,
				FirstBounce: e.Date, WindowStart: start, WindowEnd: now}
		}
		counted[e.Address] = append(counted[e.Address], e)
		if e.Date.Before(pe.FirstBounce) {
			pe.FirstBounce = e.Date
		}
		if l, ok := latest[e.Address]; !ok || laterEvent(e, l) {
			latest[e.Address] = e
			pe.LastBounce, pe.Reason, pe.Diagnostic = e.Date, e.Reason, e.Diagnostic
		}
		out[e.Address] = pe
	}
	for addr, pe := range out {
		// As the policy counts them: one bounce per sent message.
		pe.Bounces, pe.Days = sends(counted[addr])
		out[addr] = pe
	}
	return out
}

// TargetStatus is the push queue of one target.
type TargetStatus struct {
	Target    string `json:"target"`
	Pending   int    `json:"pending"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	// Uncertain counts pending entries whose last attempt got no answer.
	Uncertain int `json:"uncertain"`
	// LastError is the error of the most recently failed entry.
	LastError string `json:"last_error,omitempty"`
}

// OutboxStatus returns the queue of every push target the state has
// entries for, sorted by target.
func (db *DB) OutboxStatus(ctx context.Context) ([]TargetStatus, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT target, state, inflight, count(*) FROM outbox
		GROUP BY target, state, inflight ORDER BY target`)
	if err != nil {
		return nil, db.wrapErr("outbox status", err)
	}
	var out []TargetStatus
	for rows.Next() {
		var (
			target, state string
			inflight, n   int
		)
		if err := rows.Scan(&target, &state, &inflight, &n); err != nil {
			rows.Close()
			return nil, db.wrapErr("outbox status", err)
		}
		if len(out) == 0 || out[len(out)-1].Target != target {
			out = append(out, TargetStatus{Target: target})
		}
		t := &out[len(out)-1]
		switch OutboxState(state) {
		case OutboxPending:
			t.Pending += n
			if inflight != 0 {
				t.Uncertain += n
			}
		case OutboxDelivered:
			t.Delivered += n
		case OutboxFailed:
			t.Failed += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.wrapErr("outbox status", err)
	}
	for i := range out {
		if out[i].Failed == 0 {
			continue
		}
		err := db.read.QueryRowContext(ctx, db.d.bind(`SELECT last_error FROM outbox WHERE target = ? AND state = 'failed'
			ORDER BY done_at DESC, id DESC LIMIT 1`), out[i].Target).Scan(&out[i].LastError)
		if err != nil {
			return nil, db.wrapErr("outbox status", err)
		}
	}
	return out, nil
}

// PendingHeader is the header line of WritePendingCSV.
var PendingHeader = []string{"email", "bounces", "days", "threshold", "distinct_days", "first_bounce", "last_bounce",
	"window_start", "window_end", "reason", "diagnostic"}

// WritePendingCSV writes the pending addresses as CSV (RFC 4180, CRLF line
// ends), sorted by address: each with its soft bounces in the window, the
// days they fall on, what the policy needs, and the window. Text from the
// remote server is defused as in WriteCSV.
func WritePendingCSV(w io.Writer, es []PendingEntry) error {
	es = slices.Clone(es)
	sortPending(es)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(PendingHeader); err != nil {
		return wrapWrite(err)
	}
	for _, e := range es {
		if err := cw.Write([]string{e.Address, strconv.Itoa(e.Bounces), strconv.Itoa(e.Days), strconv.Itoa(e.Threshold),
			strconv.Itoa(e.DistinctDays), rfc3339(e.FirstBounce), rfc3339(e.LastBounce), rfc3339(e.WindowStart),
			rfc3339(e.WindowEnd), DefuseFormula(string(e.Reason)), DefuseFormula(oneLine(e.Diagnostic))}); err != nil {
			return wrapWrite(err)
		}
	}
	cw.Flush()
	return wrapWrite(cw.Error())
}

// WritePendingFile writes WritePendingCSV to path atomically, as WriteFile
// does.
func WritePendingFile(path string, es []PendingEntry) error {
	var b bytes.Buffer
	if err := WritePendingCSV(&b, es); err != nil {
		return err
	}
	return writeAtomic(path, b.Bytes())
}
