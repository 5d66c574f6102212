package classify

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.out")

// TestRuleFamilies holds one row per rule family and per way one piece of
// evidence qualifies another.
func TestRuleFamilies(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		want     Reason
		wantRule Family
	}{
		{"kind feedback", Input{Kind: dsn.KindFeedback, FeedbackType: "abuse", Diagnostic: "user unknown"}, ReasonFeedback, RuleKind},
		{"kind autoreply", Input{Kind: dsn.KindAutoReply, Diagnostic: "mailbox full"}, ReasonVacation, RuleKind},
		{"kind notbounce", Input{Kind: dsn.KindNotBounce}, ReasonNotBounce, RuleKind},
		{"action delivered", Input{Kind: dsn.KindDSN, Action: "Delivered", Status: "2.0.0"}, ReasonDelivered, RuleAction},
		{"action relayed", Input{Kind: dsn.KindDSN, Action: "relayed"}, ReasonDelivered, RuleAction},
		{"status 2.x.x", Input{Kind: dsn.KindDSN, Status: "2.1.5"}, ReasonDelivered, RuleStatus},
		{"status 2.x.x on a failed record is ignored", Input{Kind: dsn.KindDSN, Status: "2.1.5", Action: "failed",
			Diagnostic: "Out: 250 2.1.5 Ok In: DATA Out: 451 4.3.0 Error: queue file write error"}, ReasonSystemError, RuleStatus},
		{"phrase beats status", Input{Kind: dsn.KindDSN, Status: "5.1.1", Diagnostic: "552 5.1.1 mailbox full"}, ReasonMailboxFull, RulePhrase},
		{"longer phrase hides the one inside it", Input{Diagnostic: "421 our system has detected an unusual rate of unsolicited mail originating from your ip address"}, ReasonBadReputation, RulePhrase},
		{"full-width ASCII", Input{Diagnostic: "５５０ ＵＳＥＲ　ＵＮＫＮＯＷＮ"}, ReasonUserUnknown, RulePhrase},
		{"phrase with parts, second place", Input{Diagnostic: "user account for mail: the recipient is fine, but user kijitora does not exist"}, ReasonUserUnknown, RulePhrase},
		{"phrase with parts", Input{Diagnostic: "550 user kijitora does not exist here"}, ReasonUserUnknown, RulePhrase},
		{"word boundary: spamhaus is no spam", Input{Diagnostic: "554 listed at spamhaus"}, ReasonBlocked, RulePhrase},
		{"multi-line reply joined", Input{Diagnostic: "550-5.7.1 messages with multiple 550-5.7.1 addresses in from: header are not accepted"}, ReasonNotCompliantRFC, RulePhrase},
		{"provider wording", Input{Command: "DATA", Diagnostic: "554 delivery error: dd This user doesn't have a yahoo.com account"}, ReasonUserUnknown, RulePhrase},
		{"orange code", Input{Diagnostic: "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]"}, ReasonSpamDetected, RulePhrase},
		{"user unknown after DATA is filtered", Input{Command: "DATA", Diagnostic: "550 <a@example.jp>: User unknown"}, ReasonFiltered, RulePhrase},
		{"unknown user in reply to end of DATA is filtered", Input{Kind: dsn.KindBounce, Diagnostic: "host mx.example.jp[192.0.2.1] said: 550 Unknown user x@example.jp (in reply to end of DATA command)"}, ReasonFiltered, RulePhrase},
		{"no such user after DATA from a transcript is filtered", Input{Kind: dsn.KindBounce, Diagnostic: ">>> DATA <<< 550 x@example.jp... No such user"}, ReasonFiltered, RulePhrase},
		{"a pipelined transcript names no command: the words decide", Input{Kind: dsn.KindBounce, Diagnostic: ">>> DATA <<< 550 x@example.com... No such user 550 5.1.1 <x@example.com>... User unknown <<< 503 Issue RCPT TO: command before DATA command"}, ReasonUserUnknown, RulePhrase},
		{"Postfix's RCPT restriction reply with DATA named is RCPT", Input{Kind: dsn.KindBounce, Command: "DATA", Diagnostic: "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table"}, ReasonUserUnknown, RulePhrase},
		{"unknown user in reply to RCPT stays userunknown", Input{Diagnostic: "550 Unknown user x@example.jp (in reply to RCPT TO command)"}, ReasonUserUnknown, RulePhrase},
		{"status 5.1.1 alone after DATA is filtered", Input{Command: "DATA", Status: "5.1.1", Diagnostic: "550 5.1.1 nope"}, ReasonFiltered, RuleStatus},
		// Sendmail's "<x>... Access denied" is its access database refusing the
		// recipient: filtered (policy), not the unknown address of SES's summary.
		{"SES wrapping: the inner reply decides", Input{Kind: dsn.KindDSN, Status: "5.1.0", Diagnostic: "5.1.0 - Unknown address error 550-'5.7.1 <x@example.org>... Access denied'"}, ReasonFiltered, RulePhrase},
		{"SES wrapping: an inner policy status", Input{Kind: dsn.KindDSN, Status: "5.1.0", Diagnostic: "5.1.0 - Unknown address error 550-'5.7.1 Delivery not authorized'"}, ReasonSecurityError, RuleStatus},
		{"SES wrapping: an inner unknown user", Input{Kind: dsn.KindDSN, Status: "5.1.0", Diagnostic: "5.1.0 - Unknown address error 550-'5.1.1 <x@example.org>: Recipient address rejected: User unknown in virtual mailbox table'"}, ReasonUserUnknown, RulePhrase},
		{"SES wrapping: the relay says the message was refused, the reply an unknown user", Input{Kind: dsn.KindDSN, Status: "5.0.0",
			Diagnostic: "5.3.0 - Other mail system problem 550-'Unknown user x@example.jp' (delivery attempts: 0)"}, ReasonFiltered, RulePhrase},
		{"SES wrapping: both say the address is unknown", Input{Kind: dsn.KindDSN, Status: "5.1.1",
			Diagnostic: "5.1.1 - Unknown address error 550-'Unknown user x@example.jp'"}, ReasonUserUnknown, RulePhrase},
		{"SES wrapping: an inner reply that says nothing", Input{Kind: dsn.KindDSN, Status: "5.1.1", Diagnostic: "5.1.1 - Unknown address error 550-'sorry'"}, ReasonOnHold, RuleNone},
		{"Exchange wrapping: the inner reply decides", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "Unknown address error: Remote Server returned '554 5.7.1 <x@example.org>: Relay access denied'"}, ReasonNoRelaying, RulePhrase},
		{"Postfix wrapping: the host name is no evidence", Input{Kind: dsn.KindBounce, Diagnostic: "<x@example.org>: host spam-filter.example.org[192.0.2.1] said: 550 5.2.2 sorry (in reply to RCPT TO command)"}, ReasonMailboxFull, RuleStatus},
		{"Gmail wrapping: the remote reply decides", Input{Kind: dsn.KindBounce, Diagnostic: "Your message wasn't delivered to x@example.org because the address couldn't be found. The response from the remote server was: 552 5.2.2 The email account that you tried to reach is over quota."}, ReasonMailboxFull, RulePhrase},
		// The templates of issue 18, as the parser hands their words over.
		{"vpopmail: the address no longer accepts mail", Input{Kind: dsn.KindBounce, Diagnostic: "<ann@example.net>: This address no longer accepts mail."}, ReasonSuspend, RulePhrase},
		{"Domino: not listed in the directory", Input{Kind: dsn.KindBounce, Diagnostic: "User fay (fay@notes.example.jp) not listed in Domino Directory"}, ReasonUserUnknown, RulePhrase},
		{"Domino in Japanese: not found in the directory", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "ユーザー fay (fay@notes.example.jp) は Domino ディレクトリには見つかりません。"}, ReasonUserUnknown, RulePhrase},
		{"Domino in French: not listed in the directory", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "Utilisateur fay (fay@notes.example.fr) non répertorié dans l'annuaire Domino"}, ReasonUserUnknown, RulePhrase},
		{"Domino in Spanish: not in the directory", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "El usuario fay (fay@notes.example.es) no se encuentra en el Directorio de Domino"}, ReasonUserUnknown, RulePhrase},
		{"GroupWise: user not found", Input{Kind: dsn.KindBounce, Diagnostic: "gus (user not found) Possible causes: The e-mail address was misspelled or is no longer active."}, ReasonUserUnknown, RulePhrase},
		{"IMail: the mailbox exceeds its size", Input{Kind: dsn.KindBounce, Diagnostic: "User mailbox exceeds allowed size: jan@mgw.example.com"}, ReasonMailboxFull, RulePhrase},
		{"IMail: undeliverable to, and nothing else", Input{Kind: dsn.KindBounce, Diagnostic: "undeliverable to ian@mgw.example.com"}, ReasonUndefined, RuleNone},
		{"Mercury: no such local user", Input{Kind: dsn.KindBounce, Diagnostic: "lee@mercury.example.org Reason: 550 5.1.1 No such local user"}, ReasonUserUnknown, RulePhrase},
		{"old AOL: mailbox not found", Input{Kind: dsn.KindBounce, Diagnostic: ">>> RCPT To:<mo@aol.example> <<< 550 MAILBOX NOT FOUND"}, ReasonUserUnknown, RulePhrase},
		{"a class-4 status alone is not hard", Input{Kind: dsn.KindDSN, Action: "failed", Status: "4.1.1", Diagnostic: "450 4.1.1 sorry"}, ReasonOnHold, RuleStatus},
		{"a class-4 status of a disabled mailbox is not hard", Input{Kind: dsn.KindDSN, Action: "failed", Status: "4.2.1"}, ReasonOnHold, RuleStatus},
		{"user unknown with a status that says the mailbox exists is filtered", Input{Status: "5.7.1", Diagnostic: "550 5.7.1 <a@example.jp>: User unknown"}, ReasonFiltered, RulePhrase},
		{"user unknown after DATA with 5.1.1 is filtered", Input{Command: "DATA", Status: "5.1.1", Diagnostic: "550 5.1.1 User unknown"}, ReasonFiltered, RulePhrase},
		{"command from the text", Input{Diagnostic: "host mx said: 550 5.7.1 Access denied (in reply to MAIL FROM command)"}, ReasonRejected, RulePhrase},
		{"qmail: no host by that name", Input{Kind: dsn.KindBounce, Diagnostic: "<bob@example.com>: Sorry, I couldn't find any host by that name."}, ReasonHostUnknown, RulePhrase},
		{"host not found", Input{Kind: dsn.KindBounce, Diagnostic: "Host not found: mail.example.invalid"}, ReasonHostUnknown, RulePhrase},
		{"French: the address does not exist", Input{Kind: dsn.KindBounce, Diagnostic: "L'adresse de messagerie référencée ci-dessus n'existe pas."}, ReasonUserUnknown, RulePhrase},
		{"RCPT names an address that does not exist", Input{Kind: dsn.KindBounce, Diagnostic: "Rcpt <x@example.org> does not exist"}, ReasonUserUnknown, RulePhrase},
		{"unknown e-mail address under a generic status", Input{Kind: dsn.KindDSN, Status: "5.3.0", Diagnostic: "550 Unknown E-Mail Address <x@example.org>"}, ReasonUserUnknown, RulePhrase},
		{"the maximum incoming message size", Input{Kind: dsn.KindBounce, Diagnostic: "The message exceeded the maximum incoming message size of the server"}, ReasonMesgTooBig, RulePhrase},
		{"the recipient's settings refuse the sender", Input{Kind: dsn.KindBounce, Diagnostic: "Your mail to the following recipients could not be delivered because they are not accepting mail from news@example.org: kewlname"}, ReasonFiltered, RulePhrase},
		{"a message without To refused", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "Failed to deliver to '<a@example.lv>' Messages without To: fields are not accepted here"}, ReasonNotCompliantRFC, RulePhrase},
		{"a bad-recipient token", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "550 BAD_RECIPIENT - see http://mail.example.ac.uk/undelivered.php?r=BAD_RECIPIENT"}, ReasonUserUnknown, RulePhrase},
		{"an ambiguous name in a directory", Input{Kind: dsn.KindBounce, Diagnostic: "Recipient user name kim (kim@corp.example) not unique. Several matches found in Domino Directory."}, ReasonUserUnknown, RulePhrase},
		{"kind challenge", Input{Kind: dsn.KindChallenge, Diagnostic: "Sender not pre-approved"}, ReasonNotBounce, RuleKind},
		{"user unknown at MAIL is the sender", Input{Command: "MAIL", Diagnostic: "553 5.1.8 unknown user"}, ReasonRejected, RulePhrase},
		{"refused at MAIL", Input{Diagnostic: "550 5.7.1 Access denied (in reply to MAIL FROM command)"}, ReasonRejected, RulePhrase},
		{"unspecific refusal", Input{Diagnostic: "550 Access denied"}, ReasonBlocked, RulePhrase},
		{"unspecific refusal, code decides", Input{Status: "5.7.26", Diagnostic: "550 5.7.26 access denied"}, ReasonAuthFailure, RuleStatus},
		{"rejected before MAIL", Input{Command: "EHLO", Diagnostic: "501 5.0.0 Invalid domain name"}, ReasonBlocked, RulePhrase},
		{"host unknown under 4xx", Input{Status: "4.4.3", Diagnostic: "host not found, try again"}, ReasonNetworkError, RulePhrase},
		{"host unknown", Input{Status: "5.1.2", Diagnostic: "550 Host unknown"}, ReasonHostUnknown, RulePhrase},
		{"delayed network trouble", Input{Action: "delayed", Status: "4.4.1", Diagnostic: "connection refused"}, ReasonExpired, RulePhrase},
		{"status", Input{Kind: dsn.KindDSN, Status: "5.2.2", Diagnostic: "552 sorry"}, ReasonMailboxFull, RuleStatus},
		// RFC 3463 X.3.2: the host is not accepting messages (shutdown,
		// load, maintenance); not a domain that takes no mail (5.1.10).
		{"system not accepting messages", Input{Kind: dsn.KindDSN, Status: "5.3.2", Diagnostic: "554 5.3.2 nope"}, ReasonSystemError, RuleStatus},
		{"null MX", Input{Kind: dsn.KindDSN, Status: "5.1.10", Diagnostic: "556 5.1.10 nope"}, ReasonNotAccept, RuleStatus},
		// RFC 7504: 521, the host does not accept mail, whatever the
		// system status says.
		{"521 under a system status", Input{Kind: dsn.KindDSN, Status: "5.3.2", ReplyCode: "521", Diagnostic: "521 5.3.2 nope"}, ReasonNotAccept, RuleReply},
		{"status comment", Input{Kind: dsn.KindDSN, Status: "5.2.1 (mailbox disabled, not accepting messages)", Diagnostic: "550 5.2.1 nope"}, ReasonSuspend, RulePhrase},
		{"status from the text", Input{Kind: dsn.KindBounce, Diagnostic: "Remote host said: 550 5.1.2 nope"}, ReasonHostUnknown, RuleStatus},
		{"qmail status in parentheses", Input{Kind: dsn.KindBounce, Diagnostic: "Sorry, nope. (#5.1.1)"}, ReasonUserUnknown, RuleStatus},
		{"specific code from the text beats 5.0.0", Input{Kind: dsn.KindDSN, Status: "5.0.0", Diagnostic: "550 5.1.1 nope"}, ReasonUserUnknown, RuleStatus},
		{"x.0.0 falls to the reply code", Input{Kind: dsn.KindDSN, Status: "5.0.0", ReplyCode: "552", Diagnostic: "552 nope"}, ReasonMailboxFull, RuleReply},
		{"microsoft status", Input{Kind: dsn.KindDSN, Status: "5.7.606", Diagnostic: "550 5.7.606 nope"}, ReasonBlocked, RuleStatus},
		{"512 5.1.2", Input{Kind: dsn.KindDSN, Status: "5.1.2", ReplyCode: "512", Diagnostic: "512 5.1.2 nope"}, ReasonNetworkError, RuleReply},
		{"reply code", Input{ReplyCode: "503", Diagnostic: "503 nope"}, ReasonSyntaxError, RuleReply},
		{"refused at MAIL without words", Input{Command: "MAIL", Diagnostic: "553 5.1.0 nope"}, ReasonRejected, RuleCommand},
		{"action delayed", Input{Kind: dsn.KindDSN, Action: "delayed", Status: "4.0.0"}, ReasonExpired, RuleAction},
		{"connection refused before MAIL", Input{Command: "CONNECT", Diagnostic: "554 nope"}, ReasonBlocked, RuleCommand},
		{"x-unix mailer", Input{Kind: dsn.KindDSN, DiagnosticType: "X-Unix", Status: "5.3.0", Diagnostic: "255"}, ReasonMailerError, RulePhrase},
		{"generic words decide nothing", Input{Kind: dsn.KindBounce, Diagnostic: "Delivery failed: the message was undeliverable. This is a permanent error."}, ReasonUndefined, RuleNone},
		// A directory's notice gives a person's telephone number: its
		// groups of three digits are no reply codes.
		{"a telephone number is no reply code", Input{Kind: dsn.KindBounce, Diagnostic: "Your message could not be delivered. " +
			"For help call the helpdesk at +1 925-550-5635 or 555-421-1234."}, ReasonUndefined, RuleNone},
		{"a multi-line reply is a reply code", Input{Kind: dsn.KindBounce, Diagnostic: "host said: 550-5.7.1 sorry"}, ReasonSecurityError, RuleStatus},
		{"a code alone is onhold", Input{Kind: dsn.KindBounce, Diagnostic: "Delivery failed: 550 undeliverable."}, ReasonOnHold, RuleNone},
		{"vacation words in a bounce", Input{Kind: dsn.KindBounce, Diagnostic: "I am out of the office until Monday."}, ReasonVacation, RulePhrase},
		{"nothing", Input{Kind: dsn.KindBounce}, ReasonUndefined, RuleNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.in)
			assert.Equal(t, tt.want, got.Reason, "Classify(%+v): reason (%s)", tt.in, got.Evidence)
			assert.Equal(t, tt.wantRule, got.Evidence.Rule, "Classify(%+v): rule (%s)", tt.in, got.Evidence)
			assert.Equal(t, tt.want.Category(), got.Category, "Classify(%+v): category", tt.in)
		})
	}
}

