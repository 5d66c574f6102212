package dsn

import "testing"

// unixKinds are the notice templates of Unix and commercial mail servers,
// each in a message written from the product's own source or
// documentation (named on each case): the recipient must come from the
// template's recipient slot, never from the summary of the returned
// original, its sender or a help address.
func unixKinds() []kindCase {
	// Sun Java System / iPlanet / Oracle Communications Messaging Server
	// and PMDF open their notice with a summary of the original's header:
	// its To is data, the failed address follows "Recipient address:"
	// (the notice as quoted by sisimai's lhost/MessagingServer and
	// Sympa's Sympa::Tools::Bounce).
	const pmdfHead = "This report relates to a message you sent with the following header fields:\n\n" +
		"  Message-id: <n1@lists.example.org>\n  Date: Thu, 03 Dec 2026 10:00:00 +0000\n" +
		"  From: news@lists.example.org\n  To: other@example.com\n  Subject: news\n\n"
	const pmdfFrom = "Internet Mail Delivery <postmaster@ims.example.com>"
	// OpenSMTPD, usr.sbin/smtpd/bounce.c: NOTICE_INTRO, notice_error and
	// one "user@domain: error line" per envelope.
	const smtpdHead = "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n" +
		"    An error has occurred while attempting to deliver a message for\n    the following list of recipients:\n\n"
	// Apache James, the Bounce mailet's explanation text
	// (apache/james-project, server/mailet/mailets …/DSNBounce.java and
	// RemoteDelivery's bounce).
	const jamesHead = "Hi. This is the James mail server at mx.example.net.\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.  Below\n" +
		"I include the list of recipients and the reason why I was unable to deliver\nyour message.\n\n"
	// Postfix, bounce.cf.default's failure_template.
	const postfixHead = "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could not\n" +
		"be delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n" +
		"If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n" +
		"                   The mail system\n\n"
	const postfixFrom = "MAILER-DAEMON@mx.example.net (Mail Delivery System)"
	// Sendmail, sendmail/savemail.c errbody.
	const sendmailHead = "The original message was received at Thu, 3 Dec 2026 10:00:00 -0500\nfrom mx.lists.example.org [192.0.2.1]\n\n"
	const sendmailFrom = "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>"
	// Exim, src/deliver.c: the failure message and
	// print_address_information's lines.
	const eximHead = "This message was created automatically by mail delivery software.\n\n" +
		"A message that you sent could not be delivered to one or more of its\n" +
		"recipients. This is a permanent error. The following address(es) failed:\n\n"
	const eximFrom = "Mail Delivery System <Mailer-Daemon@mx.example.net>"
	// qmail-send.c, with qmail-ldap's and netqmail's texts.
	const qmailHead = "Hi. This is the qmail-send program at mx.example.net.\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	const qmailTail = "\n--- Below this line is a copy of the message.\n\n"
	return []kindCase{{
		name: "Messaging Server: Recipient address, not the summary's To",
		msg: notice(pmdfFrom, "Delivery Notification: Delivery has failed", pmdfHead+
			"Your message cannot be delivered to the following recipients:\n\n"+
			"  Recipient address: ann@example.com\n  Original address: ann.alias@example.com\n"+
			"  Reason: Remote SMTP server has rejected address\n"+
			"  Diagnostic code: smtp;550 5.1.1 <ann@example.com>... User unknown\n"+
			"  Remote system: dns;mx.example.com (TCP|192.0.2.1|47323|192.0.2.2|25) (mx.example.com ESMTP)\n"),
		kind: KindBounce, recipients: []string{"ann@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "PMDF: two recipients, each with its reason",
		msg: notice("PMDF Mail Server <postmaster@pmdf.example.edu>", "Delivery Notification: Delivery has failed", pmdfHead+
			"Your message cannot be delivered to the following recipients:\n\n"+
			"  Recipient address: bob@pmdf.example.edu\n  Reason: recipient reached disk quota\n\n"+
			"  Recipient address: cal@pmdf.example.edu\n  Reason: no such user\n"),
		kind: KindBounce, recipients: []string{"bob@pmdf.example.edu", "cal@pmdf.example.edu"}, pos: PositionTemplate,
	}, {
		name: "OpenSMTPD: the list of recipients with their error lines",
		msg: notice("Mailer Daemon <MAILER-DAEMON@mx.example.net>", "Delivery status notification: error", smtpdHead+
			"gus@example.com: 550 5.1.1 <gus@example.com>: Recipient address rejected: User unknown\n\n"+
			"    Below is a copy of the original message:\n\n"+returned("gus@example.com")),
		kind: KindBounce, recipients: []string{"gus@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "James: Failed recipient(s) and Error message",
		msg: notice("postmaster@mx.example.net", "[BOUNCE] news", jamesHead+
			"Original email subject: news\n\nFailed recipient(s):\nian@example.com\n\nError message:\n"+
			"550 5.1.1 <ian@example.com>: Recipient address rejected: User unknown\n\n"),
		kind: KindBounce, recipients: []string{"ian@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "James: two failed recipients share the error message",
		msg: notice("postmaster@mx.example.net", "[BOUNCE] news", jamesHead+
			"Failed recipient(s):\nann@example.com\nbob@example.org\n\nError message:\n550 5.1.1 Unknown user\n\n"),
		kind: KindBounce, recipients: []string{"ann@example.com", "bob@example.org"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// CommuniGate Pro: "Failed to deliver to '<x@y>'", the module
		// that failed and its report.
		name: "CommuniGate Pro: failed to deliver to, the module's report",
		msg: notice("MAILER-DAEMON@cgp.example.com", "Undeliverable mail: news",
			"Failed to deliver to '<mo@cgp.example.com>'\nLOCAL module(account mo) reports:\n account is full (quota exceeded)\n"),
		kind: KindBounce, recipients: []string{"mo@cgp.example.com"}, pos: PositionTemplate,
	}, {
		// "(expanded from <y>)": y is the address the list sent to.
		name: "Postfix: expanded from an alias",
		msg: notice(postfixFrom, "Undelivered Mail Returned to Sender", postfixHead+
			"<ann@example.com> (expanded from <ann.alias@example.net>): host mx.example.com[192.0.2.2] said: 550\n"+
			"    5.1.1 <ann@example.com>: Recipient address rejected: User unknown (in reply to\n    RCPT TO command)\n"),
		kind: KindBounce, recipients: []string{"ann@example.com"}, pos: PositionTemplate, status: "5.1.1",
		original: "ann.alias@example.net",
	}, {
		// Zimbra is Postfix; its mailbox server answers over LMTP.
		name: "Zimbra: the LMTP server's over quota",
		msg: notice("MAILER-DAEMON@zimbra.example.net (Mail Delivery System)", "Undelivered Mail Returned to Sender", postfixHead+
			"<fay@zimbra.example.net>: host zimbra.example.net[192.0.2.9] said: 552 5.2.2 Over quota (in reply to end of DATA command)\n"),
		kind: KindBounce, recipients: []string{"fay@zimbra.example.net"}, pos: PositionTemplate, status: "5.2.2",
	}, {
		name: "Sendmail: fatal errors, reason and transcript",
		msg: notice(sendmailFrom, "Returned mail: see transcript for details", sendmailHead+
			"   ----- The following addresses had permanent fatal errors -----\n<ian@example.com>\n"+
			"    (reason: 550 5.1.1 <ian@example.com>... User unknown)\n\n"+
			"   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n>>> DATA\n"+
			"<<< 550 5.1.1 <ian@example.com>... User unknown\n550 5.1.1 <ian@example.com>... User unknown\n"+
			"<<< 503 5.0.0 Need RCPT (recipient)\n\n   ----- Original message follows -----\n\n"+returned("ian@example.com")),
		kind: KindBounce, recipients: []string{"ian@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// savemail.c prints each item's q_paddr, then "(reason: …)" and
		// "(expanded from: …)": a program or a file that a .forward named
		// is no address, the address it was expanded from is the one the
		// message was sent to.
		name: "Sendmail: a program item expanded from the recipient",
		msg: notice(sendmailFrom, "Returned mail: see transcript for details", sendmailHead+
			"   ----- The following addresses had permanent fatal errors -----\n\"|/usr/local/bin/procmail\"\n"+
			"    (reason: Service unavailable)\n    (expanded from: <pat@example.net>)\n\n"+
			"   ----- Transcript of session follows -----\nsh: /usr/local/bin/procmail: not found\n554 5.0.0 Service unavailable\n"),
		kind: KindBounce, recipients: []string{"pat@example.net"}, pos: PositionTemplate,
	}, {
		// A local user item: the alias it was expanded from is the
		// address the message was sent to.
		name: "Sendmail: a local user item expanded from an alias",
		msg: notice(sendmailFrom, "Returned mail: see transcript for details", sendmailHead+
			"   ----- The following addresses had permanent fatal errors -----\nlee\n"+
			"    (reason: 552 5.2.2 Mailbox full)\n    (expanded from: <lee.alias@example.net>)\n"),
		kind: KindBounce, recipients: []string{"lee.alias@example.net"}, pos: PositionTemplate, status: "5.2.2",
	}, {
		// A success notice's items did not fail: no one.
		name: "Sendmail: successful delivery notifications name no failure",
		msg: notice(sendmailFrom, "Return receipt", sendmailHead+
			"   ----- The following addresses had successful delivery notifications -----\n"+
			"lee  (successfully delivered to mailbox)\n    (expanded from: <lee.alias@example.net>)\n"),
		kind: KindBounce,
	}, {
		// An address item keeps its own address; the alias it was
		// expanded from is the address the list sent to.
		name: "Sendmail: an address item expanded from an alias",
		msg: notice(sendmailFrom, "Returned mail: see transcript for details", sendmailHead+
			"   ----- The following addresses had permanent fatal errors -----\n<quin@example.com>\n"+
			"    (reason: 550 5.1.1 <quin@example.com>... User unknown)\n    (expanded from: <quin.alias@example.net>)\n"),
		kind: KindBounce, recipients: []string{"quin@example.com"}, pos: PositionTemplate, original: "quin.alias@example.net",
	}, {
		name: "Sendmail V5: the transcript and the unsent message",
		msg: notice(sendmailFrom, "Returned mail: User unknown",
			"   ----- Transcript of session follows -----\n550 <lee@example.com>... User unknown\n\n"+
				"   ----- Unsent message follows -----\n"+returned("lee@example.com")),
		kind: KindBounce, recipients: []string{"lee@example.com"}, pos: PositionTemplate,
	}, {
		// Sendmail 5 (sisimai's lhost/V5sendmail): the transcript alone,
		// one status line per recipient; no message was collected.
		name: "Sendmail V5: two recipients in one transcript",
		msg: notice(sendmailFrom, "Returned mail: User unknown",
			"   ----- Transcript of session follows -----\n... while talking to smtp.example.org.:\n"+
				">>> RCPT To:<max@example.org>\n<<< 550 <max@example.org>... User unknown\n550 <max@example.org>... User unknown\n"+
				">>> RCPT To:<ned@example.org>\n<<< 552 <ned@example.org>... Mailbox full\n552 <ned@example.org>... Mailbox full\n\n"+
				"   ----- No message was collected -----\n\n"),
		kind: KindBounce, recipients: []string{"max@example.org", "ned@example.org"}, pos: PositionTemplate,
	}, {
		name: "Exim: host line, then the SMTP error after RCPT TO",
		msg: notice(eximFrom, "Mail delivery failed: returning message to sender", eximHead+
			"  ann@example.com\n    host mx.example.com [192.0.2.2]\n"+
			"    SMTP error from remote mail server after RCPT TO:<ann@example.com>:\n"+
			"    550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown\n\n"+
			"------ This is a copy of the message, including all the headers. ------\n\n"+returned("ann@example.com")),
		kind: KindBounce, recipients: []string{"ann@example.com"}, pos: PositionTemplate, status: "5.1.1", command: "RCPT",
	}, {
		// print_address_information: a failed delivery to a file or a
		// pipe is named "save to …", "pipe to …", then "generated by" the
		// address whose redirection made it.
		name: "Exim: a mailbox file generated by the recipient",
		msg: notice(eximFrom, "Mail delivery failed: returning message to sender", eximHead+
			"  save to /var/mail/eve\n    generated by eve@mx.example.net\n    mailbox is full: retry timeout exceeded\n"),
		kind: KindBounce, recipients: []string{"eve@mx.example.net"}, pos: PositionTemplate,
	}, {
		name: "Exim: a pipe generated by the recipient, generated from an alias",
		msg: notice(eximFrom, "Mail delivery failed: returning message to sender", eximHead+
			"  pipe to |/usr/bin/procmail -d fay\n    generated by fay@mx.example.net\n    (generated from fay.alias@example.net)\n"+
			"    Child process of local_delivery transport returned 75 (could mean temporary error) from command: /usr/bin/procmail\n"),
		kind: KindBounce, recipients: []string{"fay@mx.example.net"}, pos: PositionTemplate, original: "fay.alias@example.net",
	}, {
		// An autoreply ("mail to x@y") that failed is the autoreply's
		// failure: the address whose vacation sent it did not fail.
		name: "Exim: a failed autoreply names not its owner",
		msg: notice(eximFrom, "Mail delivery failed: returning message to sender", eximHead+
			"  mail to news@lists.example.org\n    generated by gil@mx.example.net\n    Unrouteable address\n"),
		kind: KindBounce,
	}, {
		// hide_child: the list's alias hides who failed; its own address
		// is no failure.
		name: "Exim: an undisclosed address names no one",
		msg: notice(eximFrom, "Mail delivery failed: returning message to sender", eximHead+
			"  an undisclosed address\n    (generated from list@example.net)\n"),
		kind: KindBounce,
	}, {
		name: "qmail-ldap: the mailfolder over quota",
		msg: notice("MAILER-DAEMON@mx.example.net", "failure notice", qmailHead+
			"<mo@example.net>:\nThe users mailfolder is over the allowed quota (size). (#5.2.2)\n"+qmailTail+returned("mo@example.net")),
		kind: KindBounce, recipients: []string{"mo@example.net"}, pos: PositionTemplate, status: "5.2.2",
	}, {
		name: "qmail-ldap: the address disabled",
		msg: notice("MAILER-DAEMON@mx.example.net", "failure notice", qmailHead+
			"<ned@example.net>:\nMailaddress is administrativly disabled. (#5.2.1)\n"+qmailTail),
		kind: KindBounce, recipients: []string{"ned@example.net"}, pos: PositionTemplate, status: "5.2.1",
	}, {
		name: "netqmail: connected, but the sender was rejected",
		msg: notice("MAILER-DAEMON@mx.example.net", "failure notice", qmailHead+
			"<ray@example.com>:\nConnected to 192.0.2.2 but sender was rejected.\nRemote host said: 553 5.7.1 Sender address rejected\n"+qmailTail),
		kind: KindBounce, recipients: []string{"ray@example.com"}, pos: PositionTemplate, status: "5.7.1",
	}, {
		// amavisd-new's nondelivery report, its text part alone.
		name: "amavisd-new: the message was not delivered to",
		msg: notice("Content-filter at mx.example.net <postmaster@mx.example.net>", "Undeliverable mail, MTA-BLOCKED",
			"This nondelivery report was generated by the program amavisd-new\nat host mx.example.net. Our internal reference code for your message\n"+
				"is 12345-01/AbCdEf.\n\nThe message WAS NOT delivered to:\n<fay@example.com>:\n   554 5.7.0 Reject, id=12345-01 - SPAM\n"),
		kind: KindBounce, recipients: []string{"fay@example.com"}, pos: PositionTemplate, status: "5.7.0",
	}, {
		// PP (the ISODE X.400 MTA) and the X.400 gateways: a summary of
		// the original, then "Your message was not delivered to:" (the
		// form Sympa::Tools::Bounce reads as X400).
		name: "X.400 gateway: not delivered to, for the following reason",
		msg: notice("PP MTA <postmaster@x400.example.org>", "Delivery Report (failure) for ann@example.org",
			"This report relates to your message:\n\tSubject: news,\n\tMessage-ID: <n1@lists.example.org>,\n\tTo: other@example.org\n\n"+
				"of Thu, 3 Dec 2026 10:00:00 +0000\n\nYour message was not delivered to:\n\tann@example.org\n"+
				"for the following reason:\n\tUnable to transfer message\n\tUnknown recipient\n"),
		kind: KindBounce, recipients: []string{"ann@example.org"}, pos: PositionTemplate,
	}}
}

func TestUnixKinds(t *testing.T) { checkKinds(t, unixKinds()) }
