package dsn

import (
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/verp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"
)

// notice returns a plain-text bounce from a mail daemon with body.
func notice(from, subject, body string) string {
	return "From: " + from + "\r\nTo: news@lists.example.org\r\nSubject: " + subject +
		"\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
}

// TestKinds checks, for each kind of message the recipient search must tell
// apart, a message written for that kind: the recipients found, and where
// their address was read.
// kindCase is a message written for one kind, with what the parser must
// find in it.
type kindCase struct {
	name       string
	msg        string
	kind       Kind
	recipients []string
	pos        Position // of the first recipient, when set
	status     string   // of the first recipient, when set
	original   string   // the OriginalRecipient of the first, when set; "-": none
	command    string   // the Command of the first when set; "-": none
}

func TestKinds(t *testing.T) {
	tests := []kindCase{
		{
			// The returned original follows a rule that announces it; its
			// Received "for <x>" lines and its To are data, not evidence.
			name: "separator rule before the original",
			msg: notice("<MAILER-DAEMON@mx.example.net>", "mail failed, returning to sender",
				"|------------------------- Message log follows: -------------------------|\n"+
					" no valid recipients were found for this message\n"+
					"|------------------------- Failed addresses follow: ---------------------|\n"+
					" ann@mail.example.net ... unknown host\n"+
					"|------------------------- Message text follows: ------------------------|\n"+
					"Received: from lists.example.org by mx.example.net\n\tfor other@example.net; Fri, 3 Aug 2001 23:57:52 -0500\n"+
					"Received: from sub.example.com by lists.example.org\n\tfor news@lists.example.org; Fri, 3 Aug 2001 23:50:00 -0500\n"+
					"X-Mailer: QUALCOMM Windows Eudora Version 5.0.2\n"+
					"To: other@example.net\nSubject: hello\n\nhi\n"),
			kind: KindBounce, recipients: []string{"ann@mail.example.net"}, pos: PositionTemplate,
		},
		{
			// An address the server's reply mentions (the sender's, a
			// contact's) is nobody's failure.
			name: "address inside the server's reply",
			msg: notice("MAILER-DAEMON@mx.example.org", "failure notice",
				"Hi. This is the qmail-send program at mx.example.org.\n"+
					"I'm afraid I wasn't able to deliver your message to the following addresses.\n"+
					"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"+
					"<bob@example.net>:\n"+
					"Remote host said: 553 5.1.8 <boss@example.com>... Domain of sender address boss@example.com does not exist\n"+
					"You must register your IP to spammaster@example.com.\n\n"+
					"--- Below this line is a copy of the message.\n\nTo: bob@example.net\n\nhi\n"),
			kind: KindBounce, recipients: []string{"bob@example.net"}, pos: PositionTemplate, status: "5.1.8",
		},
		{
			// Test suites and examples write addresses with one-letter
			// labels.
			name: "one-letter labels",
			msg: notice("\"Postmaster\" <postmaster@b.c>", "Undeliverable Mail",
				"User mailbox exceeds allowed size: a@b.c\n\n\nOriginal message follows.\n\nTo: a@b.c\n\nhi\n"),
			kind: KindBounce, recipients: []string{"a@b.c"},
		},
		{
			// AOL lists screen names, bare, under the recipients line.
			name: "bare screen names from the recipients' own system",
			msg: notice("Mail Delivery Subsystem <MAILER-DAEMON@aol.example>", "Returned mail: Sorry",
				"Your mail to the following recipients could not be delivered because they are not accepting mail from news@lists.example.org:\n"+
					"\tkewlname\n\totherone\n"),
			kind: KindBounce, recipients: []string{"kewlname@aol.example", "otherone@aol.example"}, pos: PositionTemplate,
		},
		{
			// A challenge/response system asks the sender to prove itself:
			// a request, not a failure.
			name: "challenge/response",
			msg: notice("noreply@screen.example", "Re: news",
				"Hello,\n\nI received your message about \"news\". Sender not pre-approved.\n"+
					"To have your message delivered, please confirm that you are a human by visiting the link below.\n"),
			kind: KindChallenge,
		},
		{
			// Exchange's notice names the recipient after its list heading,
			// and the X.400 form after dda:SMTP=.
			name: "Exchange list heading",
			msg: notice("System Administrator <postmaster@corp.example>", "Undeliverable: news",
				"Your message did not reach some or all of the intended recipients.\n\n"+
					"      Subject:\tnews\n      Sent:\t12/3/2026 10:00 AM\n\n"+
					"The following recipient(s) cannot be reached:\n\n"+
					"      Carol Jones on 12/3/2026 10:00 AM\n"+
					"            The e-mail account does not exist at the organization this message was sent to.\n"+
					"            <mx.corp.example #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>\n"+
					"            dda:SMTP=carol@corp.example\n"),
			kind: KindBounce, recipients: []string{"carol@corp.example"}, status: "5.1.1",
		},
		{
			// The header of the returned original, announced as Exchange
			// 5.5 does.
			name: "your message reads (in part)",
			msg: notice("postmaster@mx.example.it", "Delivery failure",
				"Your message has encountered delivery problems\nto local user dan.\n(Originally addressed to dan@mx.example.it)\n\n"+
					"User not known\n\nYour message reads (in part):\n\n"+
					"From: news@lists.example.org\nTo: dan@mx.example.it\nErrors-To: dan@mx.example.it\nSubject: news\n"),
			kind: KindBounce, recipients: []string{"dan@mx.example.it"}, pos: PositionTemplate,
		},
	}
	tests = append(tests, kindCase{
		// Signed MAILER-DAEMON, but a person's reply: a return path, an
		// In-Reply-To, a subject of its own. Bounce words deep in it
		// decide nothing.
		name: "a reply signed as a daemon",
		msg: "Return-Path: <root@mail.example.com>\r\nFrom: <MAILER-DAEMON@somewhere.example>\r\nTo: joe@example.com\r\n" +
			"Subject: About the turtles\r\nIn-Reply-To: <1@example.com>\r\nDate: Fri, 29 May 2009 16:33:13 -0500\r\n\r\n" +
			"I was writing you this long email.\r\nYour message to fred@example.com was rejected due to the user exceeding its mailbox quota\r\n",
		kind: KindNotBounce,
	})
	tests = append(tests, kindCase{
		// The mailbox the bounce was delivered to is ours, wherever the
		// notice writes it.
		name: "our own bounce address",
		msg: "Delivered-To: bounce@lists.example.org\r\n" + notice("Mail Delivery System <Mailer-Daemon@mx.example.net>", "Mail delivery failed",
			"A message that you sent could not be delivered to one or more of its recipients. This is a permanent error.\n"+
				"The following address(es) failed:\n\n  sub@example.net\n    mailbox is full\n  bounce@lists.example.org\n    retry timeout exceeded\n"),
		kind: KindBounce, recipients: []string{"sub@example.net"}, pos: PositionTemplate,
	})
	tests = append(tests, kindCase{
		// A report whose diagnostic asks the sending server to confirm
		// itself on a web page: a challenge, whatever the Action says.
		name: "challenge in a report's diagnostic",
		msg: "From: MAILER-DAEMON@mx.example.org\r\nTo: news@lists.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
			"Final-Recipient: rfc822; pat@example.net\r\nAction: failed\r\nStatus: 5.0.0\r\n" +
			"Diagnostic-Code: smtp; 550 Your server requires confirmation, see https://confirm.example.net/ to confirm this mail server\r\n--b--\r\n",
		kind: KindChallenge,
	})
	tests = append(tests, kindCase{
		// A quoted original inside the notice: its folded Received lines
		// ("\tfor <x>;") and its "> "-quoted lines are data; the prose
		// names the recipient ("was addressed, x,").
		name: "quoted original with folded fields",
		msg: notice("postmaster@corp.example", "Returned mail",
			"The address to which your message was addressed, lee@corp.example, did not match a user here.\n\n"+
				"Original message as received is as follows:\n"+
				">Received: from lists.example.org by mx.corp.example\n>\tfor <lee@corp.example>; Sun, 27 May 2001 14:21:25 -0700\n"+
				">From: news@lists.example.org\n>Subject: hello\n\n"+
				"Received: from relay.example.org by mx.corp.example\n\tfor <other@corp.example>; Sun, 27 May 2001 14:21:25 -0700\n"),
		kind: KindBounce, recipients: []string{"lee@corp.example"}, pos: PositionTemplate,
	})
	tests = append(tests, []kindCase{{
		// A directory's notice lists the bare name with its reason in a
		// column; its help text gives examples ("e.g., if x@y fails, try
		// z@y", "NAME@example.edu"), which are no one's. The daemon writes
		// from a host of the organisation: the domain is a guess.
		name: "bare name with its reason, help text with examples",
		msg: notice("MAILER-DAEMON@mx2.its.uni.example", "Returned mail - nameserver error report",
			" --------Message not delivered to the following:\n\n  sam.lowry    No matches to nameserver query\n\n"+
				" If no lookup tools are available, try the most explicit form of the name, e.g., if\n"+
				" jo.ann@uni.example fails, try joanna.b.ann@uni.example.\n"+
				" To reach a party formerly reachable by emailing NAME@uni.example, write to NAME@cs.uni.example.\n"),
		kind: KindBounce, recipients: []string{"sam.lowry@uni.example"}, pos: PositionText,
	}, {
		// A gateway writes its own From, but the envelope sender is a
		// mail system's.
		name: "gateway with a daemon's envelope sender",
		msg: "Return-Path: <MAILER-DAEMON@relay.example.org>\r\n" + notice("scanner@corp.example", "Mail could not be delivered",
			"Sent <<< RCPT TO:<kim@corp.example>\nReceived >>> 550 5.1.1 unknown user.\nUnable to deliver message to <kim@corp.example>.\n"),
		kind: KindBounce, recipients: []string{"kim@corp.example"}, status: "5.1.1",
	}, {
		// Microsoft's report puts the original after "Old message:"; a
		// list manager's words in it are not the notice's.
		name: "old message",
		msg: "Return-Path: <>\r\n" + notice("<admin@bank.example>", "Non-Delivery: Your message to news awaits moderator approval",
			"--- Non-Delivery Report ---\nThe email below could not be delivered to the following user:\n\n"+
				"\"lou@bank.example\" <lou@bank.example>\n\nOld message:\n\nYour mail to 'news' is being held: Post by non-member to a members-only list\n"),
		kind: KindBounce, recipients: []string{"lou@bank.example"},
	}}...)
	tests = append(tests, looseKinds()...)
	tests = append(tests, templateKinds()...)
	checkKinds(t, tests)
}

