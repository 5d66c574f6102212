package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
)

// feedbackReport returns an RFC 5965 feedback report (multipart/report,
// report-type=feedback-report) with the fields of its
// message/feedback-report part (lines ending in "\n") and the list's
// message to ann@example.net attached.
func feedbackReport(from, fields string) string {
	return strings.ReplaceAll("From: "+from+"\nTo: fbl@lists.example.org\nSubject: FW: news\n"+
		"Date: Thu, 3 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\n\n"+
		"--F\nContent-Type: text/plain; charset=us-ascii\n\nThis is a report about a message received from 192.0.2.10.\n\n"+
		"--F\nContent-Type: message/feedback-report\n\n"+fields+"\n"+
		"--F\nContent-Type: message/rfc822\n\nReturn-Path: <bounce@lists.example.org>\nFrom: news@lists.example.org\n"+
		"To: ann@example.net\nSubject: news\nMessage-ID: <n1@lists.example.org>\n\nhi\n\n--F--\n", "\n", "\r\n")
}

// TestAutoKindsThroughParser sends messages that reach a bounce mailbox
// and report no hard failure (feedback reports of each type, delay
// notices) through the parser, and classifies their one recipient as the
// pipeline does.
func TestAutoKindsThroughParser(t *testing.T) {
	tests := []parserCase{{
		// Yahoo's complaint feedback loop: an ARF report (RFC 5965
		// section 3.1, its Yahoo fields) with Original-Rcpt-To.
		name: "ARF abuse report (Yahoo's feedback loop) is a complaint",
		msg: feedbackReport("feedback@arf.mail.yahoo.example",
			"Feedback-Type: abuse\nUser-Agent: Yahoo!-Mail-Feedback/2.0\nVersion: 0.1\n"+
				"Original-Mail-From: <bounce@lists.example.org>\nOriginal-Rcpt-To: <ann@example.net>\n"+
				"Received-Date: Thu, 3 Dec 2026 09:00:00 +0000\nSource-IP: 192.0.2.10\nReported-Domain: lists.example.org\n"),
		recipient: "ann@example.net", want: ReasonFeedback,
	}, {
		// RFC 6650 section 3: "not-spam" reports a message the recipient
		// says is wanted, the opposite of a complaint.
		name: "ARF not-spam report is no complaint",
		msg: feedbackReport("fbl@mx.example.net",
			"Feedback-Type: not-spam\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"+
				"Original-Mail-From: <bounce@lists.example.org>\nOriginal-Rcpt-To: <ann@example.net>\n"),
		recipient: "ann@example.net", want: ReasonNotBounce,
	}, {
		// RFC 6591 section 3.1: an authentication failure report (a
		// DMARC failure report). The project reads it as feedback, as
		// the bounce libraries do (cmd/bouncer's runwant_test.go: arf-19,
		// arf-20).
		name: "RFC 6591 auth-failure report stays feedback",
		msg: feedbackReport("dmarc-noreply@mx.example.net",
			"Feedback-Type: auth-failure\nUser-Agent: ExampleReporter/1.0\nVersion: 1\n"+
				"Original-Mail-From: <bounce@lists.example.org>\nOriginal-Rcpt-To: <ann@example.net>\n"+
				"Arrival-Date: Thu, 3 Dec 2026 09:00:00 +0000\nSource-IP: 192.0.2.10\n"+
				"Authentication-Results: mx.example.net; dkim=fail header.d=lists.example.org\n"+
				"Auth-Failure: signature\nReported-Domain: lists.example.org\n"),
		recipient: "ann@example.net", want: ReasonFeedback,
	}, {
		// RFC 5965 section 7.3 registers "virus": a virus was found in
		// the message.
		name: "ARF virus report is virusdetected, not a complaint",
		msg: feedbackReport("abuse@mx.example.net",
			"Feedback-Type: virus\nUser-Agent: ExampleAV/1.0\nVersion: 1\nOriginal-Rcpt-To: <ann@example.net>\n"),
		recipient: "ann@example.net", want: ReasonVirusDetected,
	}, {
		// Postfix's delay_template (bounce_template.c, "Delayed Mail
		// (still being retried)") with the reply of a server whose
		// unknown_local_recipient_reject_code is 450: the words say user
		// unknown, but Postfix keeps retrying, so nothing is decided.
		name: "Postfix delay notice with a temporary user unknown is onhold",
		msg: kindReport("mx.example.org", "Auto-Submitted: auto-replied\n",
			"This is the mail system at host mx.example.org.\n\n"+
				"####################################################################\n"+
				"# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"+
				"####################################################################\n\n"+
				"Your message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n"+
				"                   The mail system\n\n"+
				"<ann@example.net>: host mx.example.net[192.0.2.25] said: 450 4.1.1 <ann@example.net>:\n"+
				"    Recipient address rejected: User unknown in local recipient table (in reply\n    to RCPT TO command)\n",
			"Final-Recipient: rfc822; ann@example.net\nAction: delayed\nStatus: 4.1.1\nRemote-MTA: dns; mx.example.net\n"+
				"Diagnostic-Code: smtp; 450 4.1.1 <ann@example.net>: Recipient address rejected:\n    User unknown in local recipient table\n"+
				"Will-Retry-Until: Tue, 8 Dec 2026 05:00:00 +0000 (UTC)\n"),
		recipient: "ann@example.net", want: ReasonOnHold,
	}, {
		// Exim's delay warning (deliver.c's default warn_message_file
		// text), written for people only, with the same 450 reply.
		name: "Exim delay warning with a temporary user unknown is onhold",
		msg: kindNotice("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Warning: message 1kXyZa-0001Ab-Cd delayed 24 hours",
			"Auto-Submitted: auto-replied\n",
			"This message was created automatically by mail delivery software.\n"+
				"A message that you sent has not yet been delivered to one or more of its\n"+
				"recipients after more than 24 hours on the queue on mx.example.org.\n\n"+
				"The message identifier is:     1kXyZa-0001Ab-Cd\nThe subject of the message is: news\n\n"+
				"The address to which the message has not yet been delivered is:\n\n"+
				"  ann@example.net\n    host mx.example.net [192.0.2.25]\n"+
				"    Delay reason: SMTP error from remote mail server after RCPT TO:<ann@example.net>:\n"+
				"    450 4.1.1 <ann@example.net>: Recipient address rejected: User unknown in\n    local recipient table\n\n"+
				"No action is required on your part. Delivery attempts will continue for\n"+
				"some time, and this warning may be repeated at intervals if the message\n"+
				"remains undelivered. Eventually the mail delivery software will give up,\n"+
				"and when that happens, the message will be returned to you.\n"),
		recipient: "ann@example.net", want: ReasonOnHold,
	}}
	checkThroughParser(t, tests)
}

// TestDelayedNeverHard checks that no words make a delayed record hard.
func TestDelayedNeverHard(t *testing.T) {
	for _, in := range []Input{
		{Kind: dsn.KindDSN, Action: dsn.ActionDelayed, Status: "4.1.1", Diagnostic: "450 4.1.1 user unknown"},
		{Kind: dsn.KindDSN, Action: dsn.ActionDelayed, Diagnostic: "mailbox disabled, account suspended"},
		{Kind: dsn.KindBounce, Action: dsn.ActionDelayed, Status: "5.1.1", Diagnostic: "no such user"},
	} {
		got := Classify(in)
		assert.NotEqual(t, CategoryHard, got.Category, "Classify(%+v) = %s (%s)", in, got.Reason, got.Evidence)
		assert.Equal(t, ReasonOnHold, got.Reason, "Classify(%+v)", in)
	}
	// The same words on a failed record stay hard.
	in := Input{Kind: dsn.KindDSN, Action: dsn.ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 user unknown"}
	assert.Equal(t, ReasonUserUnknown, Classify(in).Reason)
}