// TestLanguages holds the common phrases of unknown user, full mailbox,
// blocked sender, spam, over quota and disabled account in each language.
func TestLanguages(t *testing.T) {
	type row struct{ user, full, blocked, spam, quota, disabled string }
	langs := map[string]row{
		"English":    {"550 5.1.1 User unknown", "552 Mailbox full", "554 Client host blocked using zen.spamhaus.org", "550 Message rejected as spam", "452 User over quota", "550 Account disabled"},
		"Korean":     {"존재하지 않는 사용자입니다", "받는 사람의 메일함이 가득 찼습니다", "발송 IP가 차단되었습니다", "스팸으로 분류되어 거부되었습니다", "메일함 용량을 초과하였습니다", "휴면 계정입니다"},
		"Japanese":   {"宛先のユーザが存在しません", "メールボックスがいっぱいです", "ブラックリストに登録されています", "迷惑メールと判断されました", "容量制限を超えました", "このアカウントは利用停止されています"},
		"Chinese":    {"收件人不存在", "邮箱已满", "您的IP在黑名单中", "被识别为垃圾邮件", "超出配额", "账户已停用"},
		"German":     {"Empfänger unbekannt", "Postfach ist voll", "Ihre IP steht auf der Sperrliste", "Nachricht als Spam eingestuft", "Speicherkontingent überschritten", "Konto deaktiviert"},
		"French":     {"Destinataire inconnu", "Boîte aux lettres pleine", "Votre adresse IP est sur liste noire", "Message considéré comme spam", "Quota dépassé", "Compte désactivé"},
		"Spanish":    {"Usuario desconocido", "Buzón lleno", "Su IP está en lista negra", "Mensaje considerado spam", "Cuota excedida", "Cuenta desactivada"},
		"Portuguese": {"Usuário desconhecido", "Caixa postal cheia", "IP na lista negra", "Mensagem considerada spam", "Cota excedida", "Conta desativada"},
		"Italian":    {"Utente sconosciuto", "Casella piena", "IP in lista nera", "Messaggio considerato spam", "Quota superata", "Account disabilitato"},
		"Russian":    {"Пользователь не найден", "Почтовый ящик переполнен", "Ваш IP в черном списке", "Письмо похоже на спам", "Превышена квота", "Учетная запись отключена"},
	}
	for lang, r := range langs {
		for _, c := range []struct {
			what, text string
			want       Reason
		}{
			{"unknown user", r.user, ReasonUserUnknown},
			{"full mailbox", r.full, ReasonMailboxFull},
			{"blocked sender", r.blocked, ReasonBlocked},
			{"spam", r.spam, ReasonSpamDetected},
			{"over quota", r.quota, ReasonMailboxFull},
			{"disabled account", r.disabled, ReasonSuspend},
		} {
			t.Run(lang+"/"+c.what, func(t *testing.T) {
				got := Classify(Input{Kind: dsn.KindBounce, Diagnostic: c.text})
				assert.Equal(t, c.want, got.Reason, "Classify(%q) (%s)", c.text, got.Evidence)
			})
		}
	}
}

