package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kindNotice returns a plain-text notice from a mail daemon with the extra
// header fields extra (each ending in "\n") and body.
func kindNotice(from, subject, extra, body string) string {
	return strings.ReplaceAll("From: "+from+"\nTo: news@lists.example.org\nSubject: "+subject+
		"\nDate: Thu, 3 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n"+extra+
		"Content-Type: text/plain; charset=us-ascii\n\n"+body, "\n", "\r\n")
}

// kindReport returns a multipart/report (RFC 3464) from the daemon of
// host, with the extra header fields extra, the notice text and one
// per-recipient block fields (lines ending in "\n").
func kindReport(host, extra, text, fields string) string {
	return strings.ReplaceAll("From: Mail Delivery Subsystem <MAILER-DAEMON@"+host+">\n"+
		"To: news@lists.example.org\nSubject: Returned mail: see transcript for details\n"+extra+
		"Date: Thu, 3 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"+
		"--b\nContent-Type: text/plain\n\n"+text+"\n"+
		"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; "+host+"\n\n"+fields+
		"\n--b\nContent-Type: text/rfc822-headers\n\nFrom: news@lists.example.org\nSubject: news\n\n--b--\n", "\n", "\r\n")
}

// TestKindsThroughParser sends a message written for each kind of notice
// whose reason depends on more than a diagnostic line through the real
// parser, and classifies its one recipient as the pipeline does.
func TestKindsThroughParser(t *testing.T) {
	checkThroughParser(t, []parserCase{{
		// au (KDDI) marks the notices of its filter with "X-SPASIGN: NG":
		// the recipient's own settings refused the sender (the domain or
		// address filter of an au phone), and the notice says no more.
		name: "au: the filter's notice marked X-SPASIGN NG",
		msg: kindNotice("<Postmaster@ezweb.example>", "Mail System Error - Returned Mail", "X-SPASIGN: NG\n",
			"<ann@ezweb.example>\n\nEach of the following recipients was rejected by a remote mail server.\n"),
		recipient: "ann@ezweb.example", want: ReasonFiltered,
	}, {
		name: "au: the same notice without the mark tells nothing",
		msg: kindNotice("<Postmaster@ezweb.example>", "Mail System Error - Returned Mail", "",
			"<ann@ezweb.example>\n\nEach of the following recipients was rejected by a remote mail server.\n"),
		recipient: "ann@ezweb.example", want: ReasonUndefined,
	}, {
		name: "au: a report marked X-SPASIGN NG with a bare 5.0.0",
		msg: kindReport("mx.ezweb.example", "X-SPASIGN: NG\n", "Your message could not be delivered.\n",
			"Final-Recipient: rfc822; ann@ezweb.example\nAction: failed\nStatus: 5.0.0\n"),
		recipient: "ann@ezweb.example", want: ReasonFiltered,
	}, {
		name: "au: the mark does not overrule a reply that says the mailbox is full",
		msg: kindReport("mx.ezweb.example", "X-SPASIGN: NG\n", "The user(s) account is temporarily over quota.\n",
			"Final-Recipient: rfc822; ann@ezweb.example\nAction: failed\nStatus: 5.0.0\n"+
				"Diagnostic-Code: smtp; 552 mailbox full\n"),
		recipient: "ann@ezweb.example", want: ReasonMailboxFull,
	}, {
		// A directory (ph) gateway quotes the original after "Original
		// message as received is as follows:" and a rule; the quoted
		// lines are data, and the notice's telephone number no code.
		name: "directory gateway: the quoted original is no evidence",
		msg: kindNotice("postmaster@corp.example", "Returned mail", "",
			"The address to which your message was addressed, lee@corp.example, did not match a directory entry.\n\n"+
				"The following locator information may help: Lee Smith +1 925-550-5635\n\n"+
				"Original message as received is as follows:\n"+
				"========================================================================\n"+
				">Received: from lists.example.org by mx.corp.example\n>From: news@lists.example.org\n"+
				">Subject: Your mailbox is full\n>\n>552 5.2.2 over quota, says the quoted text\n"),
		recipient: "lee@corp.example", want: ReasonUndefined,
	}, {
		// The notice written for people in a part declared
		// message/delivery-status, the real report part after it: its
		// words, not the bare 5.3.0 of the report, tell why.
		name: "a delivery-status part that holds the notice's words",
		msg: strings.ReplaceAll("From: Postmaster@mx.example.net\nTo: news@lists.example.org\nSubject: Mail System Error - Returned Mail\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"p\"\n\n"+
			"--p\nContent-Type: message/delivery-status;\n\nThis message was undeliverable due to the following reason:\n\n"+
			"<bea@example.net>: the mailbox is full\n\n"+
			"--p\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"+
			"Final-Recipient: rfc822; bea@example.net\nAction: failed\nStatus: 5.3.0\n\n--p--\n", "\n", "\r\n"),
		recipient: "bea@example.net", want: ReasonMailboxFull,
	}})
}

// parserCase is a notice with a failed recipient and the reason it must be
// given; others are the other recipients the notice names, in order.
type parserCase struct {
	name      string
	msg       string
	recipient string
	want      Reason
	others    []string
}

// inputOf is the Input of recipient r of rep, as the pipeline builds it
// (pipeline.recipientRecord).
func inputOf(rep *dsn.Report, r dsn.Recipient) Input {
	return Input{Kind: rep.Kind, Status: r.Status, ReplyCode: r.ReplyCode, Diagnostic: r.Diagnostic,
		DiagnosticType: r.DiagnosticType, Action: r.Action, RemoteMTA: r.RemoteMTA, Command: r.Command,
		FeedbackType: r.FeedbackType, Vendor: rep.Vendor, Notice: rep.Notice,
		Recipients: []string{r.FinalRecipient, r.OriginalRecipient}}
}

// checkThroughParser parses each case's message and classifies its
// recipient as the pipeline does.
func checkThroughParser(t *testing.T, tests []parserCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := dsn.Parse(strings.NewReader(tt.msg), nil)
			require.NotNil(t, rep, "dsn.Parse: %v", err)
			var found []string
			for _, r := range rep.Recipients {
				found = append(found, r.FinalRecipient)
			}
			require.Equal(t, append([]string{tt.recipient}, tt.others...), found, "the recipients the parser found")
			in := inputOf(rep, rep.Recipients[0])
			got := Classify(in)
			assert.Equal(t, tt.want, got.Reason, "Classify(%+v) = %s (%s), want %s", in, got.Reason, got.Evidence, tt.want)
			assert.Equal(t, tt.want.Category(), got.Category, "Classify(%+v): category", in)
		})
	}
}
