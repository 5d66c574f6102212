package dsn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// autoCase is a message that reaches a bounce mailbox and reports no hard
// failure, with the kind, recipients and action the parser must find.
type autoCase struct {
	name       string
	msg        string
	kind       Kind
	recipients []string
	actions    []Action // of the recipients in order, when set
}

// textMessage returns a plain-text message from from, with the extra
// header fields extra (each ending in "\n") and body.
func textMessage(from, subject, extra, body string) string {
	return strings.ReplaceAll("From: "+from+"\nTo: bounce@lists.example.org\nSubject: "+subject+"\n"+extra+
		"Date: Thu, 3 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"+body, "\n", "\r\n")
}

// Delay warnings, each from its MTA's template, written for people only
// (no delivery-status part: a forwarder stripped it, or the MTA sends
// none). The notice says once, for all its recipients, that delivery is
// still being retried.
var (
	// Postfix's delay_template (src/bounce/bounce_template.c).
	postfixDelayText = "This is the mail system at host mx.example.org.\n\n" +
		"####################################################################\n" +
		"# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n" +
		"####################################################################\n\n" +
		"Your message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n" +
		"For further assistance, please send mail to postmaster.\n\n" +
		"If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n" +
		"                   The mail system\n\n" +
		"<ann@example.net>: connect to mx.example.net[192.0.2.25]:25: Connection timed out\n"
	// Sendmail's warning (sendmail/savemail.c, "Warning: could not send
	// message for past %s"), as old Sendmail sent it without a report.
	sendmailWarningText = "The original message was received at Thu, 3 Dec 2026 05:00:00 +0000\nfrom lists.example.org [192.0.2.10]\n\n" +
		"    **********************************************\n" +
		"    **      THIS IS A WARNING MESSAGE ONLY      **\n" +
		"    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n" +
		"    **********************************************\n\n" +
		"   ----- Transcript of session follows -----\n" +
		"<ann@example.net>... Deferred: Connection timed out with mx.example.net.\n" +
		"Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n\n" +
		"   ----- Original message follows -----\n" + returned("ann@example.net")
	// Exim's default delay warning (src/deliver.c, used when no
	// warn_message_file is set), for an address with no host tried yet.
	eximWarningText = "This message was created automatically by mail delivery software.\n" +
		"A message that you sent has not yet been delivered to one or more of its\n" +
		"recipients after more than 24 hours on the queue on mx.example.org.\n\n" +
		"The message identifier is:     1kXyZa-0001Ab-Cd\nThe subject of the message is: news\n" +
		"The date of the message is:    Wed, 02 Dec 2026 10:00:00 +0000\n\n" +
		"The address to which the message has not yet been delivered is:\n\n" +
		"  ann@example.net\n    Delay reason: retry timeout not reached\n\n" +
		"No action is required on your part. Delivery attempts will continue for\n" +
		"some time, and this warning may be repeated at intervals if the message\n" +
		"remains undelivered. Eventually the mail delivery software will give up,\n" +
		"and when that happens, the message will be returned to you.\n"
	// Gmail's delay notice (the text of "Delivery Status Notification
	// (Delay)") and Windows SMTP Service's (IIS).
	gmailDelayText = "This is an automatically generated Delivery Status Notification\n\n" +
		"THIS IS A WARNING MESSAGE ONLY.\n\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\n" +
		"Delivery to the following recipient has been delayed:\n\n     ann@example.net\n\n" +
		"Message will be retried for 2 more day(s)\n\nTechnical details of temporary failure:\n" +
		"The recipient server did not accept our requests to connect.\n[mx.example.net. (10): Connection timed out]\n\n" +
		"----- Original message -----\n\n" + returned("ann@example.net")
	iisDelayText = "This is an automatically generated Delivery Status Notification.\n\n" +
		"THIS IS A WARNING MESSAGE ONLY.\n\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\n" +
		"Delivery to the following recipients has been delayed.\n\n       ann@example.net\n"
)

