package dsn

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
)

// masqmailNotice returns the failure notice of masqmail written from one of
// its translated templates (tpl/failmsg.tpl.de, .fr, .it): the template's
// text with the failed recipients at @failed_rcpts, one a line after a tab
// ("\t<%s>" since masqmail 0.3, the bare address before), and the reply at
// ${err_msg}.
func masqmailNotice(host, subject, text, charset string) string {
	return "From: MAILER-DAEMON@" + host + "\r\nTo: news@lists.example.org\r\nSubject: " + subject + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n        boundary=\"1A/" + host + "\"\r\n\r\n" +
		strings.ReplaceAll("This is a MIME-encapsulated message.\n\n--1A/"+host+"\nContent-Description: Notification\n"+
			"Content-Type: text/plain;\n  charset="+charset+"\n\n"+text+"\n\n--1A/"+host+"\n"+
			"Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"+
			"From: news@lists.example.org\nTo: other@example.org\nSubject: news\n\nhello\n\n--1A/"+host+"--\n", "\n", "\r\n")
}

// TestLanguageKinds checks the notices of MTAs whose templates were
// translated, each in a message written from the translation: the
// recipient is read from the template's slot, whatever the language around
// it.
func TestLanguageKinds(t *testing.T) {
	const deHead = "Diese Nachricht wurde Ihnen von dem Mail Agenten\n(masqmail 0.3.4) auf mx.example.de geschickt.\n" +
		"(This message was sent to you by the mailer daemon (masqmail 0.3.4)\nat mx.example.de.)\n\n" +
		"Bedauerlicherweise konnte Ihre Mail nicht an alle Empfänger weitergeleitet\nwerden.\n" +
		"(Sorry, but your mail could not be delivered to all recipients.)\n\n" +
		"Die Zustellung zu den folgenden Empfängern ist permanent\nfehlgeschlagen. Es wird kein weiterer Versuch unternommen:\n" +
		"(Delivery to the following recipients failed permanently and has been given\nup:)\n\n"
	const deTail = "\n\nDiese Fehlermeldung könnte einen Hinweis über die Ursache geben:\n" +
		"(This error message may give you a hint about what caused the\nfailure:)\n\n" +
		"550 5.1.1 <ann@example.de>: Recipient address rejected: User unknown\n\n" +
		"Für weitere Hilfe, schreiben Sie an <postmaster@mx.example.de>.\n(If you need help, write to <postmaster@mx.example.de>.)\n\n" +
		"Ihre Nachricht folgt im Anhang, einschliesslich aller Header:\n(Your message follows attached, including all headers:)"
	latin1, err := charmap.ISO8859_1.NewEncoder().String(deHead + "\t<ann@example.de>" + deTail)
	require.NoError(t, err)
	tests := []kindCase{{
		name: "masqmail, German: the address after a tab under the heading",
		msg:  masqmailNotice("mx.example.de", "Mail Delivery Failure Notice", deHead+"\t<ann@example.de>"+deTail, "utf-8"),
		kind: KindBounce, recipients: []string{"ann@example.de"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		name: "masqmail, German in ISO-8859-1, the address bare",
		msg: masqmailNotice("mx.example.de", "Mail Delivery Failure Notice",
			strings.Replace(latin1, "\t<ann@example.de>", "\tann@example.de", 1), "iso-8859-1"),
		kind: KindBounce, recipients: []string{"ann@example.de"}, pos: PositionTemplate,
	}, {
		name: "masqmail, French: L'expédition vers les destinataires suivants a échoué",
		msg: masqmailNotice("mx.example.fr", "Mail Delivery Failure Notice",
			"Ce message vous a été envoyé par le serveur de messagerie\n(masqmail 0.3.4) sur mx.example.fr.\n\n"+
				"J'ai le regret de vous informer que votre courrier n'a pas pu être transmis à\ntous ses destinataires.\n\n"+
				"L'expédition vers les destinataires suivants a échoué et a été définitivement\nabandonnée:\n"+
				"(Delivery to the following recipients failed permanently and has been given\nup:)\n\n\t<bob@example.fr>\n\n"+
				"Ce message d'erreur peut vous aider à déterminer la cause de l'échec:\n\n"+
				"552 5.2.2 Quota exceeded (mailbox for user is full)\n\n"+
				"Si vous avez besoin d'aide, veuillez écrire à <postmaster@mx.example.fr>.", "utf-8"),
		kind: KindBounce, recipients: []string{"bob@example.fr"}, pos: PositionTemplate, status: "5.2.2",
	}, {
		// The Italian template has a blank line after its Subject, so
		// its MIME-Version and Content-Type, the boundary and the parts
		// are all body text.
		name: "masqmail, Italian: a header cut short by the template's blank line",
		msg: strings.ReplaceAll("From: MAILER-DAEMON@mx.example.it\nTo: news@lists.example.org\n"+
			"Subject: invio messaggio FALLITO / Mail Delivery Failure Notice\n\n"+
			"MIME-Version: 1.0\nContent-Type: multipart/mixed;\n        boundary=\"1A/mx.example.it\"\n\n"+
			"Messaggio in formato MIME multi-parti.\nThis is a MIME-encapsulated message.\n\n"+
			"--1A/mx.example.it--\nContent-Description: Notifica-Notify\nContent-Type: text/plain\n\n"+
			"Questo messaggio ti e' stato spedito dal demone: \n (This message was sent to you by the mailer daemon:)\n"+
			"(masqmail 0.3.4) @ mx.example.it:\n\n"+
			"Spiacente ma non e' stato possibile spedire il tuo msg a tutti\ni destinatari. L'invio ai seguenti destinatari e' fallito in modo\n"+
			"permanente e non verra' ritentato:\n\n\t<cy@example.it>\n\n"+
			"Il seguente msg d'errore potrebbe aiutarti a capire la causa \ndell'errore:\n\n"+
			"550 5.1.1 <cy@example.it>: Recipient address rejected: User unknown\n\n"+
			"In caso ti serva aiuto scrivi a <postmatster@mx.example.it>.\nIl tuo msg segue in allegato.\n\n"+
			"--1A/mx.example.it\nContent-Description: Messaggio non spedito - Unsent message\nContent-Type: message/rfc822\n\n"+
			"From: news@lists.example.org\nTo: other@example.it\nSubject: news\n\n[corpo del messaggio - rimosso]\n\n--1A/mx.example.it--\n", "\n", "\r\n"),
		kind: KindBounce, recipients: []string{"cy@example.it"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// A Postfix failure_template translated to Spanish (bounce.cf:
		// "POR FAVOR, LEA DETENIDAMENTE ESTE MENSAJE."), its text part
		// alone in quoted-printable: Postfix's "<x@y>: host … said:"
		// line under the translation.
		name: "Postfix, Spanish failure_template, the text part alone",
		msg: "From: MAILER-DAEMON@mx.example.es (Mail Delivery System)\r\nTo: news@lists.example.org\r\n" +
			"Subject: Servidor de correo: Mensaje no entregado\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"POR FAVOR, LEA DETENIDAMENTE ESTE MENSAJE.\r\n=C3=89ste es un mensaje de correo enviado autom=C3=A1ticamente por su servidor de correo.\r\n" +
			"No ha sido posible entregar su mensaje a uno o m=C3=A1s destinatarios.\r\n" +
			"El mensaje que caus=C3=B3 el error est=C3=A1 adjunto a este mensaje.\r\n\r\n" +
			"<dan@example.es>: host mx2.example.es[192.0.2.7] said: 550 5.1.1 <dan@example.es>:=\r\n" +
			" Recipient address rejected: User unknown (in reply to RCPT TO command)\r\n",
		kind: KindBounce, recipients: []string{"dan@example.es"}, pos: PositionTemplate, status: "5.1.1", command: "RCPT",
	}, {
		// A Spanish qmail clone: sisimai's lhost/qmail lists its opening
		// ("Su mensaje no pudo ser entregado") and its separator ("---
		// Mensaje original adjunto."); the address line is qmail's.
		name: "qmail clone, Spanish: Su mensaje no pudo ser entregado",
		msg: notice("MAILER-DAEMON@mx.example.com.ar", "failure notice",
			"Su mensaje no pudo ser entregado.\n\n<eva@example.com.ar>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"+
				"--- Mensaje original adjunto.\n\n"+
				"Received: from lists.example.org by mx.example.com.ar\n\tfor <otro@example.com.ar>; Thu, 3 Dec 2026 10:00:00 +0000\n"+
				"From: news@lists.example.org\nTo: eva@example.com.ar\nCc: otro@example.com.ar\nSubject: news\n\nhello\n"),
		kind: KindBounce, recipients: []string{"eva@example.com.ar"}, pos: PositionTemplate, status: "5.1.1",
	}, {
		// Seznam's help ("Uživatel neexistuje", napoveda.seznam.cz)
		// shows its notice: Czech, then English, the address in angle
		// brackets in both sentences, the reason under "Důvod / Reason:".
		name: "Seznam: Vaše zpráva pro <x> nemohla být doručena",
		msg: notice("Mail Delivery System <MAILER-DAEMON@seznam.example>", "Undelivered Mail",
			"Vaše zpráva pro <vesely@seznam.example> ze dne 3.12.2026 nemohla být doručena.\nZpráva je přiložena.\n\n"+
				"You message for <vesely@seznam.example> from 2026/12/03 could not be delivered.\nIt's attached below.\n\n"+
				"Důvod / Reason:\n---------------\n\n5.1.1 szn; User hasn't got the service mapped\n\n"+
				"Permanentní chyba na straně uživatele.\nPermanent Failure - Bad destination mailbox address\n"),
		kind: KindBounce, recipients: []string{"vesely@seznam.example"}, pos: PositionTemplate, status: "5.1.1",
	}}
	checkKinds(t, tests)
}

// TestLegacyCharsetLabels checks that a notice labelled with a charset name
// that mail software writes and the WHATWG list lacks is still decoded, and
// without a charset error, in the body and in encoded words: the Korean code page under Microsoft's and
// Java's names (the Ruby mail gem maps ks_c_5601-1987 to CP949; forks of it
// add MS949), and the variants of ISO-2022-JP that Japanese carriers write
// (the gem's pick_encoding: "ISO-2022-JP-KDDI and alike").
func TestLegacyCharsetLabels(t *testing.T) {
	// The Korean reply is from the owner's list
	// (classify/testdata/smtp-reply-codes-ko.txt); the Japanese one is
	// Lotus Domino's (TestFieldCharset).
	const ko = "메일함 용량을 초과하였습니다"
	const ja = "ユーザー ann は Domino ディレクトリには見つかりません。"
	tests := []struct {
		label, reply string
		enc          encoding.Encoding
	}{
		{"cp949", ko, korean.EUCKR},
		{"MS949", ko, korean.EUCKR},
		{"ISO-2022-JP-KDDI", ja, japanese.ISO2022JP},
		{"iso-2022-jp-2", ja, japanese.ISO2022JP},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			body, err := tt.enc.NewEncoder().String("This is the mail system at host mx.example.net.\r\n\r\n" +
				"<ann@example.net>: host mx2.example.net[192.0.2.9] said: 550 " + tt.reply + " (in reply to RCPT TO command)\r\n")
			require.NoError(t, err)
			// The reply again in an encoded word of the Subject, to
			// check its decoding in the same label.
			subj, err := tt.enc.NewEncoder().String(tt.reply)
			require.NoError(t, err)
			msg := "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\nTo: news@lists.example.org\r\n" +
				"Subject: =?" + tt.label + "?B?" + base64.StdEncoding.EncodeToString([]byte(subj)) + "?=\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: text/plain; charset=" + tt.label + "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
			rep, err := Parse(strings.NewReader(msg), nil)
			require.NotNil(t, rep)
			assert.False(t, errors.Is(err, ErrCharset), "Parse: %v", err)
			require.Len(t, rep.Recipients, 1)
			assert.Contains(t, rep.Recipients[0].Diagnostic, tt.reply)
			assert.Equal(t, tt.reply, rep.Subject)
		})
	}
}