// checkKinds parses each case's message and checks what the parser found
// against what the case wants.
func checkKinds(t *testing.T, tests []kindCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := Parse(strings.NewReader(tc.msg), nil)
			require.NotNil(t, rep)
			assert.Equal(t, tc.kind, rep.Kind)
			var got []string
			for _, r := range rep.Recipients {
				got = append(got, r.FinalRecipient)
			}
			if tc.kind == KindChallenge || tc.kind == KindNotBounce {
				return // who sent the challenge is data, not a failure
			}
			require.Equal(t, tc.recipients, got)
			if tc.pos != "" {
				assert.Equal(t, tc.pos, rep.Recipients[0].Position)
			}
			if tc.status != "" {
				assert.Equal(t, tc.status, rep.Recipients[0].Status)
			}
			switch tc.original {
			case "":
			case "-":
				assert.Empty(t, rep.Recipients[0].OriginalRecipient)
			default:
				assert.Equal(t, tc.original, rep.Recipients[0].OriginalRecipient)
			}
			switch tc.command {
			case "":
			case "-":
				assert.Empty(t, rep.Recipients[0].Command)
			default:
				assert.Equal(t, Command(tc.command), rep.Recipients[0].Command)
			}
			for _, r := range rep.Recipients {
				assert.NotEqual(t, "5.0.2", r.Status, "a version number is no status code")
			}
		})
	}
}

