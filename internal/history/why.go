package history

import (
	"io"
	"strconv"
	"strings"

	"github.com/bouncer-dev/bouncer/suppress"
)

// WriteWhy writes the histories of bouncer why.
func WriteWhy(w io.Writer, hs []suppress.AddressHistory, f Format) error {
	if f == FormatJSON {
		if hs == nil {
			hs = []suppress.AddressHistory{}
		}
		return writeJSON(w, hs)
	}
	ew := &errWriter{w: w}
	for i := range hs {
		if i > 0 {
			ew.printf("\n")
		}
		writeHistory(ew, &hs[i])
	}
	return ew.err
}

func writeHistory(ew *errWriter, h *suppress.AddressHistory) {
	name := h.Normalized
	if !h.Known {
		ew.printf("%s: not in this state (never bounced, or forgotten)\n", name)
		return
	}
	switch {
	case h.Suppressed:
		ew.printf("%s: suppressed (%s, %s) since %s\n", name, h.Category, h.Reason, date(h.Since))
		ew.printf("  rule: %s: %s\n", h.Rule, h.RuleText)
		ew.printf("  bounces counted: %d, the last on %s\n", h.Bounces, date(h.LastBounce))
	case h.Allowed:
		ew.printf("%s: not suppressed: allowed\n", name)
	default:
		ew.printf("%s: not suppressed\n", name)
	}
	if p := h.Pending; p != nil {
		ew.printf("  pending: %d soft bounces on %d days in the window %s to %s (the policy needs %d on %d days)\n",
			p.Bounces, p.Days, date(p.WindowStart), date(p.WindowEnd), p.Threshold, p.DistinctDays)
	}
	for _, a := range h.Allows {
		until := ""
		if !a.Until.IsZero() {
			until = " until " + date(a.Until)
		}
		ew.printf("  allowed on %s by %s%s: %s\n", date(a.At), text(a.By), until, text(a.Reason))
	}
	if s := h.Pruned; s != nil {
		ew.printf("  pruned on %s: %d events, of which %d %s bounces from %s to %s (last reason %s)\n",
			date(s.PrunedAt), s.Events, s.Bounces, s.Category, date(s.FirstBounce), date(s.LastBounce), s.Reason)
	}
	ew.printf("  events: %d (as of %s)\n", len(h.Events), date(h.Now))
	for i := range h.Events {
		writeEvent(ew, &h.Events[i])
	}
}

func writeEvent(ew *errWriter, e *suppress.HistoryEvent) {
	counted := ""
	if !e.Counted {
		counted = " (not counted: before an allow)"
	}
	code := strings.TrimSpace(e.Status + " " + e.ReplyCode)
	ew.printf("  - %s %s %s %s%s\n", date(e.Date), e.Category, e.Reason, text(code), counted)
	if e.Diagnostic != "" {
		ew.printf("      diagnostic: %s\n", text(e.Diagnostic))
	}
	ew.printf("      evidence: %s; recipient from: %s", orDash(text(e.Evidence)), orDash(text(e.RecipientFrom)))
	if e.Proof != "" {
		ew.printf("; proof: %s", text(e.Proof))
	}
	ew.printf("\n      bounce %s, original %s\n", orDash(text(e.BounceMessageID)), orDash(text(e.OriginalMessageID)))
	src := e.Source
	where := text(src.Origin)
	if src.Mailbox != "" {
		where += " " + text(src.Mailbox)
	}
	if src.UID != 0 {
		where += " UIDVALIDITY " + itoa(src.UIDValidity) + " UID " + itoa(src.UID)
	}
	if src.Location != "" && src.UID == 0 {
		where += " " + text(src.Location)
	}
	ew.printf("      read by %s from %s", orDash(text(src.Detector)), orDash(strings.TrimSpace(where)))
	switch src.Placed {
	case suppress.PlacedProcessed:
		ew.printf(", then processed (--after)")
	case suppress.PlacedUnrecognized:
		ew.printf(", then left for humans (the unrecognized folder)")
	}
	ew.printf("\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }
