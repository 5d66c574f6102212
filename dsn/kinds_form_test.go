package dsn

import (
	"encoding/base64"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// The forms a bounce arrives in, whichever mail system wrote its words:
// forwarded by a person, returned inside another bounce, encoded, in a
// legacy charset, with its report in an odd part. Each must name the same
// recipient, read from the notice's own recipient position, never from
// the returned original or from the person who forwarded it.

// postfixNotice is the text of Postfix's bounce(8) notice for one
// recipient (bounce_notify_util.c, the default bounce template).
const postfixNotice = "This is the mail system at host mx.example.net.\n\n" +
	"I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n" +
	"For further assistance, please send mail to postmaster.\n\n" +
	"If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n" +
	"                   The mail system\n\n" +
	"<ann@example.net>: host mx2.example.net[192.0.2.5] said: 550 5.1.1 <ann@example.net>:\n" +
	"    Recipient address rejected: User unknown in local recipient table (in reply\n    to RCPT TO command)\n"

// postfixReport is Postfix's notice as a multipart/report (RFC 6522)
// sent to paul@corp.example, the sender of the message to ann.
const postfixReport = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: paul@corp.example\n" +
	"Subject: Undelivered Mail Returned to Sender\nDate: Thu, 3 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n" +
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"inner\"\n\n" +
	"--inner\nContent-Type: text/plain\n\n" + postfixNotice +
	"\n--inner\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
	"Final-Recipient: rfc822; ann@example.net\nOriginal-Recipient: rfc822;ann@example.net\nAction: failed\nStatus: 5.1.1\n" +
	"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n" +
	"--inner\nContent-Type: message/rfc822\n\nFrom: paul@corp.example\nTo: ann@example.net\nSubject: hello\n\nhi\n--inner--\n"

// personForward is a message from paul, a person, to the list's bounce
// address, with subject and body.
func personForward(subject, contentType, body string) string {
	return strings.ReplaceAll("From: Paul Person <paul@corp.example>\nTo: bounce@lists.example.org\nSubject: "+subject+
		"\nDate: Thu, 3 Dec 2026 11:00:00 +0000\nMIME-Version: 1.0\nContent-Type: "+contentType+"\n\n"+body, "\n", "\r\n")
}

func TestKindsForwarded(t *testing.T) {
	checkKinds(t, []kindCase{{
		// Gmail's "Forward": the notice inline under its header block,
		// and the original Postfix attached shown as one more
		// forwarded message after it; the cover note names the
		// forwarder's other address.
		name: "forwarded inline by Gmail",
		msg: personForward("Fwd: Undelivered Mail Returned to Sender", "text/plain; charset=UTF-8",
			"FYI, this one bounced. Please remove her. Thanks, Paul (paul.person@corp.example)\n\n"+
				"---------- Forwarded message ---------\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"+
				"Date: Thu, Dec 3, 2026 at 10:00 AM\nSubject: Undelivered Mail Returned to Sender\nTo: <paul@corp.example>\n\n\n"+
				postfixNotice+"\n\n---------- Forwarded message ----------\nFrom: Paul Person <paul@corp.example>\n"+
				"To: other@example.net\nSubject: hello\n\nhi\n"),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Outlook's "Forward": "-----Original Message-----" and its
		// From/Sent/To/Subject block, above an Exchange Online notice;
		// the signature names the forwarder.
		name: "forwarded inline by Outlook",
		msg: personForward("FW: Undeliverable: December news", "text/plain; charset=UTF-8",
			"Please take this one off the list.\n\nPaul Person | Sales | paul@corp.example\n\n"+
				"-----Original Message-----\nFrom: Microsoft Outlook <postmaster@contoso.example>\n"+
				"Sent: Thursday, December 3, 2026 10:00 AM\nTo: Paul Person <paul@corp.example>\nSubject: Undeliverable: December news\n\n"+
				"Delivery has failed to these recipients or groups:\n\nann@contoso.example<mailto:ann@contoso.example>\n"+
				"The email address you entered couldn't be found. Please check the recipient's email address and try to resend the message.\n\n"+
				"Diagnostic information for administrators:\n\nGenerating server: contoso.example\n\n"+
				"ann@contoso.example\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n"),
		kind: KindBounce, recipients: []string{"ann@contoso.example"}, status: "5.1.1",
	}, {
		// Forwarded as an attachment (Thunderbird, Apple Mail, Outlook's
		// "Forward as Attachment"): a free-text notice in a
		// message/rfc822 part, a cover note naming the forwarder.
		name: "forwarded as an attachment, text notice",
		msg: personForward("Fwd: Undelivered Mail Returned to Sender", "multipart/mixed; boundary=\"fw\"",
			"--fw\nContent-Type: text/plain; charset=UTF-8\n\nSee attached bounce. -- Paul <paul.person@corp.example>\n\n"+
				"--fw\nContent-Type: message/rfc822\n\n"+
				"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: paul@corp.example\n"+
				"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\nContent-Type: text/plain\n\n"+
				postfixNotice+"\n--fw--\n"),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "forwarded as an attachment, report",
		msg: personForward("Fwd: Undelivered Mail Returned to Sender", "multipart/mixed; boundary=\"fw\"",
			"--fw\nContent-Type: text/plain; charset=UTF-8\n\nSee attached bounce. -- Paul <paul.person@corp.example>\n\n"+
				"--fw\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"bounce.eml\"\n\n"+
				postfixReport+"\n--fw--\n"),
		kind: KindDSN, recipients: []string{"ann@example.net"}, pos: PositionDSN, status: "5.1.1",
	}, {
		// Outlook's forward in HTML: no marker line, a rule drawn in CSS
		// above the From/Sent/To/Subject block; the signature names the
		// forwarder's other address.
		name: "forwarded in HTML by Outlook",
		msg: personForward("FW: Undeliverable: December news", "text/html; charset=\"us-ascii\"",
			"<html><body><div class=\"WordSection1\"><p class=\"MsoNormal\">Please take this one off.<o:p></o:p></p>\n"+
				"<p class=\"MsoNormal\">Paul Person | paul.person@corp.example<o:p></o:p></p>\n"+
				"<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in\"><p class=\"MsoNormal\">"+
				"<b>From:</b> Microsoft Outlook &lt;postmaster@contoso.example&gt; <br><b>Sent:</b> Thursday, December 3, 2026 10:00 AM<br>"+
				"<b>To:</b> Paul Person &lt;paul@corp.example&gt;<br><b>Subject:</b> Undeliverable: December news<o:p></o:p></p></div>\n"+
				"<p class=\"MsoNormal\">Your message to ann@contoso.example couldn't be delivered.<o:p></o:p></p>\n"+
				"<p>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p>\n"+
				"</div></body></html>\n"),
		kind: KindBounce, recipients: []string{"ann@contoso.example"}, pos: PositionTemplate, status: "5.1.10",
	}, {
		// A forward written as a reply: the notice "> "-quoted under the
		// attribution line of the daemon that wrote it; the cover note
		// above names the forwarder's other address.
		name: "forwarded as a quoted reply",
		msg: personForward("Fwd: Undelivered Mail Returned to Sender", "text/plain; charset=UTF-8",
			"Please remove her. -- Paul, paul.person@corp.example\n\n"+
				"On Thu, Dec 3, 2026 at 10:00 AM Mail Delivery System <MAILER-DAEMON@mx.example.net> wrote:\n> "+
				strings.ReplaceAll(strings.TrimSuffix(postfixNotice, "\n"), "\n", "\n> ")+"\n"),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Netscape's and early Thunderbird's inline forward: "[Fwd: x]"
		// and "-------- Original Message --------" above a tabbed
		// header block.
		name: "forwarded inline by Netscape",
		msg: personForward("[Fwd: Undelivered Mail Returned to Sender]", "text/plain; charset=ISO-8859-1; format=flowed",
			"remove please\n\n-------- Original Message --------\nSubject: \tUndelivered Mail Returned to Sender\n"+
				"Date: \tThu, 3 Dec 2026 10:00:00 +0000 (GMT)\nFrom: \tMAILER-DAEMON@mx.example.net (Mail Delivery System)\n"+
				"To: \tpaul@corp.example\n\n\n\n"+postfixNotice),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Exim returns a report it could not deliver; its notice names
		// the failed address only in X-Failed-Recipients.
		name: "a bounce of a bounce named in X-Failed-Recipients",
		msg: strings.ReplaceAll("From: Mail Delivery System <Mailer-Daemon@relay.example.com>\nTo: news@lists.example.org\n"+
			"Subject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: bob@example.com\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\n"+
			"This message was created automatically by mail delivery software.\n"+
			"A message that you sent could not be delivered to one or more of its recipients.\n\n"+
			"--o\nContent-Type: message/rfc822\n\n"+strings.ReplaceAll(postfixReport, "paul@corp.example", "bob@example.com")+
			"\n--o--\n", "\n", "\r\n"),
		kind: KindBounce, recipients: []string{"bob@example.com"}, pos: PositionXFailedRecipients,
	}, {
		// Forwarded as a file: a mail program that gives an attached
		// message no type of its own ("application/octet-stream;
		// name=x.eml"), base64.
		name: "forwarded as an .eml file",
		msg: personForward("Fwd: Undelivered Mail Returned to Sender", "multipart/mixed; boundary=\"fw\"",
			"--fw\nContent-Type: text/plain\n\nSee attached bounce.\n\n"+
				"--fw\nContent-Type: application/octet-stream; name=\"bounce.eml\"\nContent-Disposition: attachment; filename=\"bounce.eml\"\n"+
				"Content-Transfer-Encoding: base64\n\n"+base64.StdEncoding.EncodeToString([]byte(postfixReport))+"\n--fw--\n"),
		kind: KindDSN, recipients: []string{"ann@example.net"}, pos: PositionDSN, status: "5.1.1",
	}, {
		// A forwarded notice that names no one: the original inside went
		// from the forwarder, or to a forward of theirs; its recipient
		// is no word of the notice's, and no one is named.
		name: "forwarded notice that names no one",
		msg: personForward("Fwd: Undeliverable: hello", "multipart/mixed; boundary=\"fw\"",
			"--fw\nContent-Type: text/plain\n\nfyi\n\n--fw\nContent-Type: message/rfc822\n\n"+
				"From: postmaster@corp.example\nTo: paul@corp.example\nSubject: Undeliverable: hello\nMIME-Version: 1.0\n"+
				"Content-Type: multipart/mixed; boundary=\"in\"\n\n--in\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"+
				"--in\nContent-Type: message/rfc822\n\nFrom: paul@corp.example\nTo: paul.person@home.example\nSubject: hello\n\nhi\n--in--\n--fw--\n"),
		kind: KindBounce, recipients: nil,
	}, {
		// Mailman sends the bounces it cannot read to the list's owner,
		// attached under its own words (Mailman 2's BounceRunner,
		// "Uncaught bounce notification").
		name: "forwarded by Mailman as an uncaught bounce",
		msg: strings.ReplaceAll("From: news-owner@lists.example.org\nTo: news-owner@lists.example.org\n"+
			"Subject: Uncaught bounce notification\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"u\"\n\n"+
			"--u\nContent-Type: text/plain; charset=\"us-ascii\"\n\n"+
			"The attached message was received as a bounce, but either the bounce format\n"+
			"was not recognized, or no member addresses could be extracted from it.  This\n"+
			"mailing list has been configured to send all unrecognized bounce messages to\n"+
			"the list administrator(s).\n\nFor more information see:\nhttps://lists.example.org/mailman/admin/news/bounce\n\n"+
			"--u\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"+
			"To: news-bounces@lists.example.org\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain\n\n"+postfixNotice+"\n--u--\n", "\n", "\r\n"),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// A notice that names no failed recipient, only its help desk,
		// around a report it returns: the report relayed, read as the
		// report (testdata/report-in-rfc822.eml).
		name: "a returned report under a notice that names only its help desk",
		msg: strings.ReplaceAll("From: Mail Delivery System <Mailer-Daemon@relay.example.com>\nTo: news@lists.example.org\n"+
			"Subject: Mail delivery failed: returning message to sender\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\n"+
			"A message that you sent could not be delivered to one or more of its recipients.\n"+
			"For help, contact helpdesk@relay.example.com.\n\n"+
			"--o\nContent-Type: message/rfc822\n\n"+strings.ReplaceAll(postfixReport, "paul@corp.example", "bob@example.com")+
			"\n--o--\n", "\n", "\r\n"),
		kind: KindDSN, recipients: []string{"ann@example.net"}, pos: PositionDSN,
	}, {
		// A bounce of a bounce: qmail could not deliver a notice (a
		// Postfix report about ann) to bob, and returns it whole. Bob
		// failed; ann is in the returned original, which is data.
		name: "a bounce of a bounce",
		msg: strings.ReplaceAll("From: MAILER-DAEMON@relay.example.com\nTo: news@lists.example.org\nSubject: failure notice\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\n"+
			"Hi. This is the qmail-send program at relay.example.com.\n"+
			"I'm afraid I wasn't able to deliver your message to the following addresses.\n"+
			"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"+
			"<bob@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"+
			"--o\nContent-Type: message/rfc822\n\n"+strings.ReplaceAll(postfixReport, "paul@corp.example", "bob@example.com")+
			"\n--o--\n", "\n", "\r\n"),
		kind: KindBounce, recipients: []string{"bob@example.com"}, pos: PositionTemplate, status: "5.1.1",
	}})
}

func TestKindsEmbeddedUnicode(t *testing.T) {
	checkKinds(t, []kindCase{{
		// RFC 6533 section 3: in a message/delivery-status part, which is
		// US-ASCII, the utf-8 address type writes each non-ASCII
		// character as "\x{HEX}" (Postfix with smtputf8_enable, when it
		// downgrades its report). Read whole, never as its ASCII tail.
		name: "utf-8 address type with embedded code points",
		msg: report("", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Original-Recipient: utf-8; j\\x{F6}rg@example.com\nFinal-Recipient: utf-8; j\\x{F6}rg@example.com\n"+
			"Action: failed\nStatus: 5.1.1\n"),
		kind: KindDSN, recipients: []string{"jörg@example.com"}, pos: PositionDSN, original: "jörg@example.com",
	}, {
		name: "utf-8 address type, IDN domain",
		msg: report("", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: utf-8; ann@b\\x{FC}cher.example\nAction: failed\nStatus: 5.1.1\n"),
		kind: KindDSN, recipients: []string{"ann@bücher.example"}, pos: PositionDSN,
	}, {
		// A sequence that is no code point leaves no address: its tail
		// ("x{ZZ}rg@example.com") would be someone else's.
		name: "broken embedded code point",
		msg: report("", "Reporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: utf-8; j\\x{ZZ}rg@example.com\nAction: failed\nStatus: 5.1.1\n"),
		kind: KindDSN, recipients: nil,
	}})
}

func TestKindsQuotes(t *testing.T) {
	checkKinds(t, []kindCase{{
		// Exchange 2003's list of failed recipients, after Outlook's
		// AutoCorrect put curly quotes around the address: alone on its
		// line under the heading, as with straight quotes.
		name: "curly quotes around a listed address",
		msg: notice("postmaster@corp.example", "Undeliverable: December news",
			"Delivery has failed to these recipients or groups:\n\n“ann@corp.example” \n"+
				"The e-mail address you entered couldn't be found.\n"),
		kind: KindBounce, recipients: []string{"ann@corp.example"}, pos: PositionTemplate,
	}, {
		name: "German low-high quotes",
		msg: notice("MAILER-DAEMON@mx.example.de", "Unzustellbar: December news",
			"Ihre Nachricht konnte an folgende Empfänger nicht zugestellt werden:\n\n„ann@example.de“\n"+
				"Unbekannter Empfänger (550 5.1.1)\n"),
		kind: KindBounce, recipients: []string{"ann@example.de"}, pos: PositionTemplate, status: "5.1.1",
	}})
}

// TestSameAnswerEncoded checks that one notice gives the same recipient,
// status and diagnostic however its bytes arrive: in UTF-8 or
// windows-1252, labelled rightly, wrongly (UTF-8, ISO-8859-1, which
// Outlook writes for windows-1252) or not at all, in quoted-printable or
// base64, with CRLF or LF line ends (RFC 2045 section 6).
func TestSameAnswerEncoded(t *testing.T) {
	const text = "Dies ist das Mailsystem auf dem Rechner mx.example.de.\n\n" +
		"Ihre Nachricht konnte leider nicht zugestellt werden. Die Empfängeradresse „ann@example.de“ ist unbekannt.\n\n" +
		"<ann@example.de>: Benutzer unbekannt – 550 5.1.1 Größe\n"
	cp, err := charmap.Windows1252.NewEncoder().String(text)
	require.NoError(t, err)
	msg := func(ct, cte, body string, crlf bool) string {
		m := "From: MAILER-DAEMON@mx.example.de\nTo: news@lists.example.org\nSubject: Unzustellbar: December news\n" +
			"MIME-Version: 1.0\nContent-Type: " + ct + "\n"
		if cte != "" {
			m += "Content-Transfer-Encoding: " + cte + "\n"
		}
		m += "\n" + body
		if crlf {
			m = strings.ReplaceAll(m, "\n", "\r\n")
		}
		return m
	}
	qp := func(s string) string {
		var b strings.Builder
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return strings.ReplaceAll(b.String(), "\r\n", "\n") // msg sets the line ends
	}
	b64 := func(s string, crlf bool) string {
		if crlf {
			s = strings.ReplaceAll(s, "\n", "\r\n")
		}
		e := base64.StdEncoding.EncodeToString([]byte(s))
		var b strings.Builder
		for len(e) > 76 {
			b.WriteString(e[:76] + "\n")
			e = e[76:]
		}
		return b.String() + e + "\n"
	}
	tests := []struct{ name, msg string }{
		{"UTF-8, 8bit", msg("text/plain; charset=utf-8", "8bit", text, true)},
		{"windows-1252", msg("text/plain; charset=windows-1252", "8bit", cp, true)},
		{"windows-1252 labelled ISO-8859-1", msg("text/plain; charset=iso-8859-1", "8bit", cp, true)},
		{"windows-1252 labelled UTF-8", msg("text/plain; charset=utf-8", "8bit", cp, false)},
		{"windows-1252 unlabelled", msg("text/plain", "", cp, true)},
		{"UTF-8, quoted-printable, LF", msg("text/plain; charset=UTF-8", "quoted-printable", qp(text), false)},
		{"UTF-8, quoted-printable, CRLF", msg("text/plain; charset=UTF-8", "quoted-printable", qp(text), true)},
		{"UTF-8, base64 of CRLF text", msg("text/plain; charset=\"utf-8\"", "base64", b64(text, true), true)},
		{"UTF-8, base64 of LF text", msg("text/plain; charset=utf-8", "Base64", b64(text, false), false)},
		{"windows-1252, quoted-printable", msg("text/plain; charset=ISO-8859-1", "quoted-printable", qp(cp), true)},
		{"UTF-8 labelled ISO-8859-1", msg("text/plain; charset=iso-8859-1", "8bit", text, true)},
	}
	var want *Recipient
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _ := Parse(strings.NewReader(tt.msg), nil)
			require.Len(t, rep.Recipients, 1)
			r := rep.Recipients[0]
			assert.Equal(t, "ann@example.de", r.FinalRecipient)
			assert.Equal(t, "5.1.1", r.Status)
			assert.Contains(t, r.Diagnostic, "Empfängeradresse „ann@example.de“")
			if want == nil {
				want = &r
				return
			}
			assert.Equal(t, want.Diagnostic, r.Diagnostic)
			assert.Equal(t, want.Position, r.Position)
		})
	}
}

