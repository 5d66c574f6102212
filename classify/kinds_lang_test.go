package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postfixReplyNotice returns Postfix's notice for a reply of a receiving server
// to the command cmd.
func postfixReplyNotice(reply, cmd string) string {
	return kindNotice("MAILER-DAEMON@mx.example.org (Mail Delivery System)", "Undelivered Mail Returned to Sender", "",
		"This is the mail system at host mx.example.org.\n\nI'm sorry to have to inform you that your message could not\n"+
			"be delivered to one or more recipients. It's attached below.\n\n                   The mail system\n\n"+
			"<ola@example.net>: host mx.example.net[192.0.2.5] said: "+reply+" (in reply to "+cmd+" command)\n")
}

// TestLanguageKindsThroughParser checks the replies of providers whose
// help pages, written in their own language, explain them: each in a
// notice written for it, classified as the pipeline does.
func TestLanguageKindsThroughParser(t *testing.T) {
	checkThroughParser(t, []parserCase{{
		// Interia's help ("Dlaczego wiadomość nie została dostarczona?"):
		// the recipient has probably put the sender on its block list.
		name:      "Interia: Recipient doesn't want your mail",
		msg:       postfixReplyNotice("550 5.7.1 Recipient doesn't want your mail", "RCPT TO"),
		recipient: "ola@example.net", want: ReasonFiltered,
	}, {
		// The same page: the domain's owner names the hosts that may
		// send its mail, and this one is not among them.
		name:      "Interia: [SPF] host is not allowed to send mail from domain",
		msg:       postfixReplyNotice("550 5.7.0 [SPF] host 192.0.2.1 is not allowed to send mail from domain lists.example.org", "MAIL FROM"),
		recipient: "ola@example.net", want: ReasonAuthFailure,
	}, {
		// C4's help (faq.c4.cz, "Odeslaný e-mail se vrací zpět s
		// chybou"): the sending host is not in the domain's SPF record.
		name:      "C4: [SPF] address is not allowed to send mail from domain",
		msg:       postfixReplyNotice("550 [SPF] 192.0.2.1 is not allowed to send mail from lists.example.org.", "MAIL FROM"),
		recipient: "ola@example.net", want: ReasonAuthFailure,
	}, {
		// GRHOSTING's help (support.grhosting.cz, "Email se vrátil
		// odesílateli jako nedoručitelný"): refused because of SPF.
		name:      "GRHOSTING: blocked by SPF",
		msg:       postfixReplyNotice("550 5.1.0 0bcW1i00G0jifNx01bcmHa blocked by SPF", "MAIL FROM"),
		recipient: "ola@example.net", want: ReasonAuthFailure,
	}, {
		name:      "Interia: Account not found",
		msg:       postfixReplyNotice("550 5.1.1 Account not found", "RCPT TO"),
		recipient: "ola@example.net", want: ReasonUserUnknown,
	}, {
		// Aruba's PEC guide: a certified mailbox that does not accept
		// ordinary mail answers so; the reply does not tell an unknown
		// address from one closed to ordinary mail.
		name: "Aruba PEC: destinatario sconosciuto o non abilitato alla ricezione di posta non certificata",
		msg: postfixReplyNotice("554 <ola@example.net>: Messaggio rifiutato dal sistema. Indirizzo destinatario sconosciuto "+
			"o non abilitato alla ricezione di posta non certificata", "RCPT TO"),
		recipient: "ola@example.net", want: ReasonFiltered,
	}, {
		// Alibaba Mail's help on its bounces (阿里企业邮箱为什么发出去的
		// 邮件会退回来?) gives each reply code with its reason in Chinese;
		// the replies' own words are not published, so the help's are
		// used.
		name:      "Alibaba Mail: 收信人收件箱已满",
		msg:       postfixReplyNotice("552 收信人收件箱已满，无法收信", "RCPT TO"),
		recipient: "ola@example.net", want: ReasonMailboxFull,
	}, {
		name:      "Alibaba Mail: 用户由于长时间未登录处于休眠状态",
		msg:       postfixReplyNotice("550 用户由于长时间未登录处于休眠状态", "RCPT TO"),
		recipient: "ola@example.net", want: ReasonSuspend,
	}, {
		// Daum's bilingual table of its replies, in Korean and English
		// (reproduced on oliveit.tistory.com): its spam center took the
		// sending IP for a spammer's and refuses its connections for a
		// while.
		name:      "Daum: CCRT Connection refused. Server is busy(RT)",
		msg:       postfixReplyNotice("421 4.4.5 CCRT 192.0.2.1: Connection refused. Server is busy(RT)", "MAIL FROM"),
		recipient: "ola@example.net", want: ReasonBlocked,
	}, {
		// kei.pl's help ("Wiadomość zwrotna – Mailer Daemon") shows its
		// qmail's notice translated to Polish, the address in qmail's
		// slot and the reply after a bilingual "Remote host said: /
		// Zdalny host odpowiedzial:".
		name: "kei.pl: qmail's notice in Polish, the remote host's reply",
		msg: kindNotice("MAILER-DAEMON@mx.example.pl", "failure notice", "",
			"Bardzo nam przykro jednakze nie udalo sie wyslac maila pod wskazane adresy.\nPrzyczyna wskazana jest ponizej:\n\n"+
				"<jan@example.com.pl>:\n192.0.2.48 does not like recipient.\n"+
				"Remote host said: / Zdalny host odpowiedzial: 550 No Such User Here\nGiving up on 192.0.2.48.\n\n"+
				"--- Below this line is a copy of the message.\n\nFrom: news@lists.example.org\nTo: jan@example.com.pl\nSubject: news\n\nhello\n"),
		recipient: "jan@example.com.pl", want: ReasonUserUnknown,
	}, {
		name: "kei.pl: qmail's notice in Polish, maildir over quota",
		msg: kindNotice("MAILER-DAEMON@mx.example.pl", "failure notice", "",
			"Bardzo nam przykro jednakze nie udalo sie wyslac maila pod wskazane adresy.\nPrzyczyna wskazana jest ponizej:\n\n"+
				"<biuro@example.pl>:\nmaildrop: maildir over quota.\n\n"+
				"--- Below this line is a copy of the message.\n\nFrom: news@lists.example.org\nTo: biuro@example.pl\nSubject: news\n\nhello\n"),
		recipient: "biuro@example.pl", want: ReasonMailboxFull,
	}})
}

