package dsn_test

import (
	"fmt"
	"strings"

	"github.com/bouncer-dev/bouncer/dsn"
)

func ExampleParse() {
	const bounce = `From: MAILER-DAEMON@mx.example.net
To: news@sender.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <reader@example.com>: User unknown
--B
Content-Type: text/rfc822-headers

From: news@sender.example.org
To: reader@example.com
Message-ID: <letter-1@sender.example.org>
--B--
`
	rep, err := dsn.Parse(strings.NewReader(bounce), nil)
	if err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println(rep.Kind, rep.ReportingMTA, rep.Original.MessageID)
	for _, r := range rep.Recipients {
		fmt.Println(r.FinalRecipient, r.Action, r.Status, r.ReplyCode, r.Diagnostic)
	}
	// Output:
	// dsn mx.example.net letter-1@sender.example.org
	// reader@example.com failed 5.1.1 550 550 5.1.1 <reader@example.com>: User unknown
}

func ExampleParse_limits() {
	// A report with more recipients than the caller wants to keep.
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; boundary=B\n\n")
	b.WriteString("--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n")
	for i := range 5 {
		fmt.Fprintf(&b, "Final-Recipient: rfc822; user%d@example.com\nAction: failed\nStatus: 5.1.1\n\n", i)
	}
	b.WriteString("--B--\n")
	rep, err := dsn.Parse(strings.NewReader(b.String()), &dsn.Options{MaxRecipients: 2})
	fmt.Println(len(rep.Recipients), rep.Truncated, err)
	// Output:
	// 2 true dsn: limit reached: more than 2 recipients
}