func TestKindsReportAttached(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("Reporting-MTA: dns;mail.corp.example\r\n\r\n" +
		"Final-Recipient: rfc822;ann@corp.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
	mixed := func(part string) string {
		return "From: postmaster@corp.example\r\nTo: news@lists.example.org\r\nSubject: Undeliverable: December news\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
			"--m\r\nContent-Type: text/plain\r\n\r\nYour message did not reach some or all of the intended recipients.\r\n" +
			"--m\r\n" + part + "\r\n" + b64 + "\r\n" +
			"--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@lists.example.org\r\nTo: other@example.net\r\nSubject: news\r\n\r\nhi\r\n--m--\r\n"
	}
	checkKinds(t, []kindCase{{
		// Exchange names a part it cannot name otherwise ATT00001.txt
		// (Microsoft KB Q146263): here the report, as a text attachment.
		// The returned original's only recipient is no evidence.
		name: "report in ATT00001.txt",
		msg: mixed("Content-Type: text/plain; name=\"ATT00001.txt\"\r\nContent-Disposition: attachment; filename=\"ATT00001.txt\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n"),
		kind: KindDSN, recipients: []string{"ann@corp.example"}, pos: PositionDSN, status: "5.1.1",
	}, {
		name: "report in an octet-stream named noname",
		msg: mixed("Content-Type: application/octet-stream; name=\"noname\"\r\nContent-Disposition: attachment; filename=\"noname\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n"),
		kind: KindDSN, recipients: []string{"ann@corp.example"}, pos: PositionDSN, status: "5.1.1",
	}})
}

func TestKindsHTML(t *testing.T) {
	const html = "<html><body><p><b>Your message to ann@contoso.example couldn't be delivered.</b></p>\n" +
		"<p>ann wasn't found at contoso.example.</p>\n<p>Diagnostic information for administrators:</p>\n" +
		"<p>Generating server: AM0PR01MB1234.prod.example<br><br>ann@contoso.example<br>" +
		"Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p></body></html>\n"
	checkKinds(t, []kindCase{{
		// Office 365's NDR as multipart/alternative whose text part is a
		// stub and whose HTML part holds the notice; the returned
		// original's only recipient is no evidence.
		name: "a stub text part and the notice in HTML",
		msg: strings.ReplaceAll("From: Microsoft Outlook <postmaster@contoso.example>\nTo: news@lists.example.org\n"+
			"Subject: Undeliverable: December news\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n"+
			"--m\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n"+
			"--alt\nContent-Type: text/plain; charset=us-ascii\n\nDelivery has failed. See the HTML part for details.\n\n"+
			"--alt\nContent-Type: text/html; charset=us-ascii\n\n"+html+"\n--alt--\n\n"+
			"--m\nContent-Type: message/rfc822\n\nFrom: news@lists.example.org\nTo: other@contoso.example\nSubject: news\n\nhi\n--m--\n",
			"\n", "\r\n"),
		kind: KindBounce, recipients: []string{"ann@contoso.example"}, pos: PositionTemplate, status: "5.1.10",
	}, {
		// An HTML notice that escapes "@" and "." as numeric character
		// references (HTML 4.01 section 5.3.1), decimal or hexadecimal.
		name: "numeric character references in an HTML notice",
		msg: strings.ReplaceAll("From: Mail Delivery Subsystem <mailer-daemon@mx.example.com>\nTo: news@lists.example.org\n"+
			"Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n"+
			"<html><body>Delivery to the following recipient failed permanently:<br><br>&nbsp;&nbsp;&nbsp;&nbsp; "+
			"<a href=\"mailto:ann&#x40;example.net\">ann&#x40;example&#46;net</a><br><br>Technical details of permanent failure:<br>"+
			"550 5.1.1 The email account that you tried to reach does not exist.</body></html>\n", "\n", "\r\n"),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}})
}

func TestKindsNameAddr(t *testing.T) {
	checkKinds(t, []kindCase{{
		// A list of failed recipients written as name-addrs (RFC 5322
		// section 3.4) with a quoted or encoded (RFC 2047) display name,
		// and as an addr-spec with a comment: each is an item of the
		// list. A signature's bare words before an address are not a
		// display name.
		name: "quoted and encoded display names in a list",
		msg: notice("MAILER-DAEMON@mx.example.net", "Mail delivery failed: returning message to sender",
			"A message that you sent could not be delivered to one or more of its\n"+
				"recipients. This is a permanent error. The following address(es) failed:\n\n"+
				"  \"Example, Ann\" <ann@example.net>\n    550 5.1.1 unknown user\n"+
				"  bob@example.net (Bob Example)\n    550 5.2.2 mailbox full\n"+
				"  =?utf-8?q?J=C3=B6rg_Example?= <jorg@example.net>\n    550 5.1.1 unknown user\n\n"+
				"The Mail Team <mailteam@example.net>\n"),
		kind: KindBounce, recipients: []string{"ann@example.net", "bob@example.net", "jorg@example.net"}, pos: PositionTemplate, status: "5.1.1",
	}})
}

// TestSameAnswerJapanese checks a Japanese notice in ISO-2022-JP, labelled
// rightly, as UTF-8 (its escapes are ASCII), or not at all (RFC 1468).
func TestSameAnswerJapanese(t *testing.T) {
	const text = "次のアドレスへの配信に失敗しました。\n\n<ann@example.jp>: ユーザーが見つかりません (550 5.1.1 User unknown)\n"
	jis, err := japanese.ISO2022JP.NewEncoder().String(text)
	require.NoError(t, err)
	for _, cs := range []string{"; charset=ISO-2022-JP", "; charset=utf-8", ""} {
		t.Run("text/plain"+cs, func(t *testing.T) {
			msg := "From: MAILER-DAEMON@mx.example.jp\r\nTo: news@lists.example.org\r\nSubject: Returned mail\r\n" +
				"MIME-Version: 1.0\r\nContent-Type: text/plain" + cs + "\r\n\r\n" + strings.ReplaceAll(jis, "\n", "\r\n")
			rep, _ := Parse(strings.NewReader(msg), nil)
			require.Len(t, rep.Recipients, 1)
			assert.Equal(t, "ann@example.jp", rep.Recipients[0].FinalRecipient)
			assert.Contains(t, rep.Recipients[0].Diagnostic, "ユーザーが見つかりません")
		})
	}
}

// TestOriginalNotice checks that the returned original, when it is itself
// a notice, gives no recipient of last resort: its To is the sender of
// another message.
func TestOriginalNotice(t *testing.T) {
	msg := strings.ReplaceAll("From: MAILER-DAEMON@relay.example.com\nTo: news@lists.example.org\nSubject: failure notice\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\n"+
		"Your message could not be delivered.\n\n--o\nContent-Type: message/rfc822\n\n"+
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: bob@example.com\nSubject: Undelivered Mail Returned to Sender\n\n"+
		"The mail system could not deliver a message.\n--o--\n", "\n", "\r\n")
	rep, _ := Parse(strings.NewReader(msg), nil)
	assert.Equal(t, KindBounce, rep.Kind)
	assert.Empty(t, rep.Recipients)
}

// TestSameAnswerCyrillic checks a Russian notice in KOI8-R or
// windows-1251 whose text declares no charset: the charset of the
// subject's encoded word (RFC 2047) is the text's.
func TestSameAnswerCyrillic(t *testing.T) {
	const text = "Ваше сообщение не может быть доставлено.\n\n<ann@example.ru>: пользователь не найден\n"
	for _, tt := range []struct {
		name string
		enc  *charmap.Charmap
	}{{"koi8-r", charmap.KOI8R}, {"windows-1251", charmap.Windows1251}} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := tt.enc.NewEncoder().String(text)
			require.NoError(t, err)
			subj, err := tt.enc.NewEncoder().String("Сообщение не доставлено")
			require.NoError(t, err)
			msg := "From: MAILER-DAEMON@mx.example.ru\r\nTo: news@lists.example.org\r\n" +
				"Subject: =?" + tt.name + "?B?" + base64.StdEncoding.EncodeToString([]byte(subj)) + "?=\r\n" +
				"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
				strings.ReplaceAll(body, "\n", "\r\n")
			rep, _ := Parse(strings.NewReader(msg), nil)
			require.Len(t, rep.Recipients, 1)
			assert.Equal(t, "ann@example.ru", rep.Recipients[0].FinalRecipient)
			assert.Contains(t, rep.Recipients[0].Diagnostic, "пользователь не найден")
		})
	}
}
