package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProviderReplies sends the replies that providers document in their
// help pages through a notice that relays them, and checks the reason of
// its one recipient.
func TestProviderReplies(t *testing.T) {
	// Symantec Email Security.cloud (MessageLabs) relays the receiving
	// server's reply under its own heading (Broadcom KB 162445, "Outbound
	// Mail returned by MAILER-DAEMON@messagelabs.com").
	messageLabs := func(reply string) string {
		return kindNotice("Mail Delivery System <MAILER-DAEMON@messagelabs.example>", "failure notice", "",
			"This is the mail delivery agent at messagelabs.example.\n\n"+
				"I was unable to deliver your message to the following addresses:\n\n"+
				"<ann@example.net>:\n192.0.2.25 does not like recipient.\nRemote host said: "+reply+"\nGiving up on 192.0.2.25.\n")
	}
	// Postfix relays it as "host X said: …" (the form of Yandex's and
	// Libero's own notices).
	postfix := func(reply string) string {
		return kindNotice("MAILER-DAEMON@mx.example.org (Mail Delivery System)", "Undelivered Mail Returned to Sender",
			"Content-Transfer-Encoding: 8bit\n",
			"This is the mail system at host mx.example.org.\n\n"+
				"I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"+
				"                   The mail system\n\n"+
				"<ann@example.net>: host mx.example.net[192.0.2.25] said: "+reply+" (in reply to RCPT TO command)\n")
	}
	tests := []parserCase{{
		// KB 162445 lists it among the content refusals; 552 alone would
		// say a full mailbox.
		name: "Email Security.cloud: a macro found by a content filter",
		msg:  messageLabs("552 MS-Office file containing VBA macros found inside of the email"),
		want: ReasonContentError,
	}, {
		name: "Email Security.cloud: SPF unauthorized mail",
		msg:  messageLabs("550 5.7.1 SPF unauthorized mail is prohibited."),
		want: ReasonAuthFailure,
	}, {
		name: "Email Security.cloud: a full mailbox",
		msg:  messageLabs("552 Requested mail action aborted: exceeded storage allocation"),
		want: ReasonMailboxFull,
	}, {
		// Yandex's help ("Policy rejection on the target address"): the
		// recipient's account is blocked for breaking the user agreement.
		name: "Yandex: the recipient's account is blocked",
		msg:  postfix("550 5.7.1 Policy rejection on the target address"),
		want: ReasonSuspend,
	}, {
		// Libero's and Virgilio's help, "Messaggi di errore più frequenti
		// dopo invio email".
		name: "Libero: relaying not allowed",
		msg:  postfix("550 Relay Disabled"),
		want: ReasonNoRelaying,
	}, {
		// QQ Mail's bounce help (qqmailbox.com/transceivers/169.html).
		name: "QQ Mail: the number has no mailbox opened",
		msg:  postfix("550 该用户未开通QQ邮箱"),
		want: ReasonUserUnknown,
	}, {
		name: "QQ Mail: the recipient's space is not enough",
		msg:  postfix("550 收件人空间不足"),
		want: ReasonMailboxFull,
	}, {
		// Gmail's SMTP errors and codes (Google Workspace Admin Help).
		name: "Gmail: the recipient receives mail too quickly",
		msg:  postfix("450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time."),
		want: ReasonSpeeding,
	}, {
		// The replies of Korean portals as a published list gives them
		// (puffinknight.tistory.com/102): the recipient's own reject list,
		// and the portal's spam filter.
		name: "Korean portal: the sender on the recipient's reject list",
		msg:  postfix("550 You are registered as spammer (by user's reject list)"),
		want: ReasonFiltered,
	}, {
		name: "Korean portal: denied by the spam filter",
		msg:  postfix("554 5.0.0 Service unavailable (ann: mail is denied, by spam filter)"),
		want: ReasonSpamDetected,
	}, {
		// Mail.ru refuses to send from an account it has stopped (a list
		// of Mail.ru's errors at mailout.ru/2015/09, after help.mail.ru):
		// the sender's account, never the recipient's.
		name: "Mail.ru: the sending account may not send",
		msg: kindNotice("MAILER-DAEMON@relay.example.org (Mail Delivery System)", "Undelivered Mail Returned to Sender", "",
			"This is the mail system at host relay.example.org.\n\n                   The mail system\n\n"+
				"<ann@example.net>: host smtp.mail.example[192.0.2.25] said: 550 message sending for this account is disabled (in reply to end of DATA command)\n"),
		want: ReasonRejected,
	}, {
		// Yahoo's help (quoted at zort.org/email/excessive-unknown-recipients
		// and emailquestions.com): the sending server sent too much mail to
		// invalid recipients, and its connection is refused; the words
		// "unknown recipients" are about other messages, not this one's.
		name: "Yahoo: excessive unknown recipients refuses the server",
		msg: kindNotice("MAILER-DAEMON@mx.example.org", "failure notice", "",
			"Hi. This is the qmail-send program at mx.example.org.\n"+
				"I'm afraid I wasn't able to deliver your message to the following addresses.\n"+
				"This is a permanent error; I've given up. Sorry it didn't work out.\n\n<ann@example.net>:\n"+
				"Connected to 192.0.2.25 but greeting failed.\n"+
				"Remote host said: 421 VS1-IP Excessive unknown recipients - possible Open Relay (#4.1.8)\n"),
		want: ReasonBlocked,
	}, {
		// Mimecast's SMTP error codes (community.mimecast.com, "Mimecast
		// SMTP Error Codes"; the replies as wordtothewise.com/2018/07/
		// who-are-mimecast quotes them).
		name: "Mimecast: the sending IP on a Blocked Senders policy",
		msg:  postfix("421 Sender address blocked - https://community.mimecast.com/docs/DOC-1369#421 [AbC.us1]"),
		want: ReasonBlocked,
	}, {
		name: "Mimecast: the sender on a Blocked Senders policy",
		msg:  postfix("550 Rejected by header based Blocked Senders: news@lists.example.org - https://community.mimecast.com/docs/DOC-1369#550 [AbC.us1]"),
		want: ReasonRejected,
	}, {
		name: "Mimecast: the sender's domain has no mail host",
		msg:  postfix("550 Sender has no A, AAAA, or MX DNS records - https://community.mimecast.com/docs/DOC-1369#550 [AbC.us1]"),
		want: ReasonRejected,
	}, {
		name: "Mimecast: larger than the recipient's administrator allows",
		msg:  postfix("554 Maximum email size exceeded - https://community.mimecast.com/docs/DOC-1369#554 [AbC.us1]"),
		want: ReasonMesgTooBig,
	}, {
		// Outlook.com's errors for senders (its postmaster troubleshooting
		// page, RP-001 to RP-003): the sending IP's limits.
		name: "Outlook.com: RP-001, the sender's hourly limits",
		msg: postfix("421 RP-001 (BAY004-MC1F41) Unfortunately, some messages from 192.0.2.1 weren't sent. Please try again. " +
			"We have limits for how many messages can be sent per hour and per day."),
		want: ReasonSpeeding,
	}, {
		// Gmail's SMTP errors and codes: "gcdp" marks a refusal by a rule
		// the domain's administrator wrote, relayed by Gmail's own notice.
		name: "Gmail: a custom domain policy (gcdp)",
		msg: kindNotice("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)", "",
			"** Message blocked **\n\nYour message to ann@example.net has been blocked. See technical details below for more information.\n\n"+
				"The response from the remote server was:\n550 5.7.1 This message violates example.net email policy. - gcdp a1b2c3 - gsmtp\n"),
		want: ReasonPolicyViolation,
	}, {
		// Trend Micro Deep Discovery Email Inspector's SMTP error codes
		// (docs.trendmicro.com, "SMTP Error Codes"): its sender filtering
		// refuses the sending host with 521, which alone would say the
		// domain takes no mail at all.
		name: "Trend Micro DDEI: 521 from the sender filtering",
		msg: kindNotice("MAILER-DAEMON@mx.example.org", "failure notice", "",
			"Hi. This is the qmail-send program at mx.example.org.\n"+
				"I'm afraid I wasn't able to deliver your message to the following addresses.\n"+
				"This is a permanent error; I've given up. Sorry it didn't work out.\n\n<ann@example.net>:\n"+
				"Connected to 192.0.2.25 but greeting failed.\n"+
				"Remote host said: 521 Block permanently (Sender Filtering/Authentication)\n"),
		want: ReasonBlocked,
	}, {
		name: "Trend Micro DDEI: a zombie match of the reputation service",
		msg:  postfix("450 Temporary denial of connection (450) for Zombie matches (ERS)"),
		want: ReasonBlocked,
	}}
	for i := range tests {
		tests[i].recipient = "ann@example.net"
	}
	checkThroughParser(t, tests)

	// Amazon SES's bounce without a DSN: the bounce type and subtype
	// (SES developer guide, "Amazon SNS notification contents for Amazon
	// SES", bounce types) decide.
	sesBounce := func(typ, sub string) string {
		return kindNotice("AWS Notifications <no-reply@sns.amazonaws.com>", "AWS Notification Message", "",
			`{"notificationType":"Bounce","bounce":{"bounceType":"`+typ+`","bounceSubType":"`+sub+`",`+
				`"bouncedRecipients":[{"emailAddress":"ann@example.net"}],"timestamp":"2026-12-03T10:00:00.000Z"},`+
				`"mail":{"source":"news@lists.example.org","destination":["ann@example.net"]}}`)
	}
	ses := []struct {
		typ, sub  string
		want      Reason
		permanent bool
	}{
		{"Permanent", "NoEmail", ReasonUserUnknown, false},
		{"Permanent", "General", ReasonOnHold, true},
		{"Permanent", "Suppressed", ReasonOnHold, true},
		{"Transient", "General", ReasonOnHold, false},
		{"Transient", "MessageTooLarge", ReasonMesgTooBig, false},
	}
	for _, tt := range ses {
		t.Run("Amazon SES: "+tt.typ+" "+tt.sub, func(t *testing.T) {
			rep, err := dsn.Parse(strings.NewReader(sesBounce(tt.typ, tt.sub)), nil)
			require.NotNil(t, rep, "dsn.Parse: %v", err)
			require.Len(t, rep.Recipients, 1)
			r := rep.Recipients[0]
			got := Classify(inputOf(rep, r))
			assert.Equal(t, tt.want, got.Reason, "Classify(SES %s/%s) = %s (%s)", tt.typ, tt.sub, got.Reason, got.Evidence)
			assert.Equal(t, tt.permanent, got.Permanent, "Classify(SES %s/%s): permanent", tt.typ, tt.sub)
		})
	}
}
