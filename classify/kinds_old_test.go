package classify

import (
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
)

// TestOldKindsThroughParser classifies, through the real parser, the one
// recipient of a notice written from an older mail system's template
// whose reason is in the template's own words.
func TestOldKindsThroughParser(t *testing.T) {
	const mmdfFrom = "mx.example.edu MMDF Mail System <mmdf@mx.example.edu>"
	const mmdfTail = "    Problems usually are due to service interruptions at the receiving\n" +
		"machine.  Less often, they are caused by the communication system.\n\n    Your message begins as follows:\n\n" +
		"From: news@lists.example.org\nSubject: news\n\nhello\n"
	tests := []parserCase{{
		// GNU Mailman's Compuserve bouncer reads the address after
		// "Invalid receiver address: ".
		name: "CompuServe: invalid receiver address",
		msg: kindNotice("CompuServe Postmaster <postmaster@compuserve.example>", "Undeliverable Message", "",
			"Your message could not be delivered as addressed.\n\nInvalid receiver address: 12345.678@compuserve.example\n"),
		recipient: "12345.678@compuserve.example", want: ReasonUserUnknown,
	}, {
		// MMDF's rtn_intro lists who "failed to be received" only when
		// the message timed out in the queue.
		name: "MMDF: failed to be received after days in the queue",
		msg: kindNotice(mmdfFrom, "Failed mail  (msg.a012345)", "",
			"    After 5 days (120 hours), your message could not be\nfully delivered.\n\n"+
				"    It failed to be received by the following address(es):\n\n\tann@example.com (host: example.com) (queue: smtp)\n\n"+mmdfTail),
		recipient: "ann@example.com", want: ReasonExpired,
	}, {
		name: "MMDF: waiting mail, delivery attempts still pending",
		msg: kindNotice(mmdfFrom, "Waiting mail  (msg.a012345)", "",
			"    After 2 days (48 hours), your message has not yet been\nfully delivered.  Attempts to deliver the message will continue\n"+
				"for 3 more days.  No further action is required by you.\n\n"+
				"    Delivery attempts are still pending for the following address(es):\n\n\tbob@example.com (host: example.com) (queue: smtp)\n\n"+mmdfTail),
		recipient: "bob@example.com", want: ReasonExpired,
	}, {
		// The old AOL mail controls: the member refuses the sender.
		name: "old AOL: not accepting mail from the sender",
		msg: kindNotice("Mail Delivery Subsystem <MAILER-DAEMON@aol.example>", "Returned mail: Not accepting mail", "",
			"Your mail to the following recipients could not be delivered because they are not accepting mail from news@lists.example.org:\n\tcal\n"),
		recipient: "cal@aol.example", want: ReasonFiltered,
	}, {
		// Post.Office: "destination addresses were unknown".
		name: "Post.Office: destination addresses unknown",
		msg: kindNotice("Mail Administrator <Postmaster@mx.example.net>", "Mail System Error - Returned Mail", "",
			"This Message was undeliverable due to the following reason:\n\nThe following destination addresses were unknown (please check\n"+
				"the addresses and re-mail the message):\n\nSMTP <dee@example.net>\n\nPlease reply to Postmaster@mx.example.net\n"+
				"if you feel this message to be in error.\n"),
		recipient: "dee@example.net", want: ReasonUserUnknown,
	}, {
		// Exchange 5.5's "The recipient name is not recognized".
		name: "Exchange 5.5: the recipient name is not recognized",
		msg: kindNotice("System Administrator <postmaster@corp.example>", "Undeliverable: news", "",
			"Your message\n\n  To:      eve@corp.example\n  Subject: news\n\ndid not reach the following recipient(s):\n\n"+
				"eve@corp.example on Thu, 3 Dec 2026 10:00:05 +0000\n            The recipient name is not recognized\n"),
		recipient: "eve@corp.example", want: ReasonUserUnknown,
	}, {
		name: "MessageLabs: a delay warning is expired",
		msg: kindNotice("MAILER-DAEMON@messagelabs.example", "Delivery Status Notification (Delay)", "",
			"This is an automatically generated Delivery Status Notification.\n\nTHIS IS A WARNING MESSAGE ONLY.\n\n"+
				"YOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipients has been delayed.\n\n       fay@example.com\n\n"),
		recipient: "fay@example.com", want: ReasonExpired,
	}, {
		// A group that refuses a non-member's post refuses the sender:
		// policy, nothing to suppress.
		name: "Yahoo Groups: a non-member's post refused",
		msg: kindNotice("other-owner@yahoogroups.example", "Your message to other was not delivered",
			"Mailing-List: list other@yahoogroups.example; contact other-owner@yahoogroups.example\n",
			"We're sorry, but we could not deliver your message to the other group,\nbecause you are not a member of the group.\n"),
		recipient: "other@yahoogroups.example", want: ReasonRejected,
	}, {
		// XMail's envelope summary ("Mail From: <x>") is no MAIL FROM
		// command: the reply refused the recipient.
		name: "XMail: user unknown under the envelope summary",
		msg: kindNotice("mx.example.net PostMaster <postmaster@mx.example.net>", "Error sending message [1234.5678.mx] from [mx.example.net]",
			"X-MailerServer: XMail 1.27\n",
			"[<00>] XMail bounce: Rcpt=[gus@example.com];Error=[550 5.1.1 <gus@example.com>... User unknown]\n\n\n"+
				"[<01>] Error sending message [1234.5678.mx] from [mx.example.net].\n\nID:        <S1234>\n"+
				"Mail From: <news@lists.example.org>\nRcpt To:   <gus@example.com>\n\n\n"+
				"[<02>] The reason of the delivery failure was:\n\n550 5.1.1 <gus@example.com>... User unknown\n"),
		recipient: "gus@example.com", want: ReasonUserUnknown,
	}, {
		// XMail's spool gave up after its retries.
		name: "XMail: the maximum number of delivery attempts",
		msg: kindNotice("mx.example.net PostMaster <postmaster@mx.example.net>", "Error sending message [1234.5678.mx] from [mx.example.net]",
			"X-MailerServer: XMail 1.27\n",
			"[<00>] XMail bounce: Rcpt=[hal@example.com];Error=[The maximum number of delivery attempts has been reached]\n\n\n"+
				"[<01>] Error sending message [1234.5678.mx] from [mx.example.net].\n\nID:        <S1234>\n"+
				"Mail From: <news@lists.example.org>\nRcpt To:   <hal@example.com>\n\n\n"+
				"[<02>] The reason of the delivery failure was:\n\nThe maximum number of delivery attempts has been reached\n"),
		recipient: "hal@example.com", want: ReasonExpired,
	}, {
		// PP (ISODE) writes X.411's non-delivery diagnostic in words.
		name: "PP: unrecognised ORName",
		msg: kindNotice("PP MTA <postmaster@x400.example.org>", "Delivery Report (failure) for ivy@x400.example.org", "",
			"This report relates to your message:\n\tSubject: news,\n\tTo: other@x400.example.org\n\n"+
				"Your message was not delivered to:\n\tivy@x400.example.org\nfor the following reason:\n"+
				"\tUnable to transfer message\n\t(Unrecognised ORName)\n"),
		recipient: "ivy@x400.example.org", want: ReasonUserUnknown,
	}, {
		name: "PP: maximum time expired",
		msg: kindNotice("PP MTA <postmaster@x400.example.org>", "Delivery Report (failure) for jan@x400.example.org", "",
			"Your message was not delivered to:\n\tjan@x400.example.org\nfor the following reason:\n"+
				"\tUnable to transfer message\n\tMaximum time expired\n"),
		recipient: "jan@x400.example.org", want: ReasonExpired,
	}}
	checkThroughParser(t, tests)
}

// TestOldKindsX400Report classifies the reports of RFC 2156 (MIXER)
// gateways, whose Diagnostic-Code is X.411's reason and diagnostic with
// their names, under a generic status.
func TestOldKindsX400Report(t *testing.T) {
	tests := []struct {
		diagnostic string
		want       Reason
	}{
		{"1 (unable-to-transfer) 0 (unrecognised-ORName)", ReasonUserUnknown},
		{"1 (unable-to-transfer) 1 (ambiguous-ORName)", ReasonUserUnknown},
		{"1 (unable-to-transfer) 5 (maximum-time-expired)", ReasonExpired},
		{"1 (unable-to-transfer) 7 (content-too-long)", ReasonMesgTooBig},
		{"1 (unable-to-transfer) 13 (size-constraint-violation)", ReasonMesgTooBig},
		{"1 (unable-to-transfer) 3 (loop-detected)", ReasonNetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.diagnostic, func(t *testing.T) {
			in := Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: tt.diagnostic, DiagnosticType: "x400", Action: "failed"}
			got := Classify(in)
			assert.Equal(t, tt.want, got.Reason, "Classify(%+v) = %s (%s)", in, got.Reason, got.Evidence)
		})
	}
}