func TestParseRules(t *testing.T) {
	src := `# local provider wordings
mailbox has been retired     suspend

/quota (is )?exhausted/      MailboxFull
no mailbox (#5.1.1) here      userunknown
`
	rules, err := ParseRules(strings.NewReader(src))
	require.NoError(t, err, "ParseRules")
	want := []Rule{
		{Phrase: "mailbox has been retired", Reason: ReasonSuspend, Line: 2},
		{Regexp: "quota (is )?exhausted", Reason: ReasonMailboxFull, Line: 4},
		{Phrase: "no mailbox (#5.1.1) here", Reason: ReasonUserUnknown, Line: 5},
	}
	assert.Equal(t, want, rules, "ParseRules")

	for _, tt := range []struct{ name, src, line string }{
		{"unknown reason", "ok userunknown\nsome phrase nosuchreason\n", "line 2"},
		{"no reason", "\n\nlonely\n", "line 3"},
		{"bad regexp", "/a(b/ blocked\n", "line 1"},
		{"empty phrase", "// blocked\n", "line 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules(strings.NewReader(tt.src))
			require.ErrorIs(t, err, ErrBadRule, "ParseRules(%q)", tt.src)
			assert.Contains(t, err.Error(), tt.line+":", "ParseRules(%q) error names the line", tt.src)
			assert.True(t, strings.HasPrefix(err.Error(), "classify: "), "ParseRules(%q) error %q starts with the package name", tt.src, err)
		})
	}
}

func TestClassifierRules(t *testing.T) {
	rules, err := ParseRules(strings.NewReader("mailbox has been retired suspend\n/quota (is )?exhausted/ mailboxfull\nuser unknown filtered\n"))
	require.NoError(t, err)
	c, err := New(&Options{Rules: rules})
	require.NoError(t, err)
	for _, tt := range []struct {
		diag string
		want Reason
		rule Family
	}{
		{"550 The Mailbox  has been RETIRED", ReasonSuspend, RuleUser},
		{"452 quota is exhausted", ReasonMailboxFull, RuleUser},
		{"550 5.1.1 user unknown", ReasonFiltered, RuleUser}, // the user's rule comes first
		{"550 5.1.1 no such user", ReasonUserUnknown, RulePhrase},
	} {
		got := c.Classify(Input{Kind: dsn.KindDSN, Diagnostic: tt.diag})
		assert.Equal(t, tt.want, got.Reason, "Classify(%q): reason (%s)", tt.diag, got.Evidence)
		assert.Equal(t, tt.rule, got.Evidence.Rule, "Classify(%q): rule (%s)", tt.diag, got.Evidence)
	}
	_, err = New(&Options{Rules: []Rule{{Phrase: "x", Reason: "bogus"}}})
	assert.ErrorIs(t, err, ErrBadRule, "New with a bad reason")
	for _, opts := range []*Options{nil, {}} {
		c, err := New(opts)
		require.NoError(t, err)
		got := c.Classify(Input{Diagnostic: "550 user unknown"})
		assert.Equal(t, ReasonUserUnknown, got.Reason, "New(%v).Classify", opts)
	}
}

