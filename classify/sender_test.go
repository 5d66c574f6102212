package classify

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bouncer-dev/bouncer/dsn"
)

// TestSenderRefusals: a reply that refuses the sender (its account, its
// address, its server for mailing too many invalid addresses) is policy,
// never a hard failure of the recipient, whatever command it answered:
// after DATA or with no command named, it made every recipient of the
// message hard (taxonomy: a refusal about the sender is `rejected` unless
// the words name the recipient).
func TestSenderRefusals(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want Reason
	}{
		{"the sender's account suspended", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "550 Your account has been suspended for sending spam"}, ReasonRejected},
		{"the sender's account disabled", Input{Kind: dsn.KindDSN, Status: "5.7.1", Command: "DATA", Diagnostic: "550 5.7.1 Sender account disabled"}, ReasonRejected},
		{"disabled for sending", Input{Kind: dsn.KindDSN, Diagnostic: "554 Your account is disabled for sending"}, ReasonRejected},
		{"sending disabled for the account", Input{Kind: dsn.KindDSN, Diagnostic: "550 Sending disabled for this account"}, ReasonRejected},
		{"a sender status over generic words", Input{Kind: dsn.KindDSN, Status: "5.1.7", Diagnostic: "550 5.1.7 Invalid address"}, ReasonRejected},
		{"a sender status, no such user", Input{Kind: dsn.KindDSN, Status: "5.1.8", Command: "DATA", Diagnostic: "553 5.1.8 No such user"}, ReasonRejected},
		{"too many unknown recipients", Input{Kind: dsn.KindDSN, Status: "4.7.1", Diagnostic: "421 4.7.1 Too many unknown recipients, closing connection"}, ReasonBlocked},
		{"too many bad recipients", Input{Kind: dsn.KindDSN, Status: "5.7.1", Diagnostic: "550 5.7.1 Too many bad recipients"}, ReasonBlocked},
		{"too many invalid recipients", Input{Kind: dsn.KindDSN, Diagnostic: "554 too many invalid recipients"}, ReasonBlocked},
		// The answering host's own words stand over a sender status.
		{"the host accepts no mail", Input{Kind: dsn.KindDSN, Status: "5.7.27", ReplyCode: "550", Diagnostic: "550 Host does not accept mail"}, ReasonNotAccept},
		// The recipient's own account, named as such, stays hard.
		{"the recipient's account suspended", Input{Kind: dsn.KindDSN, Status: "5.2.1", Command: "RCPT", Diagnostic: "550 5.2.1 The email account that you tried to reach is disabled"}, ReasonSuspend},
		{"recipient unknown under RCPT with 5.1.1", Input{Kind: dsn.KindDSN, Status: "5.1.1", Command: "RCPT", Diagnostic: "550 5.1.1 Invalid address"}, ReasonUserUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.in)
			assert.Equal(t, tt.want, got.Reason, "%+v", got)
		})
	}
}
