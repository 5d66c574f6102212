package dsn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oldKinds are the notice templates of older and less common mail
// systems and gateways, each in a message written from the product's own
// source or documentation (named on each case): the recipient comes from
// the template's recipient slot, never from a help address ("Please reply
// to Postmaster@…"), the sender, or the returned original.
func oldKinds() []kindCase {
	// Post.Office (Software.com), and Openwave's InterMail after it: the
	// reason, the recipients, then a help address (the template as
	// quoted by au's notices in sisimai's lhost/EZweb, by PHPMailer-BMH's
	// rules, and by GNU Mailman's Caiwireless bouncer, which reads "The
	// following recipients did not receive this message:").
	const poHead = "This Message was undeliverable due to the following reason:\n\n"
	const poTail = "\nPlease reply to Postmaster@mx.example.net\nif you feel this message to be in error.\n"
	const poFrom = "Mail Administrator <Postmaster@mx.example.net>"
	const poSubject = "Mail System Error - Returned Mail"
	// MMDF, its return-to-sender code (rtn_error, rtn_intro, rtn_pnam):
	// "addr (host: h) (queue: q)", the subject "Failed mail  (msg.id)".
	const mmdfFrom = "mx.example.edu MMDF Mail System <mmdf@mx.example.edu>"
	const mmdfTail = "    Problems usually are due to service interruptions at the receiving\n" +
		"machine.  Less often, they are caused by the communication system.\n\n    Your message begins as follows:\n\n"
	// ZMailer's report (its text part; ZMailer writes it beside a
	// message/delivery-status part, which a forward may drop): a "FAILED:"
	// block per recipient, its fields' values on the lines under them, and
	// the transcript of the whole session, other recipients' RCPTs and a
	// site's help address included.
	const zmFrom = "The Post Office <postmaster@mx.example.net>"
	const zmHead = "This is a collection of reports about email delivery\nprocess concerning a message you originated.\n\n" +
		"Some explanations/translations for these reports\ncan be found at:\n      http://www.zmailer.org/reports.html\n\n" +
		"Generic note:  Joining/leaving lists thru server:\n\t\t\tmajordomo@lists.example.org\n\n"
	return []kindCase{{
		name: "ZMailer: a FAILED block whose session names another recipient",
		msg: notice(zmFrom, "Delivery reports about your email [FAILED(1)]", zmHead+
			"FAILED:\n  Original Recipient:\n    rfc822;kay@example.com\n  Control data:\n    smtp example.com kay@example.com 99\n"+
			"  Diagnostic texts:\n...\\\n    <<- MAIL From:<news-owner@lists.example.org> BODY=8BITMIME SIZE=2885\n"+
			"    ->> 250 2.1.0 <news-owner@lists.example.org>... Sender ok\n"+
			"    <<- RCPT To:<lou@example.com> NOTIFY=FAILURE ORCPT=rfc822;lou@example.com\n    ->> 250 2.1.5 <lou@example.com>... Recipient ok\n"+
			"    <<- RCPT To:<kay@example.com> NOTIFY=FAILURE ORCPT=rfc822;kay@example.com\n    ->> 550 5.1.1 <kay@example.com>... User unknown\n"),
		kind: KindBounce, recipients: []string{"kay@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "ZMailer: two FAILED blocks, each with the reply to its own RCPT",
		msg: notice(zmFrom, "Delivery reports about your email [FAILED(2)]", zmHead+
			"FAILED:\n  Original Recipient:\n    rfc822;max@example.com\n  Diagnostic texts:\n"+
			"    <<- RCPT To:<max@example.com> NOTIFY=FAILURE ORCPT=rfc822;max@example.com\n    ->> 550 5.1.1 <max@example.com>... User unknown\n"+
			"    <<- RCPT To:<ned@example.com> NOTIFY=FAILURE ORCPT=rfc822;ned@example.com\n    ->> 250 2.1.5 <ned@example.com>... Recipient ok\n"+
			"    <<- DATA\n    ->> 354 Enter mail\n    <<- .\n    ->> 552 5.2.2 Mailbox full\n"+
			"FAILED:\n  Original Recipient:\n    rfc822;ned@example.com\n  Diagnostic texts:\n"+
			"    <<- RCPT To:<ned@example.com> NOTIFY=FAILURE ORCPT=rfc822;ned@example.com\n    ->> 250 2.1.5 <ned@example.com>... Recipient ok\n"+
			"    <<- DATA\n    ->> 354 Enter mail\n    <<- .\n    ->> 552 5.2.2 Mailbox full\n"),
		kind: KindBounce, recipients: []string{"max@example.com", "ned@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "ZMailer: Final Recipient and Diagnostic Code in the text",
		msg: notice(zmFrom, "Delivery reports about your email [FAILED(1)]", zmHead+
			"FAILED:\n  Original Recipient:\n      rfc822;oli@example.com\n  Final Recipient:\n      RFC822;oli@example.com\n"+
			"  Status:\n      5.2.2\n  Remote MTA:\n      dns; mx.example.com (192.0.2.2|25|192.0.2.1|48741)\n"+
			"  Diagnostic Code:\n      smtp; 552 (<oli@example.com>... Mailbox full)\n"),
		kind: KindBounce, recipients: []string{"oli@example.com"}, pos: PositionTemplate, status: "5.2.2",
	}, {
		name: "Post.Office: each recipient rejected by a remote mail server",
		msg: notice(poFrom, poSubject, poHead+
			"Each of the following recipients was rejected by a remote mail server.\n"+
			"The reasons given by the server are included to help you determine why\neach recipient was rejected.\n\n"+
			"    Recipient: <ann@example.com>\n    Reason:    5.1.1 <ann@example.com>... User unknown\n"+poTail),
		kind: KindBounce, recipients: []string{"ann@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "Post.Office: the account over quota, the address on a line of its own",
		msg: notice(poFrom, poSubject, poHead+
			"The user(s) account is temporarily over quota.\n\n<bob@example.net>\n"+poTail),
		kind: KindBounce, recipients: []string{"bob@example.net"}, pos: PositionTemplate,
	}, {
		name: "Post.Office: not reachable within the allowed queue period",
		msg: notice(poFrom, poSubject, poHead+
			"Your message was not delivered because the destination computer was\n"+
			"not reachable within the allowed queue period. The amount of time\n"+
			"a message is queued before it is returned depends on local configura-\ntion parameters.\n\n"+
			"Your message was not delivered within 5 days and 0 hours.\nHost mx.example.com is not responding.\n\n"+
			"The following recipients did not receive this message:\n\n     <cal@example.com>\n"+poTail),
		kind: KindBounce, recipients: []string{"cal@example.com"}, pos: PositionTemplate,
	}, {
		// The channel names each unknown address: "SMTP <x@y>".
		name: "Post.Office: destination addresses unknown, with their channel",
		msg: notice(poFrom, poSubject, poHead+
			"The following destination addresses were unknown (please check\n"+
			"the addresses and re-mail the message):\n\nSMTP <dee@example.net>\n"+poTail),
		kind: KindBounce, recipients: []string{"dee@example.net"}, pos: PositionTemplate,
	}, {
		// Netscape Messaging Server 3.x/4.x wrote the same text inside a
		// multipart/report whose status part names no recipient (GNU
		// Mailman's Netscape bouncer skips its "Please reply to" line).
		name: "Netscape Messaging Server: a report without recipient fields",
		msg: "From: Mail Delivery Subsystem <MAILER-DAEMON@nms.example.com>\r\nTo: news@lists.example.org\r\n" +
			"Subject: Delivery Notification: Delivery has failed\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
			strings.ReplaceAll(poHead+"The user(s) account is temporarily over quota.\n\n<eve@nms.example.com>\n\n"+
				"Please reply to <postmaster@nms.example.com>\nif you feel this message to be in error.\n", "\n", "\r\n") +
			"\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; nms.example.com\r\n\r\n--b--\r\n",
		kind: KindDSN, recipients: []string{"eve@nms.example.com"}, pos: PositionTemplate,
	}, {
		// Netscape Messaging Server 4.x: the reason, a colon, the channel
		// and the address (Majordomo 2's bounce parser, its
		// check_dsn_netscape formats).
		name: "Netscape Messaging Server: reason, channel and address",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@nms.example.com>", "Delivery Notification: Delivery has failed",
			poHead+"User quota exceeded: LMTP <hal@nms.example.com>\n\nPlease reply to <postmaster@nms.example.com>\n"+
				"if you feel this message to be in error.\n"),
		kind: KindBounce, recipients: []string{"hal@nms.example.com"}, pos: PositionTemplate,
	}, {
		name: "Netscape Messaging Server: reason and address, no channel",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@nms.example.com>", "Delivery Notification: Delivery has failed",
			poHead+"User quota exceeded: qed@nms.example.com\n"),
		kind: KindBounce, recipients: []string{"qed@nms.example.com"}, pos: PositionTemplate,
	}, {
		// A sender's label before the channel is no recipient slot.
		name: "a sender named with its channel is no recipient",
		msg: notice("MAILER-DAEMON@mx.example.net", "Undeliverable mail",
			"Originator: SMTP <editor@lists.example.org>\n\nUser quota exceeded: SMTP <ida@example.net>\n"),
		kind: KindBounce, recipients: []string{"ida@example.net"}, pos: PositionTemplate,
	}, {
		// A list whose items repeat the words before the address: each
		// item is a recipient, not a continuation of the first's reply.
		name: "Post.Office: two unknown destination addresses with their channel",
		msg: notice(poFrom, poSubject, poHead+"The following destination addresses were unknown (please check\n"+
			"the addresses and re-mail the message):\n\nSMTP <jon@example.net>\nSMTP <kai@example.net>\n"+poTail),
		kind: KindBounce, recipients: []string{"jon@example.net", "kai@example.net"}, pos: PositionTemplate,
	}, {
		// CompuServe's older notice (Majordomo 2's parse_compuserve2).
		name: "CompuServe (old): two invalid receiver addresses",
		msg: notice("CompuServe Postmaster <postmaster@compuserve.example>", "Undeliverable Message",
			"Your message could not be delivered due to the following:\n\nInvalid receiver address: lex@compuserve.example\n"+
				"Invalid receiver address: mia@compuserve.example\n\nThe address was not found.\n"),
		kind: KindBounce, recipients: []string{"lex@compuserve.example", "mia@compuserve.example"}, pos: PositionTemplate,
	}, {
		name: "IMail (SMTP32): two unknown users",
		msg: withHeader("X-Mailer: <SMTP32 v8.15>\r\n", notice("\"Postmaster\" <postmaster@mgw.example.com>", "Undeliverable Mail",
			"unknown user: nia@mgw.example.com\nunknown user: ora@mgw.example.com\n\n\nOriginal message follows.\n\n")),
		kind: KindBounce, recipients: []string{"nia@mgw.example.com", "ora@mgw.example.com"}, pos: PositionTemplate,
	}, {
		// Old MSN (Majordomo 2's parse_msn): the address, then the reason,
		// under a "Transcript of session follows" rule.
		name: "old MSN: the address under the transcript rule",
		msg: notice("Postmaster<Postmaster@email.msn.example>", "Nondeliverable mail",
			"------Transcript of session follows -------\npam@email.msn.example\nThe user's email name is not found.\n"),
		kind: KindBounce, recipients: []string{"pam@email.msn.example"}, pos: PositionTemplate,
	}, {
		// Lotus Notes R4/R5 (before Domino's "was not delivered to …
		// because"): the reason, then the address, between "Failure
		// Reasons" and "Returned Message" rules (sisimai's lhost/Notes).
		name: "Lotus Notes R4/R5: failure reasons",
		msg: notice("Postmaster <postmaster@notes.example.com>", "Undeliverable message",
			"------- Failure Reasons  --------\n\nUser not listed in public Name & Address Book\nfay@notes.example.com\n\n\n"+
				"------- Returned Message --------\n"+returned("fay@notes.example.com")),
		kind: KindBounce, recipients: []string{"fay@notes.example.com"}, pos: PositionTemplate,
	}, {
		// CompuServe (GNU Mailman's Compuserve bouncer: "Invalid receiver
		// address: " after "your message could not be delivered").
		name: "CompuServe: invalid receiver address",
		msg: notice("CompuServe Postmaster <postmaster@compuserve.example>", "Undeliverable Message",
			"Your message could not be delivered as addressed.\n\n--- Mail File Header ---\nFrom: news@lists.example.org\n"+
				"To: 12345.678@compuserve.example\nSubject: news\n\nInvalid receiver address: 12345.678@compuserve.example\n"),
		kind: KindBounce, recipients: []string{"12345.678@compuserve.example"}, pos: PositionTemplate,
	}, {
		name: "MMDF: could not be delivered for the following reason",
		msg: notice(mmdfFrom, "Failed mail  (msg.a012345)",
			"    Your message could not be delivered to\n'gus@example.edu (host: example.edu) (queue: smtp)' for the following\n"+
				"reason:  'Unknown user'\n\n    Your message begins as follows:\n\n"+returned("gus@example.edu")),
		kind: KindBounce, recipients: []string{"gus@example.edu"}, pos: PositionTemplate,
	}, {
		name: "MMDF: failed to be received, after days in the queue",
		msg: notice(mmdfFrom, "Failed mail  (msg.a012345)",
			"    After 5 days (120 hours), your message could not be\nfully delivered.\n\n"+
				"    It failed to be received by the following address(es):\n\n\that@example.com (host: example.com) (queue: smtp)\n\n"+
				mmdfTail+returned("hat@example.com")),
		kind: KindBounce, recipients: []string{"hat@example.com"}, pos: PositionTemplate,
	}, {
		// MMDF's warning; the taxonomy counts a delay as expired.
		name: "MMDF: waiting mail, still pending",
		msg: notice(mmdfFrom, "Waiting mail  (msg.a012345)",
			"    After 2 days (48 hours), your message has not yet been\nfully delivered.  Attempts to deliver the message will continue\n"+
				"for 3 more days.  No further action is required by you.\n\n"+
				"    Delivery attempts are still pending for the following address(es):\n\n\tian@example.com (host: example.com) (queue: smtp)\n\n"+
				mmdfTail+returned("ian@example.com")),
		kind: KindBounce, recipients: []string{"ian@example.com"}, pos: PositionTemplate,
	}, {
		// PP (ISODE) converts an X.400 delivery report to RFC 822 text
		// (RFC 1327 / RFC 2156): its "Recipient-Info:" repeats the
		// address with its O/R name; the summary's To is data.
		name: "PP: X.400 delivery report with its contents",
		msg: notice("PP MTA <postmaster@x400.example.org>", "Delivery Report (failure) for jan@x400.example.org",
			"This report relates to your message:\n\tSubject: news,\n\tMessage-ID: <n1@lists.example.org>,\n\tTo: other@x400.example.org\n\n"+
				"of Thu, 3 Dec 2026 10:00:00 +0000\n\nYour message was not delivered to:\n\tjan@x400.example.org\n"+
				"for the following reason:\n\tUnable to transfer message\n\tUnknown recipient\n\t(Unrecognised ORName)\n\n"+
				"***** The following information is directed towards the local administrator\n***** and is not intended for the end user\n\n"+
				"DR generated by: mta x400.example.org\n\tin /PRMD=example/ADMD= /C=GB/\n\tat Thu, 3 Dec 2026 10:00:00 +0000\n\n"+
				"Delivery Report Contents:\n\nSubject-Submission-Identifier: [/PRMD=example/ADMD= /C=GB/;<n1@lists.example.org>]\n"+
				"Recipient-Info: jan@x400.example.org,\n\t/RFC-822=jan(a)x400.example.org/O=example/PRMD=example/ADMD= /C=GB/;\n"+
				"\tFAILURE reason Unable-To-Transfer (1);\n\tdiagnostic Unrecognised-ORName (0);\n"),
		kind: KindBounce, recipients: []string{"jan@x400.example.org"}, pos: PositionTemplate,
	}, {
		// A site's help text under a template, its address alone on the
		// line under the sentence that points to it.
		name: "GroupWise: a help desk address alone under its sentence",
		msg: notice("Mail Delivery System <postmaster@gw.example.edu>", "Message status - undeliverable",
			"The message that you sent was undeliverable to the following:\n\tpat@example.com (user not found)\n\n"+
				"Possible causes:\n\tThe e-mail address was misspelled or is no longer active.\n\n"+
				"For assistance, contact the help desk at:\n\n    helpdesk@gw.example.edu\n"),
		kind: KindBounce, recipients: []string{"pat@example.com"}, pos: PositionTemplate,
	}, {
		name: "Post.Office: the reply address on the line after Please reply to",
		msg: notice(poFrom, poSubject, poHead+"The user(s) account is temporarily over quota.\n\n<quin@example.net>\n\n"+
			"Please reply to\n   support@mx.example.net\nif you feel this message to be in error.\n"),
		kind: KindBounce, recipients: []string{"quin@example.net"}, pos: PositionTemplate,
	}, {
		name: "MMDF: a local note's address alone under write to",
		msg: notice(mmdfFrom, "Failed mail  (msg.a012345)",
			"    Your message could not be delivered to\n'ray@example.edu (host: example.edu) (queue: smtp)' for the following\n"+
				"reason:  'Unknown user'\n\n    For help with this message, write to\n\n\tmailhelp@mx.example.edu\n\n"+
				"    Your message begins as follows:\n\n"+returned("ray@example.edu")),
		kind: KindBounce, recipients: []string{"ray@example.edu"}, pos: PositionTemplate,
	}, {
		name: "a system administrator's address alone under the sentence that names it",
		msg: notice("Mail Delivery System <postmaster@gw.example.edu>", "Message status - undeliverable",
			"The message that you sent was undeliverable to the following:\n\tpia@example.com (user not found)\n\n"+
				"Please contact your system administrator:\n    sysadmin@gw.example.edu\n"),
		kind: KindBounce, recipients: []string{"pia@example.com"}, pos: PositionTemplate,
	}, {
		// An administrator the message was sent to is no help text.
		name: "an address alone under could not be delivered to the administrator",
		msg: notice("MAILER-DAEMON@mx.example.org", "Undeliverable mail",
			"Your message could not be delivered to the administrator:\n\n   rex@example.net\n"),
		kind: KindBounce, recipients: []string{"rex@example.net"}, pos: PositionTemplate,
	}, {
		// "delivered to" is no help text: the address under it failed.
		name: "an address alone under could not be delivered to",
		msg: notice("MAILER-DAEMON@mx.example.org", "Undeliverable mail",
			"Your message could not be delivered to\n\n   sam@example.net\n\nFor questions, write to helpdesk@mx.example.org.\n"),
		kind: KindBounce, recipients: []string{"sam@example.net"}, pos: PositionTemplate,
	}, {
		// A heading that announces the failed recipients is no help text
		// even when it asks the reader to contact them.
		name: "an address alone under a heading that asks to contact the recipients",
		msg: notice("MAILER-DAEMON@mx.example.org", "Undeliverable mail",
			"Please contact the following recipient by other means:\n\n   tom@example.net\n"),
		kind: KindBounce, recipients: []string{"tom@example.net"}, pos: PositionTemplate,
	}, {
		// Sendmail 8.7's errbody: "had delivery problems", each address
		// with "(unrecoverable error)" or "(transient failure)".
		name: "Sendmail 8.7: delivery problems, unrecoverable error",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: User unknown",
			"The original message was received at Wed, 12 Jun 1996 09:30:22 -0700\nfrom localhost [127.0.0.1]\n\n"+
				"   ----- The following addresses had delivery problems -----\n<uma@example.com>  (unrecoverable error)\n\n"+
				"   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n>>> RCPT To:<uma@example.com>\n"+
				"<<< 550 <uma@example.com>... User unknown\n550 <uma@example.com>... User unknown\n\n"+
				"   ----- Original message follows -----\n"+returned("uma@example.com")),
		kind: KindBounce, recipients: []string{"uma@example.com"}, pos: PositionTemplate,
	}, {
		// smail 3: the failed address, then its transport's error.
		name: "smail3: the transport's reply after the failed address",
		msg: notice("MAILER-DAEMON@mx.example.net", "mail failed, returning to sender",
			"|------------------------- Failed addresses follow: ---------------------|\n"+
				" <val@example.net> ... transport smtp: 550 <val@example.net>... User unknown\n"+
				"|------------------------- Message text follows: ------------------------|\n"+returned("val@example.net")),
		kind: KindBounce, recipients: []string{"val@example.net"}, pos: PositionTemplate,
	}, {
		// The old AOL mail controls: the screen names of the members
		// who refuse the sender, at AOL's own domain (GNU Mailman's and
		// flufl.bounce's AOL detector: "mail to the following recipients
		// could not be delivered").
		name: "old AOL: not accepting mail from the sender",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@aol.example>", "Returned mail: Not accepting mail",
			"Your mail to the following recipients could not be delivered because they are not accepting mail from news@lists.example.org:\n\twes\n"),
		kind: KindBounce, recipients: []string{"wes@aol.example"}, pos: PositionTemplate,
	}, {
		// Exchange 5.5 (its Internet Mail Service and its MS Mail and
		// cc:Mail connectors): the summary's To names every recipient,
		// "did not reach the following recipient(s)" the failed one.
		name: "Exchange 5.5: did not reach, the summary's To names others",
		msg: notice("System Administrator <postmaster@corp.example>", "Undeliverable: news",
			"Your message\n\n  To:      xia@corp.example; yan@corp.example\n  Subject: news\n  Sent:    Thu, 3 Dec 2026 10:00:00 +0000\n\n"+
				"did not reach the following recipient(s):\n\nxia@corp.example on Thu, 3 Dec 2026 10:00:05 +0000\n"+
				"            The recipient name is not recognized\n"+
				"\tThe MTS-ID of the original message is: c=US;a= ;p=Corp;l=SERVER-0612031000-1234\n"+
				"            MSEXCH:IMS:Corp:Site:SERVER 0 (000C05A6) Unknown Recipient\n"),
		kind: KindBounce, recipients: []string{"xia@corp.example"}, pos: PositionTemplate,
	}, {
		// MailMarshal (Trustwave's SMTP gateway), as sisimai's
		// lhost/MailMarshalSMTP reads it: the summary's From is the
		// sender, the recipients follow "were affected:".
		name: "MailMarshal: two recipients affected, the summary's From is the sender",
		msg: notice("MailMarshal <postmaster@gw.example.com>", "Undeliverable Mail: \"news\"",
			"Your message:\n   From:    Editor <editor@lists.example.org>\n   Subject: news\n\nCould not be delivered because of\n\n"+
				"550 5.1.1 User unknown\n\nThe following recipients were affected:\n    yul@gw.example.com\n    zak@gw.example.com\n\n"+
				"Additional Information\n======================\nOriginal Sender:    <editor@lists.example.org>\n"+
				"Reporting-MTA:      <relay.gw.example.com>\n"),
		kind: KindBounce, recipients: []string{"yul@gw.example.com", "zak@gw.example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Postini (psmtp), the SMTP proxy: "The following message to <x>
		// was undeliverable", then the receiving server's reply.
		name: "Postini: the following message was undeliverable",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@psmtp.example>", "Delivery Status Notification",
			"The following message to <abe@example.com> was undeliverable.\nThe reason for the problem:\n"+
				"5.1.0 - Unknown address error 550-'5.1.1 <abe@example.com>... User unknown'\n"),
		kind: KindBounce, recipients: []string{"abe@example.com"}, pos: PositionTemplate,
	}, {
		// MessageLabs' (and old Hotmail's) "automatically generated
		// Delivery Status Notification", its warning.
		name: "MessageLabs: a delay warning",
		msg: notice("MAILER-DAEMON@messagelabs.example", "Delivery Status Notification (Delay)",
			"This is an automatically generated Delivery Status Notification.\n\nTHIS IS A WARNING MESSAGE ONLY.\n\n"+
				"YOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipients has been delayed.\n\n       bea@example.com\n\n"),
		kind: KindBounce, recipients: []string{"bea@example.com"}, pos: PositionTemplate,
	}, {
		// PMDF's older notice: "Addressee:" and VMS MAIL's error.
		name: "PMDF (older): the addressee and a VMS MAIL error",
		msg: notice("PMDF Mail Server <Postmaster@vax1.example.edu>", "Undeliverable mail",
			"The message could not be delivered to:\n\nAddressee: cid@vax1.example.edu\nReason:\n  %MAIL-E-NOSUCHUSR, no such user CID at node VAX1\n"),
		kind: KindBounce, recipients: []string{"cid@vax1.example.edu"}, pos: PositionTemplate,
	}, {
		// FirstClass Internet Services: "Addressed To:" in its
		// transcript of the attempts.
		name: "FirstClass: the transcript of the attempts, Addressed To",
		msg: notice("FirstClass Mail Server <postmaster@fc.example.org>", "Undeliverable: news",
			"Your message could not be sent.\nA transcript of the attempts to send the message follows.\nThe number of attempts made: 1\n"+
				"Addressed To: dot@example.com\n\nThu, 3 Dec 2026 10:00:00 +0000\nCould not be delivered because of\n550 5.1.1 User unknown\n\n"+
				"The message was not delivered.\n"),
		kind: KindBounce, recipients: []string{"dot@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Yahoo Groups (and eGroups before it) refuse a non-member's post
		// and name the group only by its name; their Mailing-List field
		// names its address ("list x@y; contact x-owner@y"). The group's
		// help address is no one's failure.
		name: "Yahoo Groups: a non-member's post refused, the group's address",
		msg: withHeader("Mailing-List: list other@yahoogroups.example; contact other-owner@yahoogroups.example\r\n",
			notice("other-owner@yahoogroups.example", "Your message to other was not delivered",
				"Hello news@lists.example.org,\n\nWe're sorry, but we could not deliver your message to the other group,\n"+
					"because you are not a member of the group.\n\nTo join the group, send an email to:\n"+
					"other-subscribe@yahoogroups.example\n\nRegards,\n\nYahoo! Groups Customer Care\n")),
		kind: KindBounce, recipients: []string{"other@yahoogroups.example"}, pos: PositionTemplate,
	}, {
		// XMail (SysQueueUtils' error response): the envelope summary
		// "Mail From: <x>" / "Rcpt To:   <y>" is no transcript: the reply
		// answered no MAIL FROM, and names the recipient.
		name: "XMail: bounce identifier, envelope summary and reason",
		msg: withHeader("X-MailerServer: XMail 1.27\r\nX-SMTP-Mailer-Error: Message = [1234.5678.mx] Server = [mx.example.net]\r\n",
			notice("mx.example.net PostMaster <postmaster@mx.example.net>", "Error sending message [1234.5678.mx] from [mx.example.net]",
				"[<00>] XMail bounce: Rcpt=[eli@example.com];Error=[550 5.1.1 <eli@example.com>... User unknown]\n\n\n"+
					"[<01>] Error sending message [1234.5678.mx] from [mx.example.net].\n\nID:        <S1234>\n"+
					"Mail From: <news@lists.example.org>\nRcpt To:   <eli@example.com>\nServer:    <mx.example.com> [192.0.2.2]\n\n\n"+
					"[<02>] The reason of the delivery failure was:\n\n550 5.1.1 <eli@example.com>... User unknown\n\n\n"+
					"[<05>] Here is listed the initial part of the message:\n\n"+returned("eli@example.com"))),
		kind: KindBounce, recipients: []string{"eli@example.com"}, pos: PositionTemplate, status: "5.1.1", command: "-",
	}, {
		// A transcript's MAIL FROM, its reply between it and RCPT TO, is
		// the command the refusal answered.
		name: "a transcript's MAIL FROM refused before any RCPT TO",
		msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Returned mail: see transcript for details",
			"   ----- The following addresses had permanent fatal errors -----\n<fox@example.com>\n\n"+
				"   ----- Transcript of session follows -----\nMAIL FROM: <news@lists.example.org>\n"+
				"550 5.7.1 <news@lists.example.org>... Sender rejected\n"),
		kind: KindBounce, recipients: []string{"fox@example.com"}, pos: PositionTemplate, command: "MAIL",
	}, {
		name: "Prodigy: the reason, a colon and the full mailbox's address",
		msg: notice("MAILER-DAEMON@prodigy.example", "Returned mail",
			"User's mailbox is full: <gil@prodigy.example>\nUnable to deliver mail.\n"),
		kind: KindBounce, recipients: []string{"gil@prodigy.example"}, pos: PositionTemplate,
	}, {
		// Majordomo's resend tells the list owner that a non-member
		// posted: "BOUNCE list: Non-member submission from [x]", then the
		// message. Its author is a poster, not a failed recipient.
		name: "Majordomo: BOUNCE for a non-member submission names no one",
		msg: notice("owner-news@lists.example.org", "BOUNCE news@lists.example.org:    Non-member submission from [Joe <joe@example.com>]",
			"From: Joe <joe@example.com>\nTo: news@lists.example.org\nSubject: hi\n\nhello\n"),
		kind: KindNotBounce,
	}, {
		// GNU Mailman 2's bounce action notice to the list owner: the
		// member's bounces are counted by Mailman, its own mail failed
		// nowhere.
		name: "Mailman: bounce action notice to the owner names no one",
		msg: notice("news-bounces@lists.example.org", "News mailing list member bounce action notice",
			"This is a Mailman mailing list bounce action notice:\n\n    List:       News\n    Member:     kim@example.com\n"+
				"    Action:     Subscription disabled.\n    Reason:     Excessive or fatal bounces.\n\n\n\n"+
				"The triggering bounce notice is attached below.\n\nQuestions?\nContact the Mailman site administrator at mailman@lists.example.org.\n"),
		kind: KindNotBounce,
	}, {
		// Mailman's probe to a member whose mail bounced: a message to
		// the member, no failure.
		name: "Mailman: probe message names no one",
		msg: notice("news-bounces+abc@lists.example.org", "News mailing list probe message",
			"This is a probe message.  You can ignore this message.\n\nThe News mailing list has received a number of bounces from you,\n"+
				"indicating that there may be a problem delivering messages to\nlee@example.com.  A sample is attached below.  Please examine this\n"+
				"message to make sure there are no problems with your email address.\nYou may want to check with your mail administrator for more help.\n"),
		kind: KindNotBounce,
	}}
}

