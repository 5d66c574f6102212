package classify

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/internal/golden"
	"github.com/bouncer-dev/bouncer/internal/testmail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedRows holds every reply line of testdata/smtp-reply-codes-ko.txt (a
// copy of ../shared/seed/smtp-reply-codes-ko.txt) with the reason the
// taxonomy gives it, read together with the Korean explanation under it.
// Where the explanation and the words differ, the comment says which won
// and why.
//
// The generic code table at the top of the file carries only a code and its
// Korean meaning. Its rows are decided by the code (RFC 5321 section 4.2):
// a 2yz reply is a positive completion, so nothing failed: delivered; 354
// is an intermediate reply that reports no outcome: notbounce; codes whose
// meaning is specific map to their reason (421/451 systemerror, 452
// systemfull, 500-504 syntaxerror, 551 hasmoved, 552 mailboxfull); 450,
// 550, 553 and 554 say only that a mailbox or the transaction was refused,
// which a list cannot act on: onhold.
var seedRows = []struct {
	line string
	want Reason
}{
	// The generic code table.
	{"211 : 시스템 상태 또는 시스템 도움말 응답", ReasonDelivered},
	{"214 : 도움말 메시지", ReasonDelivered},
	{"220 : 도메인 서비스가 준비됨", ReasonDelivered},
	{"221 : 도메인 서비스가 전송 채널을 폐쇄하고 있음", ReasonDelivered},
	{"250 : 요청된 메일이 정상적으로 완료되었음", ReasonDelivered},
	{"251 : 사용자가 Local이 아님 <forward-path>로 전달.", ReasonDelivered},
	{"354 : 메일 입력을 시작함 :  .로 종료됨", ReasonNotBounce},
	{"421 : 도메인 서비스가 수행되지 않음, 전송 채널을 폐쇄하고 있음", ReasonSystemError},
	{"450 : 요청된 작업이 수행되지 않음 : 사서함을 사용할수 없음", ReasonOnHold},
	{"451 : 요청된 작업이 강제 종료되었음 : 처리중 오류 발생", ReasonSystemError},
	{"452 : 요청된 작업을 수행하지 않음 : 시스템 저장 장치가 충분하지 않음", ReasonSystemFull},
	{"500 : 구문오류, 명령이 인식되지 않음", ReasonSyntaxError},
	{"501 : 매개변수나 인수에서 구문오류", ReasonSyntaxError},
	{"502 : 명령이 구현되지 않았음", ReasonSyntaxError},
	{"503 : 명령들의 순서가 잘못되었음", ReasonSyntaxError},
	{"504 : 명령 매개변수가 구현되지 않았음", ReasonSyntaxError},
	{"550 : 요청된 작업이 이루어지지 않았음 : 사서함이 이용될 수 없음", ReasonOnHold},
	{"551 : 사용자가 로컬이 아님.", ReasonHasMoved},
	{"552 : 요청된 메일 작업이 강제 종료됨 : 저장 장치 할당을 초과", ReasonMailboxFull},
	{"553 : 요청된 작업이 이루어지지 않았음 : 사서함 이름 사용 불가", ReasonOnHold},
	{"554 : 거래가 실패하였음", ReasonOnHold},

	// Real rejection lines.
	{"421 Server too busy.", ReasonSystemError},
	{"421-Microsoft ESMTP MAIL Service, Version: 5.0.2195.5600 ready at Service not available, closing transmission channel", ReasonSystemError},
	{"421 4.3.2 Your IP(218.236.***.***) is filtered and this connection will be closed. You must register your IP to spammaster@***.com.", ReasonBlocked},
	// The relay function of the receiving server is broken: a fault there,
	// not a relaying refusal.
	{"451 Relay Server Not Ready.", ReasonSystemError},
	{"451 4.3.0 Temporary system failure. Please try again later.", ReasonSystemError},
	// Protocol mismatch or not an SMTP server at all: a system fault.
	{"451 4.3.0 Other or undefined mail system status", ReasonSystemError},
	// The receiving server timed out: network trouble.
	{"451 4.4.2 Bad connection (io timeout)", ReasonNetworkError},
	// The explanation: the address does not exist there. Unambiguous words
	// keep userunknown under a 4yz code.
	{"452 sorry, your recipient address is not in my local list", ReasonUserUnknown},
	{"452 4.4.5 Insufficient disk space; try again later", ReasonSystemFull},
	// The explanation: the receiving server is out of storage. The words
	// are RFC 5321's text for 552, so the code decides: 452 (insufficient
	// system storage) and 4.4.5 (mail system congestion).
	{"452 4.4.5 Requested mail action aborted: exceeded storage allocation", ReasonSystemFull},
	// The explanation: the recipient's mailbox is out of space (the
	// per-recipient "<addr>... " form of the message).
	{"452 4.4.5 <test@sample.com>... Insufficient disk space; try again later", ReasonMailboxFull},
	{"452 4.4.5 Disk write / Insufficient disk space error occurred", ReasonSystemFull},
	{"452 4.4.5 MailBox or MessageQuota exceed for <E-mail Address>", ReasonMailboxFull},
	{"500 Syntax error, command unrecognized", ReasonSyntaxError},
	// The receiver refused the sender's domain.
	{"501 Denied domain name", ReasonRejected},
	// The sender's address is malformed.
	{"501 Bad sender address expression", ReasonRejected},
	{"501 Argument missing", ReasonSyntaxError},
	// The sender's domain does not exist (the explanation's "수신측" reads
	// the parenthesised domain as the receiver's; the words say sender).
	{"501 5.1.8 Sender domain must exist(honorstech.com)", ReasonRejected},
	{"503 Bad sequence of commands", ReasonSyntaxError},
	// The sending server, domain or address is on the receiver's spammer
	// list: a block of the sender, not a judgement of the content.
	{"504 You are registered as spammer", ReasonBlocked},
	{"505 Authentication required", ReasonSecurityError},
	{"511 sorry, no mailbox here by that name (#5.1.1 - chkuser)", ReasonUserUnknown},
	// The explanation: the receiving server failed or the network is busy,
	// so it did not answer — not a missing host.
	{"512 5.1.2 Bad destination system address", ReasonNetworkError},
	{"550 No inbox for <E-mail Address>", ReasonUserUnknown},
	{"550 User unknown", ReasonUserUnknown},
	{"550 Requested action not taken: mailbox unavailable", ReasonUserUnknown},
	{"550 RCPT <test@kornet.net> ERROR. Mailbox doesn't exist", ReasonUserUnknown},
	// The receiver filtered the sender's address or IP.
	{"550 Mail is reject ( filtering reject )", ReasonBlocked},
	{"550 Invalid recipient", ReasonUserUnknown},
	{"550 Relay rejected for <E-Mail Address>", ReasonNoRelaying},
	{"550 relaying to <E-Mail Address> prohibited by administrator", ReasonNoRelaying},
	{"550 Denied by policy: Sender is listed on DNS-based RBL", ReasonBlocked},
	{"550 Mail sender unuses allowed IP. SMTP Proxy Server close ...", ReasonBlocked},
	// The connection of the sending server was refused.
	{"550 5.0.0 Access denied", ReasonBlocked},
	// The account exists but is dormant.
	{"550 5.1.1 Suspended user <***@****.co.kr>", ReasonSuspend},
	{"550 5.1.1 No such user <E-mail Address>", ReasonUserUnknown},
	// The explanation: the receiving server answered late, failed, or the
	// network is unstable.
	{"550 5.1.2 <***@yahoo.net>... Unsupported mail destination", ReasonNetworkError},
	{"550 5.5.0 VIRUS detected from your mail. Cure & Try again. Found by virus scan engine.", ReasonVirusDetected},
	// The recipient refuses mail from this sender.
	{"550 5.7.1 <***@****.net>... Access denied.(211.202.13.144) <***@****.net>", ReasonFiltered},
	// Relaying was refused because the sending IP has no (matching)
	// reverse DNS: the explanation asks to fix the PTR and A records.
	{"550 5.7.1 <E-Mail Address>. Relaying denied. IP name lookup failed <IP Address>", ReasonRequirePTR},
	{"553 sorry, your envelope sender is in my badmailfrom list", ReasonRejected},
	// The explanation says the sender's domain is blocked; the words are
	// qmail's rcpthosts refusal: that host does not serve the recipient's
	// domain. The taxonomy's norelaying describes exactly that; the category
	// (policy) is the same either way.
	{"553 sorry, that domain isn't in my list of allowed rcpt hosts", ReasonNoRelaying},
	// The provider does not serve the recipient's domain.
	{"553-This target address is not our MX service", ReasonNoRelaying},
	// The sender's account is listed as a spammer: the envelope sender is
	// refused.
	{"553 sorry, your envelope sender is enlisted as spammer.", ReasonRejected},
	{"553 Too many recipients", ReasonTooManyConn},
	{"553 5.0.0 Your message may contain the Win32.Klez worm!!- If you have questions,please email postmaster@ecweb-1.blueweb.co.kr.", ReasonVirusDetected},
	{"553 5.1.8 <uni@honorstech.com>... Domain of sender address uni@honorstech.com does not exist", ReasonRejected},
	// The explanation: the sender is registered as a spammer. The one word
	// cannot tell a listed sender from content judged to be spam; the
	// taxonomy's spamdetected fits the word. Policy either way.
	{"553 5.3.0 <***@hananet.net>... spam", ReasonSpamDetected},
	{"553 5.5.4 Host name (xxx.com) is not match with your ip(xxx.xxx.xxx.xxx), maybe it's bogus. Visit http://antispam.hanmail.net", ReasonRequirePTR},
	{"553 5.5.4 <xxx> ... Domain name required for sender address <xxx>", ReasonRejected},
	{"554 delivery error: dd Sorry, your message to <E-Mail Address> cannot be delivered. This account is over quota", ReasonMailboxFull},
	{"554 5.1.0 Sender Denied", ReasonRejected},
	// The explanation reads this as too many recipients in one message;
	// the words are those of a forwarding loop (hop count). The words are
	// what the classifier has: networkerror. Soft either way.
	{"554 5.3.0 Mail have traversed Too many hops. Reject it.", ReasonNetworkError},
	// The recipient refused the sender.
	{"554 5.3.2 Rejected by mailbox host. REPLY:(250 <ahnmin@thinknet.or.kr>... Sender ok)", ReasonFiltered},
	{"554 5.3.4 Too big mail sent. Max allowed mail size is xxxxxxxxx bytes", ReasonMesgTooBig},
	// Nate's spam policy refused the message.
	{"554 5.5.0 Your message was rejected. Please refer to http://antispam.nate.com/554-550.html [Reject Option]", ReasonSpamDetected},
	{"557 you must be virus", ReasonVirusDetected},
}

// seedLineRE matches the reply lines of the seed file: a code, then a
// space, a dash or " :".
var seedLineRE = regexp.MustCompile(`^\s*[2-5][0-9][0-9][ -]`)

// TestSeedFileCovered checks that every reply line of the seed file has a
// row in seedRows, so a line added to the file cannot go untested.
func TestSeedFileCovered(t *testing.T) {
	b, err := os.ReadFile("testdata/smtp-reply-codes-ko.txt")
	require.NoError(t, err)
	rows := map[string]bool{}
	for _, r := range seedRows {
		rows[r.line] = true
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(strings.ReplaceAll(sc.Text(), "\u00a0", " "))
		if !seedLineRE.MatchString(line) {
			continue
		}
		n++
		assert.True(t, rows[line], "seed line %q has no row in seedRows", line)
	}
	require.NoError(t, sc.Err())
	assert.Len(t, seedRows, n, "seedRows against the reply lines of the seed file")
}

// seedAddr is the recipient of the seed's wrappings.
const seedAddr = "user@example.net"

func seedCodes(line string) (reply, status string) { return testmail.SeedCodes(line) }

func TestSeed(t *testing.T) {
	for _, row := range seedRows {
		t.Run(row.line, func(t *testing.T) {
			reply, status := seedCodes(row.line)
			wantCat := row.want.Category()

			check := func(wrapping string, in Input) {
				t.Helper()
				got := Classify(in)
				assert.Equal(t, row.want, got.Reason, "%s: Classify(%+v): reason (%s)", wrapping, in, got.Evidence)
				assert.Equal(t, wantCat, got.Category, "%s: Classify(%+v): category (%s)", wrapping, in, got.Evidence)
			}

			// 1. The bare line.
			check("line", Input{Kind: dsn.KindBounce, Diagnostic: row.line})

			// 2. A DSN's Diagnostic-Code, with Status and Action as the
			// reporting MTA writes them.
			in := Input{Kind: dsn.KindDSN, ReplyCode: reply, Status: status, Diagnostic: row.line, Action: "failed"}
			switch reply[0] {
			case '2':
				in.Action = "delivered"
				if in.Status == "" {
					in.Status = "2.0.0"
				}
			case '3':
				in.Action = ""
			default:
				if in.Status == "" {
					in.Status = reply[:1] + ".0.0"
				}
			}
			check("dsn", in)

			// 3. A qmail-style plain-text bounce: the codes only in the text.
			check("qmail", Input{Kind: dsn.KindBounce, Vendor: "qmail", Diagnostic: qmailNotice(row.line)})

			// 4. A notice in Korean, encoded in EUC-KR, decoded back.
			check("euc-kr", Input{Kind: dsn.KindBounce, Diagnostic: decodeEUCKR(t, koreanNotice(t, row.line))})
		})
	}
}

