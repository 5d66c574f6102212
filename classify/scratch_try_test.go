package classify

import (
	"fmt"
	"os"
	"testing"
)

func TestScratchTry(t *testing.T) {
	if os.Getenv("SCRATCH_CORPUS") == "" {
		t.Skip()
	}
	for _, d := range []string{
		"550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
		"554 5.7.1 <x@example.com>: Relay access denied",
		"451 4.7.1 Greylisting in action, please come back later",
		"550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 The message from (<x>) with the subject of (hi) matches a profile the Internet community may consider spam.",
		"550 5.7.1 Email rejected per SPF policy",
		"554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@example.com",
		"550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required",
		"554 5.4.14 Hop count exceeded - possible mail loop ATTR34",
		"552 5.2.2 This message is larger than the current system limit or the recipient's mailbox is full.",
		"553 5.3.0 flpd575 DNSBL:RBL 521< 1.2.3.4 >_is_blocked.For assistance forward this email to abuse_rbl@abuse-att.net",
		"550 Requested action not taken: mailbox unavailable (invalid DNS MX or A/AAAA resource record)",
		"550 5.1.0 <x@example.org>: Sender address rejected: User unknown in local recipient table",
		"554 5.7.1 Client host rejected: cannot find your reverse hostname, [1.2.3.4]",
		"550 5.7.27 Sender address has null MX",
		"556 5.1.10 Recipient address has null MX",
		"421 4.7.0 [GL01] Message from (1.2.3.4) temporarily deferred - 4.16.50.",
		"550 5.2.1 Mailbox cannot be accessed",
		"451 4.3.0 Mail server temporarily rejected message.",
		"550 High probability of spam",
		"554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked by Spamhaus",
		"550 5.7.1 TLS required for RCPT domain",
		"530 5.7.0 Must issue a STARTTLS command first",
		"550 5.1.1 The email account that you tried to reach does not exist.",
		"554 Transaction failed: Duplicate header 'Message-ID'",
		"550 Your message was rejected because it contains a prohibited attachment",
		"550 5.7.1 Message rejected: virus found in attachment",
		"5.4.7 Delivery expired (message too old) 'timeout'",
		"552 5.3.4 Error: message file too big",
		"550 maildir delivery failed: userdisk quota exceeded",
		"smtp; 554 5.7.1 Denied by policy",
	} {
		r := Classify(Input{Diagnostic: d})
		fmt.Printf("%-15s %-45s | %s\n", r.Reason, r.Evidence.String()[:min(45, len(r.Evidence.String()))], d[:min(90, len(d))])
	}
}
