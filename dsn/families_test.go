package dsn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func msg(header, body string) string {
	return strings.TrimLeft(header, "\n") + "\n" + strings.TrimLeft(body, "\n")
}

func TestFormatFamilies(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		kind  Kind
		rcpts []string // FinalRecipient of each record, in order
	}{
		{"rfc3464-two-recipients", dsnMessage(
			"Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n\n" +
				"Final-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.2.2\n"),
			KindDSN, []string{"a@example.com", "b@example.com"}},
		{"rfc1894-uppercase-fields", dsnMessage(
			"FINAL-RECIPIENT: RFC822; <A@Example.com>\nACTION: Failed\nSTATUS: 5.1.1 (user unknown)\n"),
			KindDSN, []string{"A@Example.com"}},
		{"rfc3464-status-only-in-text", dsnMessage(
			"Final-Recipient: rfc822; a@example.com\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n"),
			KindDSN, []string{"a@example.com"}},
		{"rfc3464-delivered", dsnMessage(
			"Final-Recipient: rfc822; a@example.com\nAction: delivered\nStatus: 2.0.0\n"),
			KindDSN, []string{"a@example.com"}},
		{"rfc5965-arf", msg(`
From: feedback@fbl.example.net
To: abuse@sender.example.org
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"
`, `
--F
Content-Type: text/plain

This is an abuse report.
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1
Original-Mail-From: <news@sender.example.org>
Original-Rcpt-To: <reader@example.net>
--F
Content-Type: text/rfc822-headers

From: news@sender.example.org
To: reader@example.net
--F--
`), KindFeedback, []string{"reader@example.net"}},
		{"rfc3834-auto-submitted", msg(`
From: reader@example.net
To: news@sender.example.org
Subject: Re: March letter
Auto-Submitted: auto-replied
`, "I am away.\n"), KindAutoReply, []string{"reader@example.net"}},
		{"autoreply-japanese-subject", msg(`
From: reader@example.jp
To: news@sender.example.org
Subject: 自動応答: March letter
`, "不在です。\n"), KindAutoReply, []string{"reader@example.jp"}},
		{"autoreply-korean-subject", msg(`
From: reader@example.kr
To: news@sender.example.org
Subject: [부재중] March letter
`, "휴가 중입니다.\n"), KindAutoReply, []string{"reader@example.kr"}},
		{"autoreply-french-subject", msg(`
From: lecteur@example.fr
To: news@sender.example.org
Subject: Réponse automatique : March letter
`, "Je suis absent.\n"), KindAutoReply, []string{"lecteur@example.fr"}},
		{"qmail", msg(`
From: MAILER-DAEMON@mx.example.net
To: news@sender.example.org
Subject: failure notice
`, `
Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<a@example.com>:
192.0.2.1 does not like recipient.
Remote host said: 550 5.1.1 <a@example.com>... User Unknown
Giving up on 192.0.2.1.

--- Below this line is a copy of the message.

From: news@sender.example.org
To: a@example.com, c@example.com
`), KindBounce, []string{"a@example.com"}},
		{"exim", msg(`
From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: news@sender.example.org
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: a@example.com
`, `
This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  a@example.com
    SMTP error from remote mail server after RCPT TO:<a@example.com>:
    host mx.example.com [192.0.2.1]: 550 5.1.1 <a@example.com>: Recipient address rejected

------ This is a copy of the message, including all the headers. ------

From: news@sender.example.org
To: a@example.com
`), KindBounce, []string{"a@example.com"}},
		{"verp-names-no-recipient", msg(`
From: postmaster@mx.example.net
To: bounces+reader=example.net@lists.sender.example.org
Subject: Undeliverable: March letter
`, "Delivery has failed. 550 5.1.1 Mailbox unavailable.\n"), KindBounce, []string{"reader@example.net"}},
		{"not-a-bounce", msg(`
From: friend@example.com
To: news@sender.example.org
Subject: Lunch?
`, "Shall we meet at noon? Write to me at friend@example.com.\n"), KindNotBounce, nil},
		{"sender-and-helpdesk-are-not-recipients", msg(`
From: MAILER-DAEMON@mx.example.net
To: news@sender.example.org
Subject: Undelivered Mail Returned to Sender
`, `
Your message from news@sender.example.org could not be delivered.
Please contact postmaster@mx.example.net for assistance, or write to help@example.net.

<gone@example.com>: host mx.example.com said: 550 5.1.1 User unknown
`), KindBounce, []string{"gone@example.com"}},
		{"addresses-in-returned-original-are-not-recipients", msg(`
From: MAILER-DAEMON@mx.example.net
To: news@sender.example.org
Subject: Returned mail: User unknown
`, `
The following addresses had permanent fatal errors:
<gone@example.com>

----- Original message follows -----
From: news@sender.example.org
To: gone@example.com
Cc: other@example.com
Reply-To: replies@sender.example.org

Forward this to friend@example.org!
`), KindBounce, []string{"gone@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Parse(strings.NewReader(tt.msg), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.kind, rep.Kind, "Parse().Kind")
			var got []string
			for _, r := range rep.Recipients {
				got = append(got, r.FinalRecipient)
			}
			assert.Equal(t, tt.rcpts, got, "Parse() recipients")
		})
	}
}