func TestMaxTextBytes(t *testing.T) {
	c, err := New(&Options{MaxTextBytes: 20})
	require.NoError(t, err)
	in := Input{Kind: dsn.KindBounce, Diagnostic: "550 sorry, no luck. " + strings.Repeat("é", 10) + " user unknown"}
	got := c.Classify(in)
	assert.Equal(t, ReasonOnHold, got.Reason, "Classify past MaxTextBytes (%s)", got.Evidence)
	assert.Equal(t, ReasonUserUnknown, Classify(in).Reason, "Classify without a limit")
}

func TestEvidenceString(t *testing.T) {
	for _, tt := range []struct {
		e    Evidence
		want string
	}{
		{Evidence{Rule: RulePhrase, Match: "user unknown"}, `phrase "user unknown"`},
		{Evidence{Rule: RuleStatus, Match: "5.1.1"}, `status "5.1.1"`},
		{Evidence{Rule: RuleNone}, `none`},
		{Evidence{Rule: RulePhrase, Match: "unknown user", Note: "n"}, `phrase "unknown user" (n)`},
	} {
		assert.Equal(t, tt.want, tt.e.String(), "%#v.String()", tt.e)
	}
}

func TestTaxonomy(t *testing.T) {
	assert.Len(t, Reasons(), 36, "Reasons()")
	assert.Len(t, categories, 36, "categories")
	for _, r := range Reasons() {
		assert.True(t, r.Valid(), "Reasons() holds %q, which has no category", r)
	}
	for _, r := range reasonOrder {
		if !strings.HasPrefix(string(r), "~") {
			assert.True(t, r.Valid(), "reasonOrder holds %q, not a reason", r)
		}
	}
	for r := range phraseTable {
		assert.Contains(t, rankOf, r, "phraseTable reason %q is not in reasonOrder", r)
	}
	for r, ps := range phraseTable {
		for _, p := range ps {
			if !strings.ContainsAny(p, "*|!") {
				assert.Equal(t, normalize(p), p, "phrase %q (%s) is not normalized", p, r)
			}
		}
	}
}

// TestGolden classifies testdata/golden.tsv and compares the results, with
// their evidence, to testdata/golden.out.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.tsv")
	require.NoError(t, err)
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.SplitN(line, "\t", 6)
		require.Len(t, fs, 6, "golden.tsv: bad line %q", line)
		for i := range fs {
			if fs[i] == "-" {
				fs[i] = ""
			}
		}
		in := Input{Kind: dsn.Kind(fs[0]), Status: fs[1], ReplyCode: fs[2], Action: dsn.Action(fs[3]), Command: dsn.Command(fs[4]),
			Diagnostic: strings.ReplaceAll(fs[5], `\n`, "\n")}
		r := Classify(in)
		perm := ""
		if r.Permanent {
			perm = "\tpermanent"
		}
		fmt.Fprintf(&out, "%s\t%s\t%s%s\n", r.Reason, r.Category, r.Evidence, perm)
	}
	require.NoError(t, sc.Err())
	golden.Check(t, "testdata/golden.out", []byte(out.String()), *update, "run go test ./classify -run TestGolden -update")
}