// TestNoticeSplit checks, for each way a notice runs into the copy of the
// returned original without a marker, that the original's header is read as
// the original's and kept out of the recipient's diagnostic.
func TestNoticeSplit(t *testing.T) {
	tests := []struct {
		name, msg, recipient, subject string
	}{{
		// au (KDDI) writes a rule of dashes, then the original's header.
		name: "a rule of dashes before the original's header",
		msg: notice("<Postmaster@ezweb.example>", "Mail System Error - Returned Mail",
			"<ann@ezweb.example>\n\nEach of the following recipients was rejected by a remote mail server.\n"+
				"---------------------------------------------------\n"+
				"Received: from mta.lists.example.org (host [192.0.2.22])\n\tby mx.ezweb.example with SMTP id 1A\n"+
				"\tfor <ann@ezweb.example>; Thu, 3 Dec 2026 10:00:00 +0900\n"+
				"From: news@lists.example.org\nTo: ann@ezweb.example\nSubject: December news\n"+
				"Message-Id: <n1@lists.example.org>\n\n"),
		recipient: "ann@ezweb.example", subject: "December news",
	}, {
		name: "a blank line before the original's header",
		msg: notice("<Postmaster@mx.example.net>", "Returned mail",
			"<bob@example.net>\n\nYour message could not be delivered.\n\n"+
				"Received: from mta.lists.example.org\n\tby mx.example.net with SMTP id 1A\n"+
				"From: news@lists.example.org\nTo: bob@example.net\nSubject: December news\n\n"),
		recipient: "bob@example.net", subject: "December news",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _ := Parse(strings.NewReader(tt.msg), nil)
			require.NotNil(t, rep)
			require.Len(t, rep.Recipients, 1)
			assert.Equal(t, tt.recipient, rep.Recipients[0].FinalRecipient)
			assert.Equal(t, tt.subject, rep.Original.Subject, "the original's header")
			assert.NotContains(t, rep.Recipients[0].Diagnostic, "Received:", "Diagnostic = %q", rep.Recipients[0].Diagnostic)
		})
	}
}

