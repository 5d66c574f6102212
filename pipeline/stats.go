package pipeline

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/plural"
)

// Summary writes the totals for a human, a few lines, each count saying
// what it counts: messages by outcome, failed recipients by category,
// and, when there are any, the messages that hit a limit or could not be
// read and the failures recorded without effect.
func (st Stats) Summary(w io.Writer) {
	fmt.Fprintf(w, "messages: %s\n", st.messagesLine())
	var parts []string
	for _, c := range []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint} {
		parts = append(parts, fmt.Sprintf("%d %s", st.Events[c], c))
	}
	fmt.Fprintf(w, "failed recipients by category: %s\n", strings.Join(parts, ", "))
	if st.Incomplete > 0 {
		fmt.Fprintf(w, "incomplete: %s hit a limit (raise the cap, dsn.Options or --max-*): what was read is recorded, left for a human\n",
			plural.N(st.Incomplete, "message", "messages"))
	}
	if st.Failed > 0 {
		fmt.Fprintf(w, "not read: %s could not be read whole, left in place for the next run\n", plural.N(st.Failed, "message", "messages"))
	}
	if st.Flooded > 0 {
		fmt.Fprintf(w, "flooded: %d messages named more failed addresses than one message may suppress without proof (forged?): recorded, suppress nothing, left for a human in the unrecognized folder", st.Flooded)
		if len(st.FloodedNames) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(st.FloodedNames, ", "))
			if st.Flooded > len(st.FloodedNames) {
				fmt.Fprintf(w, " and %d more", st.Flooded-len(st.FloodedNames))
			}
		}
		fmt.Fprintln(w)
	}
	if st.Unconfirmed > 0 {
		fmt.Fprintf(w, "unconfirmed: %s read from free text and confirmed nowhere else: recorded, not suppressed\n",
			plural.N(st.Unconfirmed, "address", "addresses"))
	}
	if st.Unverified > 0 {
		fmt.Fprintf(w, "unverified: %s without proof that we sent to the recipient: recorded, not suppressed\n",
			plural.N(st.Unverified, "failure", "failures"))
	}
	if st.Unproven > 0 {
		fmt.Fprintf(w, "unproven: %s without proof that we sent to the recipient: reported, and suppressing all the same (proof not required)\n",
			plural.N(st.Unproven, "failure", "failures"))
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
		if st.Push.Allowed > 0 {
			fmt.Fprintf(w, "; not sent: %d of addresses allowed again (bouncer allow)", st.Push.Allowed)
		}
		if st.PushErr != nil {
			fmt.Fprintf(w, " (stopped: %v; the rest waits for the next run)", st.PushErr)
		}
		fmt.Fprintln(w)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(w, "skipped: %s not recorded (not an address, or no date; each is named above)\n",
			plural.N(st.Skipped, "recipient", "recipients"))
	}
}

// messagesLine is the line of the messages read: the new ones by outcome,
// then those met before.
func (st Stats) messagesLine() string {
	parts := []string{plural.N(st.Bounces, "bounce", "bounces")}
	if st.WithoutProof > 0 {
		parts = append(parts, plural.N(st.WithoutProof, "bounce", "bounces")+" without proof (suppressing nothing)")
	}
	parts = append(parts, plural.N(st.NotBounces, "not a bounce", "not bounces"), fmt.Sprintf("%d unrecognized", st.Unrecognized))
	line := fmt.Sprintf("%d read: %s", st.Messages, strings.Join(parts, ", "))
	if st.Duplicates > 0 {
		line += "; " + plural.N(st.Duplicates, "copy", "copies") + " of a message read earlier in this run"
	}
	if st.Already > 0 {
		line += "; " + fmt.Sprintf("%d already recorded by an earlier run", st.Already)
	}
	return line
}

// Add returns the sum of st and o, as for the runs of several mailboxes;
// Push and PushErr are st's (the delivery pass is the run's, not a
// mailbox's).
func (st Stats) Add(o Stats) Stats {
	sum := st
	sum.Messages += o.Messages
	sum.Already += o.Already
	sum.Duplicates += o.Duplicates
	sum.Expected += o.Expected
	sum.Bounces += o.Bounces
	sum.NotBounces += o.NotBounces
	sum.WithoutProof += o.WithoutProof
	sum.Unrecognized += o.Unrecognized
	sum.Incomplete += o.Incomplete
	sum.Failed += o.Failed
	sum.Skipped += o.Skipped
	sum.Unconfirmed += o.Unconfirmed
	sum.Unverified += o.Unverified
	sum.Unproven += o.Unproven
	sum.Flooded += o.Flooded
	sum.FloodedNames = append(slices.Clip(st.FloodedNames), o.FloodedNames...)
	sum.Events = make(map[classify.Category]int, len(st.Events))
	for _, m := range []map[classify.Category]int{st.Events, o.Events} {
		for c, n := range m {
			sum.Events[c] += n
		}
	}
	return sum
}