func TestOldKinds(t *testing.T) {
	for _, tc := range oldKinds() {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := Parse(strings.NewReader(tc.msg), nil)
			require.NotNil(t, rep)
			assert.Equal(t, tc.kind, rep.Kind)
			var got []string
			for _, r := range rep.Recipients {
				got = append(got, r.FinalRecipient)
			}
			require.Equal(t, tc.recipients, got)
			if len(got) == 0 {
				return
			}
			r := rep.Recipients[0]
			if tc.pos != "" {
				assert.Equal(t, tc.pos, r.Position)
			}
			if tc.status != "" {
				assert.Equal(t, tc.status, r.Status)
			}
			switch tc.command {
			case "":
			case "-":
				assert.Empty(t, r.Command)
			default:
				assert.Equal(t, Command(tc.command), r.Command)
			}
		})
	}
}

// TestOldKindsStatus checks that each recipient of a ZMailer report gets
// the reply to its own RCPT in the session transcript, not the replies to
// the recipients after it.
func TestOldKindsStatus(t *testing.T) {
	for _, tc := range oldKinds() {
		if !strings.HasPrefix(tc.name, "ZMailer: two") {
			continue
		}
		rep, _ := Parse(strings.NewReader(tc.msg), nil)
		require.NotNil(t, rep)
		require.Len(t, rep.Recipients, 2)
		assert.Equal(t, "5.1.1", rep.Recipients[0].Status)
		assert.NotContains(t, rep.Recipients[0].Diagnostic, "Mailbox full")
		assert.Equal(t, "5.2.2", rep.Recipients[1].Status)
	}
}
