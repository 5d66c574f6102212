package classify

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bouncer-dev/bouncer/dsn"
)

// TestPermanent holds the failures that are permanent but unexplained
// (docs/taxonomy.md, "How evidence is weighed"): undefined or onhold, soft,
// and marked Permanent; and those that must not be marked.
func TestPermanent(t *testing.T) {
	tests := []struct {
		name      string
		in        Input
		reason    Reason
		permanent bool
	}{
		{"qmail's permanent error without words", Input{Kind: dsn.KindBounce, Action: "failed",
			Diagnostic: "<x@example.org>: Sorry, it did not work.", Notice: "Hi. This is the qmail-send program. This is a permanent error; I've given up. Sorry it didn't work out."}, ReasonUndefined, true},
		{"Gmail's failed permanently", Input{Kind: dsn.KindBounce, Action: "failed",
			Diagnostic: "Delivery to the following recipient failed permanently: x@example.org"}, ReasonUndefined, true},
		{"a 5.0.0 status and nothing else", Input{Kind: dsn.KindDSN, Action: "failed", Status: "5.0.0", Diagnostic: "550 sorry"}, ReasonOnHold, true},
		{"a bare 554", Input{Kind: dsn.KindBounce, Action: "failed", Diagnostic: "554 rejected"}, ReasonOnHold, true},
		{"a class-4 status is temporary", Input{Kind: dsn.KindDSN, Action: "failed", Status: "4.1.1", Diagnostic: "450 4.1.1 sorry"}, ReasonOnHold, false},
		{"a temporary code beats permanent words", Input{Kind: dsn.KindBounce, Action: "failed", Diagnostic: "451 try later. This is a permanent error."}, ReasonSystemError, false},
		{"a delayed record is never permanent", Input{Kind: dsn.KindDSN, Action: "delayed", Status: "5.0.0"}, ReasonExpired, false},
		{"explained: an unknown user is hard, not marked", Input{Kind: dsn.KindDSN, Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 user unknown"}, ReasonUserUnknown, false},
		{"explained: a full mailbox is not marked", Input{Kind: dsn.KindDSN, Action: "failed", Status: "5.2.2", Diagnostic: "552 5.2.2 mailbox full"}, ReasonMailboxFull, false},
		{"nothing at all", Input{Kind: dsn.KindBounce, Action: "failed", Diagnostic: "Your message could not be delivered."}, ReasonUndefined, false},
		{"an auto-reply", Input{Kind: dsn.KindAutoReply, Diagnostic: "This is a permanent error"}, ReasonVacation, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.in)
			assert.Equal(t, tt.reason, got.Reason, "Classify(%+v): reason (%s)", tt.in, got.Evidence)
			assert.Equal(t, tt.permanent, got.Permanent, "Classify(%+v).Permanent", tt.in)
		})
	}
}