func autoKinds() []autoCase {
	return []autoCase{{
		name:       "Postfix delay warning without a report part",
		msg:        textMessage("MAILER-DAEMON@mx.example.org (Mail Delivery System)", "Delayed Mail (still being retried)", "Auto-Submitted: auto-replied\n", postfixDelayText),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		name:       "Sendmail warning without a report part",
		msg:        textMessage("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Warning: could not send message for past 4 hours", "", sendmailWarningText),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		name:       "Exim delay warning with no reply code",
		msg:        textMessage("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Warning: message 1kXyZa-0001Ab-Cd delayed 24 hours", "Auto-Submitted: auto-replied\n", eximWarningText),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		name:       "Gmail delay notice",
		msg:        textMessage("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Delay)", "", gmailDelayText),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		name:       "Windows SMTP Service delay notice without a report part",
		msg:        textMessage("postmaster@smtp.example.org", "Delivery Status Notification (Delay)", "", iisDelayText),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		// OpenSMTPD's bounce.c: NOTICE_INTRO, then notice_warning and
		// notice_warning2 (a notice with no delivery-status part).
		name: "OpenSMTPD delay warning",
		msg: textMessage("Mailer Daemon <MAILER-DAEMON@mx.example.org>", "Delivery status notification: Warning", "",
			"    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"+
				"    A message is delayed for more than 4 hours for the following\n    list of recipients:\n\n"+
				"ann@example.net: Network error on destination MXs\n\n"+
				"    Please note that this is only a temporary failure report.\n"+
				"    The message is kept in the queue for up to 4 days.\n"+
				"    You DO NOT NEED to re-send the message to these recipients.\n\n"+
				"    Below is a copy of the original message:\n\n"+returned("ann@example.net")),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelayed},
	}, {
		// OpenSMTPD's bounce.c, notice_success.
		name: "OpenSMTPD success notice",
		msg: textMessage("Mailer Daemon <MAILER-DAEMON@mx.example.org>", "Delivery status notification: Success", "",
			"    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"+
				"    Your message was successfully delivered to these recipients.\n\n"+
				"ann@example.net: delivered\n\n"+
				"    Below is a copy of the original message:\n\n"+returned("ann@example.net")),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelivered},
	}, {
		// qmail-send.c appends "I'm not going to try again; this message
		// has been in the queue too long." to the last temporary error:
		// qmail has given up, which is a failure, not a delay.
		name: "qmail: not going to try again is a failure",
		msg: textMessage("MAILER-DAEMON@mx.example.org", "failure notice", "",
			"Hi. This is the qmail-send program at mx.example.org.\n"+
				"I'm afraid I wasn't able to deliver your message to the following addresses.\n"+
				"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"+
				"<ann@example.net>:\nSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"+
				"I'm not going to try again; this message has been in the queue too long.\n\n"+
				"--- Below this line is a copy of the message.\n\n"+returned("ann@example.net")),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionFailed},
	}, {
		// Sendmail's notice (savemail.c, errbody) lists the failed
		// recipients under "The following addresses had permanent fatal
		// errors", those still queued under "… had transient non-fatal
		// errors".
		name: "Sendmail: a failure and a delay in one notice",
		msg: textMessage("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Returned mail: see transcript for details", "",
			"The original message was received at Thu, 3 Dec 2026 05:00:00 +0000\nfrom lists.example.org [192.0.2.10]\n\n"+
				"   ----- The following addresses had permanent fatal errors -----\n<bob@example.net>\n"+
				"    (reason: 550 5.1.1 <bob@example.net>... User unknown)\n\n"+
				"   ----- The following addresses had transient non-fatal errors -----\n<ann@example.net>\n\n"+
				"   ----- Transcript of session follows -----\n... while talking to mx.example.net.:\n"+
				">>> RCPT To:<bob@example.net>\n<<< 550 5.1.1 <bob@example.net>... User unknown\n"+
				"550 5.1.1 <bob@example.net>... User unknown\n>>> RCPT To:<ann@example.net>\n"+
				"<<< 452 4.2.2 <ann@example.net>... Mailbox full\n"+
				"<ann@example.net>... Deferred: 452 4.2.2 <ann@example.net>... Mailbox full\n"),
		kind:       KindBounce,
		recipients: []string{"bob@example.net", "ann@example.net"}, actions: []Action{ActionFailed, ActionDelayed},
	}, {
		// Courier writes one section per outcome, each under its
		// template's heading (module.dsn: dsnfailed.txt "UNDELIVERABLE
		// MAIL", dsndelayed.txt "DELAYS IN DELIVERING YOUR MESSAGE"), here
		// without the delivery-status part.
		name: "Courier: a failure and a delay in one notice",
		msg: textMessage("postmaster@mx.example.org", "NOTICE: mail delivery status.", "",
			"This is a delivery status notification from mx.example.org,\nrunning the Courier mail server, version 1.1.\n\n"+
				"The original message was received on Thu, 3 Dec 2026 05:00:00 +0000\nfrom lists.example.org [192.0.2.10]\n\n"+
				"---------------------------------------------------------------------------\n\n"+
				"                           UNDELIVERABLE MAIL\n\n"+
				"Your message to the following recipients cannot be delivered:\n\n"+
				"<bob@example.net>:\n    mx.example.net [192.0.2.25]:\n>>> RCPT TO:<bob@example.net>\n<<< 550 5.1.1 <bob@example.net>... User Unknown\n\n"+
				"---------------------------------------------------------------------------\n\n"+
				"                     DELAYS IN DELIVERING YOUR MESSAGE\n\n"+
				"The delivery of the following E-mail message has been delayed.  This is an\n"+
				"advisory notice only; it is sent only to notify you about a temporary delay\n"+
				"in delivering your message.  You DO NOT need to do anything at this time.\n"+
				"Additional attempts to deliver your message will be made.\n\n"+
				"<ann@example.net>:\n    mx.example.net [192.0.2.25]:\n    Connection timed out\n"),
		kind:       KindBounce,
		recipients: []string{"bob@example.net", "ann@example.net"}, actions: []Action{ActionFailed, ActionDelayed},
	}, {
		// Postfix's success_template (bounce_template.c, "Successful Mail
		// Delivery Report"), its report part stripped.
		name: "Postfix success notice without a report part",
		msg: textMessage("MAILER-DAEMON@mx.example.org (Mail Delivery System)", "Successful Mail Delivery Report", "Auto-Submitted: auto-replied\n",
			"This is the mail system at host mx.example.org.\n\n"+
				"Your message was successfully delivered to the destination(s)\n"+
				"listed below. If the message was delivered to mailbox you will\n"+
				"receive no further notifications. Otherwise you may still receive\n"+
				"notifications of mail delivery errors from other systems.\n\n"+
				"                   The mail system\n\n"+
				"<ann@example.net>: delivery via mx.example.net[192.0.2.25]:25: 250 2.0.0 Ok:\n    queued as 4XYZ\n"),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelivered},
	}, {
		// Sendmail's return receipt (savemail.c: "The following addresses
		// had successful delivery notifications"), without its report.
		name: "Sendmail return receipt without a report part",
		msg: textMessage("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Return receipt", "",
			"The original message was received at Thu, 3 Dec 2026 05:00:00 +0000\nfrom lists.example.org [192.0.2.10]\n\n"+
				"   ----- The following addresses had successful delivery notifications -----\n"+
				"<ann@example.net>  (relayed to non-DSN-aware mailer)\n\n"+
				"   ----- Transcript of session follows -----\n<ann@example.net>... relayed; expect no further notifications\n"),
		kind:       KindBounce,
		recipients: []string{"ann@example.net"}, actions: []Action{ActionDelivered},
	}, {
		// Exchange's out-of-office reply ("Automatic reply: <subject>",
		// sent from the null sender, X-Auto-Response-Suppress: All),
		// answering a list message whose subject holds bounce words: the
		// note's own words ("not forwarded", "was not delivered to my
		// colleagues") and the address it names make no bounce.
		name: "Exchange automatic reply with bounce words",
		msg: "Return-Path: <>\r\n" + textMessage("Bob Jones <bob@example.com>", "Automatic reply: Returned mail policy update",
			"Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: bob@example.com\n",
			"I am on leave until 10 December. Emails sent to this address are not forwarded:\n"+
				"the message was not delivered to my colleagues; please resend to team@example.com.\n"),
		kind:       KindAutoReply,
		recipients: []string{"bob@example.com"}, actions: []Action{ActionAutoReply},
	}, {
		// RFC 3834 section 5: an auto-responder of a role address marks
		// its replies; "Auto:" opens the subject.
		name: "a role address's auto-responder",
		msg: textMessage("postmaster@example.com", "Auto: Returned items", "Auto-Submitted: auto-replied\n",
			"Thank you for writing to the postmaster. This mailbox is not monitored during the holidays.\n"),
		kind:       KindAutoReply,
		recipients: []string{"postmaster@example.com"}, actions: []Action{ActionAutoReply},
	}, {
		// Mailman 2.1's Hold.py ("Your message to %(listname)s awaits
		// moderator approval", sent from the list's -bounces address) and
		// its postheld.txt: held for a non-member, not refused.
		name: "Mailman: a post held for moderation",
		msg: textMessage("news-list-bounces@lists.example.com", "Your message to News-list awaits moderator approval",
			"X-Mailman-Version: 2.1.39\nX-List-Administrivia: yes\nPrecedence: bulk\nList-Id: <news-list.lists.example.com>\n",
			"Your mail to 'News-list' with the subject\n\n    news\n\n"+
				"Is being held until the list moderator can review it for approval.\n\n"+
				"The reason it is being held:\n\n    Post by non-member to a members-only list\n\n"+
				"Either the message will get posted to the list, or you will receive\n"+
				"notification of the moderator's decision.  If you would like to cancel\n"+
				"this posting, please visit the following URL:\n\n"+
				"    http://lists.example.com/mailman/confirm/news-list/0123456789abcdef\n"),
		kind: KindNotBounce,
	}, {
		// TMDA's confirm_request.txt, with the fields TMDA's AutoResponse
		// adds (Precedence: bulk, Auto-Submitted: auto-replied,
		// X-Delivery-Agent).
		name: "TMDA confirmation request",
		msg: textMessage("ann@example.net", "Please confirm your message",
			"Reply-To: ann-confirm-accept.1733220000.12345.abcdef@example.net\nPrecedence: bulk\nAuto-Submitted: auto-replied\nX-Delivery-Agent: TMDA/1.1.12 (Macallan)\n",
			"Your e-mail message with the subject of \"news\"\nwas not delivered because your address was not recognized.\n\n"+
				"To release your message for delivery, please send an empty message\n"+
				"to the following address, or use your mailer's \"Reply\" feature.\n\n"+
				"<mailto:ann-confirm-accept.1733220000.12345.abcdef@example.net>\n\n"+
				"This confirmation verifies that your message is legitimate and not\njunk-mail.\n\n"+
				"[ This message was generated by TMDA v1.1.12 http://tmda.net/,\n  an automated junk-mail reduction system. ]\n\n"+
				"--- Below this line is a copy of your message.\n\n"+returned("ann@example.net")),
		kind: KindChallenge,
	}, {
		name: "a challenge asking to verify you are human",
		msg: textMessage("ann@example.net", "Re: news", "Auto-Submitted: auto-replied\n",
			"Your message to ann@example.net has been held.\n"+
				"Please verify you are human by clicking the link below, and your message will be delivered.\n\n"+
				"https://verify.example.net/c/abc\n"),
		kind: KindChallenge,
	}, {
		// RFC 8098 section 3: a message disposition notification (a read
		// receipt) names the recipient in Final-Recipient, as a DSN does,
		// and reports no failure.
		name: "RFC 8098 read receipt",
		msg: strings.ReplaceAll("From: Ann <ann@example.net>\nTo: bounce@lists.example.org\nSubject: Read: news\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"M\"\n\n"+
			"--M\nContent-Type: text/plain\n\nThe message sent to ann@example.net with subject \"news\" has been displayed.\n\n"+
			"--M\nContent-Type: message/disposition-notification\n\nReporting-UA: mua.example.net; Example Mail 2.0\n"+
			"Original-Recipient: rfc822;ann@example.net\nFinal-Recipient: rfc822;ann@example.net\n"+
			"Original-Message-ID: <n1@lists.example.org>\nDisposition: manual-action/MDN-sent-manually; displayed\n\n"+
			"--M\nContent-Type: text/rfc822-headers\n\n"+returned("ann@example.net")+"\n--M--\n", "\n", "\r\n"),
		kind: KindNotBounce,
	}}
}

func TestAutoKinds(t *testing.T) {
	for _, tc := range autoKinds() {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := Parse(strings.NewReader(tc.msg), nil)
			require.NotNil(t, rep)
			assert.Equal(t, tc.kind, rep.Kind)
			if tc.kind == KindChallenge || tc.kind == KindNotBounce {
				return // who sent it is data, not a failure
			}
			var got []string
			var actions []Action
			for _, r := range rep.Recipients {
				got = append(got, r.FinalRecipient)
				actions = append(actions, r.Action)
			}
			require.Equal(t, tc.recipients, got)
			if tc.actions != nil {
				assert.Equal(t, tc.actions, actions, "the actions of %v", got)
			}
		})
	}
}
