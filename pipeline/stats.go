package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/bouncer-dev/bouncer/classify"
)

// Summary writes the totals for a human, a few lines: messages by outcome,
// failures by category, and, when there are any, the messages that hit a
// limit or could not be read and the failures recorded without effect.
func (st Stats) Summary(w io.Writer) {
	fmt.Fprintf(w, "messages: %d read", st.Messages)
	if st.Already > 0 {
		fmt.Fprintf(w, " (%d already recorded by an earlier run)", st.Already)
	}
	fmt.Fprintf(w, "; %d bounces, %d not bounces, %d unrecognized\n", st.Bounces, st.NotBounces, st.Unrecognized)
	var parts []string
	for _, c := range []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint} {
		parts = append(parts, fmt.Sprintf("%d %s", st.Events[c], c))
	}
	fmt.Fprintf(w, "bounces by category: %s\n", strings.Join(parts, ", "))
	if st.Incomplete > 0 {
		fmt.Fprintf(w, "incomplete: %d messages hit a limit (raise the cap, dsn.Options or --max-*): what was read is recorded, the messages are left for a human\n", st.Incomplete)
	}
	if st.Failed > 0 {
		fmt.Fprintf(w, "not read: %d messages could not be read whole and are left in place for the next run\n", st.Failed)
	}
	if st.Unconfirmed > 0 {
		fmt.Fprintf(w, "unconfirmed: %d addresses read from free text and confirmed nowhere else: recorded, not suppressed\n", st.Unconfirmed)
	}
	if st.Unverified > 0 {
		fmt.Fprintf(w, "unverified: %d failures without proof that we sent to their recipient: recorded, not suppressed\n", st.Unverified)
	}
	if st.Unproven > 0 {
		fmt.Fprintf(w, "unproven: %d failures without proof that we sent to their recipient: reported, and suppressing all the same (proof not required)\n", st.Unproven)
	}
	if st.Push != nil {
		fmt.Fprintf(w, "pushed: %d delivered, %d to retry, %d failed", st.Push.Delivered, st.Push.Retried, st.Push.Failed)
		if st.Push.Uncertain > 0 {
			fmt.Fprintf(w, " (%d sent again after an attempt of unknown outcome)", st.Push.Uncertain)
		}
		if p := st.Push; p.NotSubscriber+p.AlreadyBlocklisted+p.BelowThreshold > 0 {
			fmt.Fprintf(w, "; done without effect: %d not a subscriber, %d already blocklisted, %d soft below bouncer's threshold",
				p.NotSubscriber, p.AlreadyBlocklisted, p.BelowThreshold)
		}
		if st.PushErr != nil {
			fmt.Fprintf(w, " (stopped: %v; the rest waits for the next run)", st.PushErr)
		}
		fmt.Fprintln(w)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(w, "skipped: %d recipients that are not addresses or have no date\n", st.Skipped)
	}
}
