package dsn

import "strings"

// report returns a multipart/report bounce whose delivery-status part is
// ds (LF line ends), with extra header fields top before To.
func report(top, ds string) string {
	return "From: MAILER-DAEMON@mx.example.net\r\n" + top + "To: news@lists.example.org\r\n" +
		"Subject: Delivery Status Notification (Failure)\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n" + strings.ReplaceAll(ds, "\n", "\r\n") +
		"\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@lists.example.org\r\nTo: someone@example.com\r\nSubject: news\r\n\r\n--b--\r\n"
}

// looseKinds are delivery-status parts written loosely, and the notes that
// name the address a list sent to (issue 18): each a message written for
// its kind.
func looseKinds() []kindCase {
	return []kindCase{{
		name: "no blank line between the per-message and per-recipient fields",
		msg: report("", "Reporting-MTA: dns; mx.example.net\nArrival-Date: Thu, 3 Dec 2026 09:59:00 +0000\n"+
			"Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionDSN, status: "5.1.1",
	}, {
		name: "several blank lines between blocks",
		msg: report("", "Reporting-MTA: dns; mx.example.net\n\n\n\nFinal-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.2.2\n\n\n\n"+
			"Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1\n\n\n"),
		kind: KindDSN, recipients: []string{"ann@example.com", "bob@example.com"}, pos: PositionDSN, status: "5.2.2",
	}, {
		name: "Original-Recipient without Final-Recipient",
		msg:  report("", "Reporting-MTA: dns; mx.example.net\n\nOriginal-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionDSN, status: "5.1.1",
	}, {
		name: "no Action field",
		msg: report("", "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; ann@example.com\nStatus: 5.1.1\n"+
			"Diagnostic-Code: smtp; 550 5.1.1 no such user\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionDSN, status: "5.1.1",
	}, {
		// A sentence before the fields makes the part text; the fields
		// written in it are still the report's.
		name: "a sentence before the fields of the delivery-status part",
		msg: report("", "This is the delivery report.\n\nReporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionDSN, status: "5.1.1",
	}, {
		name: "a field with a space before its colon opens the delivery-status part",
		msg: report("", "Reporting-MTA : dns; mx.example.net\n\n"+
			"Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionDSN, status: "5.1.1",
	}, {
		name: "status block without an address, X-Failed-Recipients names it",
		msg: report("X-Failed-Recipients: ann@example.com\r\n", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Action: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionXFailedRecipients, status: "5.2.2",
	}, {
		name: "status block without an address, the VERP address names it",
		msg: report("Delivered-To: bounce+ann=example.com@lists.example.org\r\n", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Action: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, pos: PositionVERP, status: "5.2.2",
	}, {
		// The list sent to ann@example.com (its VERP address says so);
		// her mail is forwarded to another mailbox, which failed.
		name: "VERP over a forward",
		msg: report("Delivered-To: bounce+ann=example.com@lists.example.org\r\n", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: rfc822; ann.smith@mail.example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"),
		kind: KindDSN, recipients: []string{"ann.smith@mail.example.com"}, original: "ann@example.com",
	}, {
		// A sending service's VERP address puts its campaign and
		// subscriber ids before the address ("bounce-<ids>-ann=…"): read
		// naively, the ids glue onto the local part. The report's own
		// address, that local part after the ids, is the list's.
		name: "VERP with ids before the address",
		msg: report("Delivered-To: bounce-0000042-7777713-ann=example.com@mta.lists.example.org\r\n", "Reporting-MTA: dns; mta.lists.example.org\n\n"+
			"Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"),
		kind: KindDSN, recipients: []string{"ann@example.com"}, original: "-",
	}, {
		// A hyphen of the address itself is no id: "smith" is another
		// mailbox than "john-smith", a forward the VERP address reveals.
		name: "VERP over a forward to a local part that ends the VERP one",
		msg: report("Delivered-To: bounce-john-smith=example.com@lists.example.org\r\n", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: rfc822; smith@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"),
		kind: KindDSN, recipients: []string{"smith@example.com"}, original: "john-smith@example.com",
	}, {
		name: "Postfix: expanded from an alias",
		msg: notice("MAILER-DAEMON@mx.example.net (Mail Delivery System)", "Undelivered Mail Returned to Sender",
			"This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could not\n"+
				"be delivered to one or more recipients. It's attached below.\n\n                   The mail system\n\n"+
				"<alice.smith@mail.example.com> (expanded from <alice@example.net>): host\n"+
				"    mail.example.com[192.0.2.7] said: 550 5.1.1 <alice.smith@mail.example.com>:\n"+
				"    Recipient address rejected: User unknown in local recipient table (in\n    reply to RCPT TO command)\n"),
		kind: KindBounce, recipients: []string{"alice.smith@mail.example.com"}, original: "alice@example.net", command: "RCPT",
	}, {
		name: "Sendmail: expanded from an alias, after the reason",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: see transcript for details",
			"   ----- The following addresses had permanent fatal errors -----\nbob.jones@mail.example.com\n"+
				"    (reason: 550 5.1.1 <bob.jones@mail.example.com>... User unknown)\n    (expanded from: <bob@example.net>)\n"),
		kind: KindBounce, recipients: []string{"bob.jones@mail.example.com"}, original: "bob@example.net",
	}, {
		name: "Exim: generated from an alias",
		msg: notice("Mail Delivery System <Mailer-Daemon@mx.example.net>", "Mail delivery failed: returning message to sender",
			"This message was created automatically by mail delivery software.\n\n"+
				"A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"+
				"  cal.smith@mail.example.com\n    (generated from cal@example.net)\n"+
				"    SMTP error from remote mail server after RCPT TO:<cal.smith@mail.example.com>:\n"+
				"    host mail.example.com [192.0.2.7]: 550 5.1.1 <cal.smith@mail.example.com>: User unknown\n"),
		kind: KindBounce, recipients: []string{"cal.smith@mail.example.com"}, original: "cal@example.net",
	}, {
		name: "Exim: ultimately generated from, through two aliases",
		msg: notice("Mail Delivery System <Mailer-Daemon@mx.example.net>", "Mail delivery failed: returning message to sender",
			"This message was created automatically by mail delivery software.\n\n"+
				"A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"+
				"  dot.jones@mail.example.com\n    (ultimately generated from dot@example.net)\n    mailbox is full: retry timeout exceeded\n"),
		kind: KindBounce, recipients: []string{"dot.jones@mail.example.com"}, original: "dot@example.net",
	}, {
		// RFC 2920: Sendmail writes the last command it sent, DATA;
		// DATA's own reply says no recipient was accepted, so the refusal
		// before it may have answered RCPT TO.
		name: "pipelined transcript: the command is not known",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: see transcript for details",
			"   ----- The following addresses had permanent fatal errors -----\n<cid@example.jp>\n"+
				"    (reason: 550 5.1.1 <cid@example.jp>... User Unknown)\n\n   ----- Transcript of session follows -----\n"+
				"... while talking to mx.example.jp.:\n>>> DATA\n<<< 550 5.1.1 <cid@example.jp>... User Unknown\n"+
				"550 5.1.1 <cid@example.jp>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)\n"),
		kind: KindBounce, recipients: []string{"cid@example.jp"}, status: "5.1.1", command: "-",
	}, {
		// Any bad-sequence reply to DATA says no recipient was accepted.
		name: "pipelined transcript: DATA refused with another 503",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: see transcript for details",
			"   ----- The following addresses had permanent fatal errors -----\n<cyd@example.com>\n"+
				"    (reason: 550 cyd@example.com... No such user)\n\n   ----- Transcript of session follows -----\n"+
				"... while talking to mx.example.com.:\n>>> DATA\n<<< 550 cyd@example.com... No such user\n"+
				"550 5.1.1 <cyd@example.com>... User unknown\n<<< 503 Issue RCPT TO: command before DATA command\n"),
		kind: KindBounce, recipients: []string{"cyd@example.com"}, command: "-",
	}, {
		name: "a DATA transcript that is not pipelined",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: see transcript for details",
			"   ----- The following addresses had permanent fatal errors -----\n<dee@example.jp>\n"+
				"    (reason: 550 Unknown user dee@example.jp)\n\n   ----- Transcript of session follows -----\n"+
				"... while talking to mx.example.jp.:\n>>> DATA\n<<< 550 Unknown user dee@example.jp\n"),
		kind: KindBounce, recipients: []string{"dee@example.jp"}, command: "DATA",
	}}
}