// TestNoticeReasonOfAnotherRecipient checks that the one reply a notice
// writes under its list of failed recipients decides only for the
// recipient it names: masqmail's failure notice (tpl/failmsg.tpl.it) puts
// its ${err_msg}, the last server reply, under all its @failed_rcpts.
func TestNoticeReasonOfAnotherRecipient(t *testing.T) {
	msg := kindNotice("MAILER-DAEMON@mx.example.it", "invio messaggio FALLITO / Mail Delivery Failure Notice", "",
		"Spiacente ma non e' stato possibile spedire il tuo msg a tutti\ni destinatari. L'invio ai seguenti destinatari e' fallito in modo\n"+
			"permanente e non verra' ritentato:\n (Sorry, but your mail could not be delivered to all recipients.\n"+
			"  Delivery to the following recipients failed permanently and has \n  been given up:)\n\n"+
			"\tcy@example.it\n\tdee@example.it\n\n"+
			"Il seguente msg d'errore potrebbe aiutarti a capire la causa \ndell'errore:\n (This error message may give you a hint about what caused the\n  failure:)\n\n"+
			"550 5.1.1 <cy@example.it>: utente sconosciuto\n\n"+
			"In caso ti serva aiuto scrivi a <postmatster@mx.example.it>.\nIl tuo msg segue in allegato.\n")
	rep, err := dsn.Parse(strings.NewReader(msg), nil)
	require.NotNil(t, rep, "dsn.Parse: %v", err)
	got := map[string]Result{}
	for _, r := range rep.Recipients {
		got[r.FinalRecipient] = Classify(inputOf(rep, r))
	}
	require.Len(t, got, 2)
	assert.Equal(t, ReasonUserUnknown, got["cy@example.it"].Reason, "the recipient the reply names")
	assert.NotEqual(t, CategoryHard, got["dee@example.it"].Category, "the other: %+v", got["dee@example.it"])

	// A recipient whose own lines say nothing, named by the notice's
	// reply itself: the reply is its own.
	one := Input{Kind: dsn.KindBounce, Notice: "Delivery failed.\n\n550 5.1.1 <Ann@Example.com>: user unknown\n",
		Recipients: []string{"ann@example.com", ""}}
	assert.Equal(t, ReasonUserUnknown, Classify(one).Reason, "%+v", Classify(one))

	// MailMarshal's notice (its NDR template: the reason, the affected
	// recipients, then "Additional Information" with the sender in angle
	// brackets): an address far from the reply is not the reply's. The
	// notice's white space is folded, as dsn.Report.Notice gives it.
	marshal := Input{Kind: dsn.KindBounce, Notice: "Your message: From: news@lists.example.org Subject: news " +
		"Could not be delivered because of 550 5.1.1 User unknown The following recipients were affected: " +
		"bo@example.net Additional Information ====================== Original Sender: <news@lists.example.org> " +
		"Sender-MTA: <192.0.2.250> Reporting-MTA: <mx.example.net>",
		Recipients: []string{"bo@example.net", ""}}
	assert.Equal(t, ReasonUserUnknown, Classify(marshal).Reason, "%+v", Classify(marshal))
}