// TestFieldCharset checks that a Diagnostic-Code written in a legacy
// charset (Lotus Domino's Japanese release writes ISO-2022-JP, escapes and
// all, into the field) reaches the recipient decoded, and that ASCII is
// kept as it is.
func TestFieldCharset(t *testing.T) {
	const ja = "ユーザー ann (ann@notes.example.jp) は Domino ディレクトリには見つかりません。"
	iso, err := japanese.ISO2022JP.NewEncoder().String(ja)
	require.NoError(t, err)
	tests := []struct{ name, field, want string }{
		{"ISO-2022-JP with its escapes", iso, ja},
		{"ASCII", "User ann (ann@notes.example.jp) not listed in Domino Directory", "User ann (ann@notes.example.jp) not listed in Domino Directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := report("", "Reporting-MTA: dns; notes.example.jp\n\nFinal-Recipient: rfc822; ann@notes.example.jp\n"+
				"Action: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Notes; "+tt.field+"\n")
			rep, _ := Parse(strings.NewReader(msg), nil)
			require.NotNil(t, rep)
			require.Len(t, rep.Recipients, 1)
			assert.Equal(t, tt.want, rep.Recipients[0].Diagnostic)
		})
	}
}

// TestSignedVERP checks that a bounce naming no recipient, delivered to a
// signed VERP return path (package verp), is read as a bounce for the
// recipient after the tag, not for the tag glued to it.
func TestSignedVERP(t *testing.T) {
	keys, err := verp.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	rp, err := (&verp.Signer{Keys: keys}).ReturnPath("bounce@lists.example.org", "ann+news@example.net", time.Now())
	require.NoError(t, err)
	msg := "Delivered-To: " + rp + "\r\n" + notice("MAILER-DAEMON@mx.example.net", "failure notice",
		"Your message could not be delivered. The mailbox is full.\n")
	rep, _ := Parse(strings.NewReader(msg), nil)
	assert.Equal(t, "ann+news@example.net", rep.VERP)
	require.Len(t, rep.Recipients, 1)
	assert.Equal(t, "ann+news@example.net", rep.Recipients[0].FinalRecipient)
	assert.Equal(t, PositionVERP, rep.Recipients[0].Position)
}