func qmailNotice(line string) string { return testmail.SeedQmailNotice(line, seedAddr) }

func koreanNotice(t *testing.T, line string) []byte {
	return testmail.SeedKoreanNotice(t, line, seedAddr)
}

func decodeEUCKR(t *testing.T, b []byte) string {
	t.Helper()
	d, _, err := transform.Bytes(korean.EUCKR.NewDecoder(), b)
	require.NoError(t, err, "decoding EUC-KR")
	return string(d)
}

func seedMessages(t *testing.T, line string) map[string][]byte {
	return testmail.SeedMessages(t, line, seedAddr)
}

// TestSeedThroughParser sends every failure line of the seed, in each of
// its three wrappings, through the real parser, as bounces arrive, and
// classifies what it reads: the category the taxonomy gives it, for the
// one recipient the notice names, and no other address (the seed's lines
// name a blocklist operator's contact, the sender's own domain...).
func TestSeedThroughParser(t *testing.T) {
	for _, row := range seedRows {
		if row.line[0] == '2' || row.line[0] == '3' {
			continue // not a failure: the parser is right to report none
		}
		for wrapping, msg := range seedMessages(t, row.line) {
			t.Run(wrapping+"/"+row.line, func(t *testing.T) {
				rep, err := dsn.Parse(bytes.NewReader(msg), nil)
				require.NotNil(t, rep, "dsn.Parse: %v", err)
				var got []string
				for _, r := range rep.Recipients {
					got = append(got, strings.ToLower(r.FinalRecipient))
				}
				require.Equal(t, []string{"user@example.net"}, got, "the recipients the parser found")
				r := rep.Recipients[0]
				// The parser's job, not the classifier's: a recipient with
				// neither the reply line nor a code had its text cut
				// before the reply line.
				kept := strings.Contains(r.Diagnostic, row.line[4:]) || r.Status != "" || r.ReplyCode != ""
				assert.True(t, kept, "dsn.Parse kept no reply line for the recipient: Diagnostic %q", r.Diagnostic)
				in := Input{Kind: rep.Kind, Status: r.Status, ReplyCode: r.ReplyCode, Diagnostic: r.Diagnostic,
					Action: r.Action, Command: r.Command, Vendor: rep.Vendor, DiagnosticType: r.DiagnosticType}
				res := Classify(in)
				assert.Equal(t, row.want.Category(), res.Category, "Classify(%+v): %s (%s)", in, res.Reason, res.Evidence)
				assert.Equal(t, row.want, res.Reason, "Classify(%+v): %s (%s)", in, res.Reason, res.Evidence)
			})
		}
	}
}

// TestSeedWantFile keeps testdata/seed-want.tsv, the failure lines of the
// seed with the reason and category seedRows gives them, in step with
// seedRows: cmd/bouncer's end-to-end run reads it to check that no address
// whose category is not hard or complaint is suppressed.
func TestSeedWantFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("# written by go test ./classify -run TestSeedWantFile -update\nline\treason\tcategory\n")
	for _, row := range seedRows {
		if row.line[0] != '4' && row.line[0] != '5' {
			continue
		}
		b.WriteString(row.line + "\t" + string(row.want) + "\t" + string(row.want.Category()) + "\n")
	}
	golden.Check(t, "testdata/seed-want.tsv", []byte(b.String()), *update, "run go test ./classify -run TestSeedWantFile -update")
}