// TestLanguageDelayWarnings checks that delay warnings written from
// translated templates report their recipient as delayed, not failed:
// masqmail's (tpl/warnmsg.tpl and its German, French and Italian
// translations) list the recipients as its failure notice does, and say
// only in words that delivery will be tried again.
func TestLanguageDelayWarnings(t *testing.T) {
	tests := []struct{ name, host, subject, text, rcpt, msg string }{{
		name: "German", host: "mx.example.de", subject: "Warning: could not yet send message", rcpt: "ann@example.de",
		text: "Diese Nachricht wurde Ihnen von dem Mail Agenten\n(masqmail 0.3.4) auf mx.example.de geschickt.\n\n" +
			"Bedauerlicherweise konnte Ihre Mail noch nicht an alle Empfänger\nzugestellt werden.\n\n" +
			"Die Mail konnte bis jetzt zu folgenden Empfängern nicht zugestellt werden:\n\n\t<ann@example.de>\n\n" +
			"Die Zustellung wird weiterhin versucht, bis sie entweder erfolgreich\nist oder ein Zeitlimit eingetreten ist. In letzterem Fall wird\n" +
			"Ihnen eine Fehlermeldung zugestellt.\n\nDiese Fehlermeldung könnte einen Hinweis über die Ursache geben:\n\n" +
			"452 4.2.2 <ann@example.de>: Mailbox full\n\nFür weitere Hilfe, schreiben Sie an <postmaster@mx.example.de>.",
	}, {
		name: "French", host: "mx.example.fr", subject: "Attention: impossible d'envoyer un message", rcpt: "bob@example.fr",
		text: "Ce message vous a été envoyé par le serveur de messagerie\n(masqmail 0.3.4) sur mx.example.fr.\n\n" +
			"J'ai le regret de vous informer que votre courrier n'a pas pu être transmis\nà tous ses destinataires. " +
			"L'expédition vers les destinataires suivants a été\ndifférée:\n\n\t<bob@example.fr>\n\n" +
			"D'autres tentatives d'envoi vont être effectuées, jusqu'à ce que cela\nréussisse ou dépasse une certaine limite dans le temps. " +
			"Dans ce cas, vous\nrecevrez une notification d'échec d'expédition.\n\n" +
			"Ce message d'erreur peut peut-être vous aider à déterminer l'origine du\ndélai:\n\n451 4.7.1 Please try again later",
	}, {
		name: "Italian", host: "mx.example.it", subject: "Warning: could not yet send message", rcpt: "cy@example.it",
		text: "Spiacente ma non e' stato possibile spedire il tuo msg a tutti\ni destinatari. L'invio ai seguenti destinatari e' stato ritardato:\n\n" +
			"\t<cy@example.it>\n\nLa spedizione verra' ritentata, finche' ha successo o scade il \ntempo disponibile impostato. " +
			"In quest'ultimo caso riceverai una\nnotifica di spedizione fallita definitiva.\n\n" +
			"451 4.7.1 Greylisting in action, please come back later\n\nIn caso ti serva aiuto scrivi a:\n  <postmaster@mx.example.it>.",
	}, {
		name: "English", host: "mx.example.org", subject: "Warning: could not yet send message", rcpt: "dee@example.org",
		text: "This message was sent to you by the mailer daemon (masqmail 0.3.4)\nat mx.example.org.\n\n" +
			"Sorry, but your mail could not yet be delivered to all recipients.\nDelivery to the following recipients has been defered:\n\n" +
			"\t<dee@example.org>\n\nDelivery will be tried again, until it is either successfull or a\ntimeout has been reached.",
	}, {
		// A Postfix delay_template translated to Spanish (the bounce.cf
		// of TestLanguageKinds), its text part alone, the reply one that
		// would be permanent but for its code (unknown_local_recipient_
		// reject_code = 450 in the same configuration).
		name: "Postfix, Spanish delay_template", rcpt: "dan@example.es",
		msg: "From: MAILER-DAEMON@mx.example.es (Mail Delivery System)\r\nTo: news@lists.example.org\r\n" +
			"Subject: Servidor de correo: Mensaje postpuesto\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.ReplaceAll("POR FAVOR, LEA DETENIDAMENTE ESTE MENSAJE.\n"+
				"Este es un mensaje de correo enviado automáticamente por el servidor de correo.\n.\n"+
				"##############################################\n# ÉSTE ES SÓLO UN MENSAJE DE AVISO           #\n"+
				"# NO ES NECESARIO QUE REENVÍE EL MENSAJE.    #\n##############################################\n\n"+
				"Su mensaje no pudo ser entregado al destinatario después de intentarlo durante 4 hora(s).\n"+
				"Se seguirá intentando enviar el mensaje hasta que pasen 5 días.\n\n"+
				"<dan@example.es>: host mx2.example.es[192.0.2.7] said: 450 4.2.0 <dan@example.es>:\n"+
				"    Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)\n", "\n", "\r\n"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.msg
			if msg == "" {
				msg = masqmailNotice(tt.host, tt.subject, tt.text, "utf-8")
			}
			rep, _ := Parse(strings.NewReader(msg), nil)
			require.NotNil(t, rep)
			require.Len(t, rep.Recipients, 1)
			assert.Equal(t, tt.rcpt, rep.Recipients[0].FinalRecipient)
			assert.Equal(t, ActionDelayed, rep.Recipients[0].Action)
		})
	}
}
