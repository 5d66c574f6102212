package testmail

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"

	"github.com/bouncer-dev/bouncer/internal/smtpcode"
)

// The seed list (../shared/seed/smtp-reply-codes-ko.txt, copied to
// classify/testdata) holds real rejection lines; the tests of classify and
// cmd/bouncer wrap each line in the three shapes a bounce carries it in.

// SeedCodes returns the reply code and enhanced status code written at the
// start of a seed line, as a DSN would carry them in its Status field.
func SeedCodes(line string) (reply, status string) {
	reply = line[:3]
	rest := strings.TrimLeft(line[3:], " -:")
	status, _ = smtpcode.StatusAt(rest)
	return reply, status
}

// SeedQmailNotice returns the text of a qmail-send bounce of line for addr.
func SeedQmailNotice(line, addr string) string {
	return "Hi. This is the qmail-send program at mx.example.org.\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\n\n" +
		"<" + addr + ">:\n" +
		"Remote host said: " + line + "\n\n" +
		"--- Below this line is a copy of the message.\n"
}

// SeedKoreanNotice returns the EUC-KR body of a notice written in Korean
// around line for addr, as Korean providers send them.
func SeedKoreanNotice(t testing.TB, line, addr string) []byte {
	t.Helper()
	text := "안녕하세요. 메일 시스템입니다.\n" +
		"보내신 메일이 아래 받는 분에게 전달되지 못하여 돌려보냅니다.\n\n" +
		"받는 사람: " + addr + "\n" +
		"반송 사유: " + line + "\n\n" +
		"이 메일은 발신 전용입니다.\n"
	b, _, err := transform.Bytes(korean.EUCKR.NewEncoder(), []byte(text))
	require.NoError(t, err, "encoding %q in EUC-KR", line)
	return b
}

// SeedMessages wraps a seed line, for the recipient addr, in the three
// shapes a bounce carries it in: "dsn" (a DSN's Diagnostic-Code), "qmail"
// (a qmail notice) and "euc-kr" (a Korean EUC-KR notice).
func SeedMessages(t testing.TB, line, addr string) map[string][]byte {
	t.Helper()
	head := func(ct, cte string) string {
		return "From: Mail Delivery System <MAILER-DAEMON@mx.example.kr>\r\n" +
			"To: sender@example.org\r\n" +
			"Subject: =?euc-kr?B?uN7AzyC53bzbIL3HxtAgvsizuw==?=\r\n" +
			"Date: Thu, 29 Apr 2021 23:34:45 +0900\r\n" +
			"MIME-Version: 1.0\r\n" +
			"Content-Type: " + ct + "\r\n" +
			"Content-Transfer-Encoding: " + cte + "\r\n\r\n"
	}
	reply, status := SeedCodes(line)
	if status == "" {
		status = reply[:1] + ".0.0"
	}
	report := head(`multipart/report; report-type=delivery-status; boundary="b"`, "8bit") +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.kr\r\n\r\n" +
		"Final-Recipient: rfc822; " + addr + "\r\nAction: failed\r\nStatus: " + status + "\r\n" +
		"Diagnostic-Code: smtp; " + line + "\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"From: sender@example.org\r\nTo: " + addr + "\r\nSubject: news\r\nMessage-ID: <1@example.org>\r\n" +
		"--b--\r\n"
	qmail := head("text/plain; charset=utf-8", "8bit") + strings.ReplaceAll(SeedQmailNotice(line, addr), "\n", "\r\n") +
		"\r\nFrom: sender@example.org\r\nTo: " + addr + "\r\nSubject: news\r\n\r\nhello\r\n"
	ko := append([]byte(head("text/plain; charset=euc-kr", "8bit")), SeedKoreanNotice(t, line, addr)...)
	return map[string][]byte{"dsn": []byte(report), "qmail": []byte(qmail), "euc-kr": ko}
}
