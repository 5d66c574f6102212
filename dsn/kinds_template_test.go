package dsn

// returned is the header of a returned original, sent to addr.
func returned(addr string) string {
	return "From: news@lists.example.org\nTo: " + addr + "\nSubject: news\nMessage-ID: <n1@lists.example.org>\n\nhello\n"
}

// withHeader puts the fields extra (CRLF ends) at the top of msg.
func withHeader(extra, msg string) string { return extra + msg }

// templateKinds are the notice templates of MTAs whose failed-recipient
// lists the parser learned from the MTAs' own sources and documentation
// (issue 18), each in a message written for it: qmail's qmail-send.c and
// vpopmail, Exchange 2000/2003's NDR text, Lotus Domino's router notice,
// GroupWise's GWIA notice, Ipswitch IMail (SMTP32), Courier
// (courier/module.dsn), Mercury/32, and the old AOL (Sendmail) and Yahoo
// notices.
func templateKinds() []kindCase {
	const qmailHead = "Hi. This is the qmail-send program at mx.example.net.\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	const exchangeHead = "Your message did not reach some or all of the intended recipients.\n\n" +
		"      Subject:\tnews\n      Sent:\t12/3/2026 10:00 AM\n\nThe following recipient(s) could not be reached:\n\n"
	const smtp32 = "X-Mailer: <SMTP32 v8.15>\r\n"
	return []kindCase{{
		name: "qmail: vpopmail's closed account",
		msg: notice("MAILER-DAEMON@mx.example.net", "failure notice", qmailHead+
			"<ann@example.net>:\nThis address no longer accepts mail.\n\n--- Below this line is a copy of the message.\n\n"+returned("ann@example.net")),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate,
	}, {
		name: "qmail: the remote host's reply",
		msg: notice("MAILER-DAEMON@mx.example.net", "failure notice", qmailHead+
			"<bob@example.com>:\n192.0.2.25 does not like recipient.\n"+
			"Remote host said: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table\n"+
			"Giving up on 192.0.2.25.\n\n--- Below this line is a copy of the message.\n\n"+returned("bob@example.com")),
		kind: KindBounce, recipients: []string{"bob@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "Exchange 2003: the recipient on a line of its own",
		msg: notice("System Administrator <postmaster@corp.example>", "Undeliverable: news", exchangeHead+
			"      dee@corp.example on 12/3/2026 10:00 AM\n"+
			"            The e-mail account does not exist at the organization this message was sent to.\n"+
			"            <mx.corp.example #5.1.1>\n"),
		kind: KindBounce, recipients: []string{"dee@corp.example"}, status: "5.1.1",
	}, {
		name: "Lotus Domino: was not delivered to … because",
		msg: notice("Mail Router <postmaster@notes.example.jp>", "DELIVERY FAILURE: User fay (fay@notes.example.jp) not listed in Domino Directory",
			"Your message\n\n  Subject: news\n\nwas not delivered to:\n\n  fay@notes.example.jp\n\nbecause:\n\n"+
				"  User fay (fay@notes.example.jp) not listed in Domino Directory\n"),
		kind: KindBounce, recipients: []string{"fay@notes.example.jp"}, pos: PositionTemplate,
	}, {
		// The user id alone, at the organisation's domain: a guess, never
		// acted on alone.
		name: "GroupWise: user ids with their reason in parentheses",
		msg: notice("Mail Delivery System <postmaster@gw.example.edu>", "Message status - undeliverable",
			"The message that you sent was undeliverable to the following:\n\tgus (user not found)\n\n"+
				"Possible causes:\n\tThe e-mail address was misspelled or is no longer active.\n"),
		kind: KindBounce, recipients: []string{"gus@example.edu"}, pos: PositionText,
	}, {
		name: "IMail (SMTP32): unknown user",
		msg: withHeader(smtp32, notice("\"Postmaster\" <postmaster@mgw.example.com>", "Undeliverable Mail",
			"unknown user: hal@mgw.example.com\n\n\nOriginal message follows.\n\n"+returned("hal@mgw.example.com"))),
		kind: KindBounce, recipients: []string{"hal@mgw.example.com"}, pos: PositionTemplate,
	}, {
		name: "IMail (SMTP32): undeliverable to",
		msg: withHeader(smtp32, notice("\"Postmaster\" <postmaster@mgw.example.com>", "Undeliverable Mail",
			"undeliverable to ian@mgw.example.com\n\n\nOriginal message follows.\n\n"+returned("ian@mgw.example.com"))),
		kind: KindBounce, recipients: []string{"ian@mgw.example.com"}, pos: PositionTemplate,
	}, {
		name: "IMail (SMTP32): the mailbox exceeds its size",
		msg: withHeader(smtp32, notice("\"Postmaster\" <postmaster@mgw.example.com>", "Undeliverable Mail",
			"User mailbox exceeds allowed size: jan@mgw.example.com\n\n\nOriginal message follows.\n\n"+returned("jan@mgw.example.com"))),
		kind: KindBounce, recipients: []string{"jan@mgw.example.com"}, pos: PositionTemplate,
	}, {
		name: "Courier: a notice without its report part",
		msg: notice("Courier mail server at mx.example.net <@>", "NOTICE: mail delivery status.",
			"This is a delivery status notification from mx.example.net,\nrunning the Courier mail server, version 0.65.\n\n"+
				"The original message was received on Thu, 3 Dec 2026 10:00:00 +0000\nfrom [192.0.2.1]\n\n"+
				"---------------------------------------------------------------------------\n\n"+
				"                           UNDELIVERABLE MAIL\n\nYour message to the following recipients cannot be delivered:\n\n"+
				"<kim@example.com>:\n    mx.example.com [192.0.2.2]:\n>>> RCPT TO:<kim@example.com>\n"+
				"<<< 550 5.1.1 <kim@example.com>: Recipient address rejected: User unknown\n"),
		kind: KindBounce, recipients: []string{"kim@example.com"}, pos: PositionTemplate, status: "5.1.1", command: "RCPT",
	}, {
		name: "Mercury/32: the recipient under the error line",
		msg: notice("Mercury 32 Mail Server <postmaster@mercury.example.org>", "Delivery failure",
			"This message is a delivery status notification from the Mercury/32\nmail server at mercury.example.org.\n\n"+
				"   *** Your message could not be delivered to the following recipient ***\n\n"+
				"   lee@mercury.example.org\n     Reason: 550 5.1.1 No such local user\n\nThe original message follows.\n\n"+
				returned("lee@mercury.example.org")),
		kind: KindBounce, recipients: []string{"lee@mercury.example.org"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "old AOL: Sendmail's fatal errors and transcript",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@aol.example>", "Returned mail: User unknown",
			"The original message was received at Thu, 3 Dec 2026 10:00:00 -0500\nfrom mx.lists.example.org [192.0.2.1]\n\n"+
				"   ----- The following addresses had permanent fatal errors -----\nmo@aol.example\n\n"+
				"   ----- Transcript of session follows -----\n... while talking to air-xx01.mail.aol.example.:\n"+
				">>> RCPT To:<mo@aol.example>\n<<< 550 MAILBOX NOT FOUND\n550 mo@aol.example... User unknown\n"),
		kind: KindBounce, recipients: []string{"mo@aol.example"}, pos: PositionTemplate, command: "RCPT",
	}, {
		// Postfix's reply and its "(in reply to RCPT TO command)" on one
		// line, as relays that reflow the notice write it: the command
		// named is no help text ("reply to").
		name: "Postfix: the reply and its command on one line",
		msg: notice("MAILER-DAEMON@mx.example.net (Mail Delivery System)", "Undelivered Mail Returned to Sender",
			"This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could not\n"+
				"be delivered to one or more recipients. It's attached below.\n\n                   The mail system\n\n"+
				"<eve@example.com>: host mail.example.com[192.0.2.7] said: 550 5.1.1 <eve@example.com>: Recipient address rejected: "+
				"User unknown in local recipient table (in reply to RCPT TO command)\n"),
		kind: KindBounce, recipients: []string{"eve@example.com"}, pos: PositionTemplate, status: "5.1.1", command: "RCPT",
	}, {
		// au (KDDI) writes its condition, then the address and the reply.
		name: "au: the address, the reply and its command on one line",
		msg: notice("<Postmaster@ezweb.example>", "Mail System Error - Returned Mail",
			"The user(s) account is disabled.\n\n<fay@ezweb.example>: 550 user unknown (in reply to RCPT TO command)\n"),
		kind: KindBounce, recipients: []string{"fay@ezweb.example"}, pos: PositionTemplate, command: "RCPT",
	}, {
		// The failed address opens its line, its reason after it holds
		// help words ("contact"); the help text's own addresses are no
		// one's failure.
		name: "an address opening its line before words of a help text",
		msg: notice("MAILER-DAEMON@mx.example.net (Mail Delivery System)", "Undelivered Mail Returned to Sender",
			"This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could not\n"+
				"be delivered to one or more recipients.\n\n"+
				"<gil@example.com>: unable to contact the remote mail server\n\n"+
				"For questions, contact helpdesk@example.net, or write to:\nsupport@example.net (for questions)\n"),
		kind: KindBounce, recipients: []string{"gil@example.com"}, pos: PositionTemplate,
	}, {
		// The help text is a sentence of its own after the one that names
		// the recipient; its address is no one's failure.
		name: "a recipient's sentence before a help text's",
		msg: notice("MAILER-DAEMON@mx.example.org", "Undeliverable mail",
			"The mail to liv@example.net could not be delivered. For help contact helpdesk@mx.example.org.\n"),
		kind: KindBounce, recipients: []string{"liv@example.net"}, pos: PositionTemplate,
	}, {
		// "forwarded to" names where the message was going; "forward
		// this to" asks the reader to.
		name: "could not be forwarded to the recipient",
		msg: notice("MAILER-DAEMON@mx.example.org", "Undeliverable mail",
			"Please forward this message to helpdesk@mx.example.org if you need help.\n\n"+
				"Your message could not be forwarded to max@example.net: mailbox unavailable.\n"),
		kind: KindBounce, recipients: []string{"max@example.net"}, pos: PositionTemplate,
	}, {
		// MDaemon marks the items of its list with ">", as if quoted.
		name: "MDaemon: the failed addresses as a \">\" list",
		msg: notice("MDaemon@mx.example.org", "Permanent Delivery Failure",
			"The following addresses did NOT receive a copy of your message:\n\n>    hal@example.net\n>    ida@example.net\n\n"+
				"--- Session Transcript ---\n Thu 2026-12-03 10:00:00: Attempting SMTP connection to [mx.example.net : 25]\n"+
				" Thu 2026-12-03 10:00:21: Socket connection failed: connection refused\n--- End Transcript ---\n"),
		kind: KindBounce, recipients: []string{"hal@example.net", "ida@example.net"}, pos: PositionTemplate,
	}, {
		// The list names them, the transcript gives each its reply: the
		// status comes from the transcript.
		name: "MDaemon: the \">\" list and the transcript's replies",
		msg: notice("MDaemon@mx.example.org", "Permanent Delivery Failure",
			"The following addresses did NOT receive a copy of your message:\n\n>    hal@example.net\n>    ida@example.net\n\n"+
				"--- Session Transcript ---\n Thu 2026-12-03 10:00:00: --> RCPT To:<hal@example.net>\n"+
				" Thu 2026-12-03 10:00:00: <-- 552 5.2.2 <hal@example.net>... Mailbox full\n"+
				" Thu 2026-12-03 10:00:00: --> RCPT To:<ida@example.net>\n"+
				" Thu 2026-12-03 10:00:00: <-- 550 5.1.1 <ida@example.net>... User unknown\n--- End Transcript ---\n"),
		kind: KindBounce, recipients: []string{"hal@example.net", "ida@example.net"}, status: "5.2.2",
	}, {
		// A "> "-quoted line after the list's heading that is prose, not
		// an address alone, is quoted text.
		name: "a quoted line under a heading is no list item",
		msg: notice("MAILER-DAEMON@mx.example.org", "Returned mail",
			"The following addresses did NOT receive a copy of your message:\n\n  jon@example.net\n\n"+
				"> From: someone@example.com wrote about it\n"),
		kind: KindBounce, recipients: []string{"jon@example.net"}, pos: PositionTemplate,
	}, {
		// smail writes the list, then "here is your returned mail" and
		// the original's header with no blank line between.
		name: "smail: here is your returned mail",
		msg: notice("MAILER-DAEMON@mx.example.org", "Returned mail: user unknown",
			"Hi,\nhere is your list of failed recipients\n<kay@example.net>\nhere is your returned mail\n"+
				"From: news@lists.example.org\nTo: kay@example.net\nSubject: news\n"),
		kind: KindBounce, recipients: []string{"kay@example.net"}, pos: PositionTemplate, command: "-",
	}, {
		name: "old Yahoo: message from the mail server",
		msg: notice("MAILER-DAEMON@yahoo.example", "failure delivery",
			"Message from yahoo.example.\nUnable to deliver message to the following address(es).\n\n"+
				"<ned@yahoo.example>:\n554 delivery error: dd This user doesn't have a yahoo.example account (ned@yahoo.example) [0] - mta1000.mail.example\n\n"+
				"--- Original message follows.\n\n"+returned("ned@yahoo.example")),
		kind: KindBounce, recipients: []string{"ned@yahoo.example"}, pos: PositionTemplate,
	}}
}
