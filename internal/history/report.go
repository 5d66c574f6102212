package history

import (
	"io"

	"github.com/bouncer-dev/bouncer/suppress"
)

// WriteAllows writes the allow records bouncer allow made.
func WriteAllows(w io.Writer, as []suppress.Allow, f Format) error {
	if f == FormatJSON {
		if as == nil {
			as = []suppress.Allow{}
		}
		return writeJSON(w, as)
	}
	ew := &errWriter{w: w}
	for _, a := range as {
		until := ""
		if !a.Until.IsZero() {
			until = ", bounces up to " + date(a.Until) + " do not count either"
		}
		ew.printf("allowed %s (by %s on %s%s): leaves the lists at their next write; a new hard bounce or complaint suppresses it again\n",
			a.Address, text(a.By), date(a.At), until)
	}
	return ew.err
}

// WriteForget writes what bouncer forget erased.
func WriteForget(w io.Writer, r suppress.ForgetReport, f Format) error {
	if f == FormatJSON {
		if r.Addresses == nil {
			r.Addresses = []suppress.ForgottenAddress{}
		}
		return writeJSON(w, r)
	}
	ew := &errWriter{w: w}
	for _, a := range r.Addresses {
		ew.printf("forgot %s: %d events, %d push entries, %d allows, %d pruned summaries, %d mentions in other rows\n",
			a.Address, a.Events, a.Outbox+a.Lifts, a.Allows, a.Pruned, a.Scrubbed)
	}
	if r.Compacted {
		ew.printf("the state's files were rewritten: the erased bytes are gone from them\n")
	} else {
		ew.printf("warning: the rows are deleted but the files were not rewritten: %s\n", text(r.Note))
	}
	return ew.err
}

// WritePrune writes what bouncer prune (or run --retain) did.
func WritePrune(w io.Writer, r suppress.PruneReport, f Format) error {
	if f == FormatJSON {
		return writeJSON(w, r)
	}
	ew := &errWriter{w: w}
	ew.printf("pruned %d events before %s (%d push entries); %d suppressed addresses keep a summary; %d older events kept (soft bounces in the window, pushes not yet delivered)\n",
		r.Events, date(r.Before), r.Outbox, r.Summaries, r.Kept)
	return ew.err
}

// WriteOutbox writes the push queues of bouncer push --status.
func WriteOutbox(w io.Writer, ts []suppress.TargetStatus, f Format) error {
	if f == FormatJSON {
		if ts == nil {
			ts = []suppress.TargetStatus{}
		}
		return writeJSON(w, ts)
	}
	ew := &errWriter{w: w}
	if len(ts) == 0 {
		ew.printf("no push target has entries in this state\n")
	}
	for _, t := range ts {
		ew.printf("%s: %d pending (%d uncertain), %d delivered, %d failed\n", text(t.Target), t.Pending, t.Uncertain, t.Delivered, t.Failed)
		if t.LastError != "" {
			ew.printf("  last failure: %s\n", text(t.LastError))
		}
	}
	return ew.err
}

// Requeued is what bouncer push --requeue-failed did for one target.
type Requeued struct {
	Target  string `json:"target"`
	Entries int    `json:"entries"`
}

// WriteRequeued writes what bouncer push --requeue-failed did.
func WriteRequeued(w io.Writer, rs []Requeued, f Format) error {
	if f == FormatJSON {
		if rs == nil {
			rs = []Requeued{}
		}
		return writeJSON(w, rs)
	}
	ew := &errWriter{w: w}
	if len(rs) == 0 {
		ew.printf("no failed push entries\n")
	}
	for _, r := range rs {
		ew.printf("%s: %d failed entries queued again, due at the next run\n", text(r.Target), r.Entries)
	}
	return ew.err
}

// WriteStats writes the tables of bouncer stats.
func WriteStats(w io.Writer, r suppress.StatsReport, f Format) error {
	if f == FormatJSON {
		return writeJSON(w, r)
	}
	ew := &errWriter{w: w}
	since := "the whole history"
	if !r.Since.IsZero() {
		since = "since " + date(r.Since)
	}
	ew.printf("%d failures of %d addresses, %s (latest bounce %s)\n", r.Events, r.Addresses, since, date(r.Now))
	ew.printf("suppressed now: %d addresses\n", r.Suppressed)
	writeRows(ew, "by "+string(r.By), r.Groups)
	if r.By != suppress.StatsByCategory {
		writeRows(ew, "by category", r.ByCategory)
	}
	if r.By != suppress.StatsByReason {
		writeRows(ew, "by reason", r.ByReason)
	}
	writeRows(ew, "policy blocks by receiving domain", r.PolicyByDomain)
	if len(r.ListSize) > 0 {
		ew.printf("\nsuppression list over time (day, added, size):\n")
		for _, p := range r.ListSize {
			ew.printf("  %s %6d %8d\n", p.Day, p.Added, p.Size)
		}
	}
	return ew.err
}

func writeRows(ew *errWriter, title string, rows []suppress.StatsRow) {
	ew.printf("\n%s (events, addresses):\n", title)
	if len(rows) == 0 {
		ew.printf("  none\n")
	}
	for _, r := range rows {
		key := text(r.Key)
		switch {
		case r.Provider != "":
			key += " (" + r.Provider + ")"
		case r.Category != "":
			key += " (" + string(r.Category) + ")"
		}
		ew.printf("  %-40s %8d %8d\n", key, r.Events, r.Addresses)
	}
}
