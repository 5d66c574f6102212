package dsn

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// originalMarkers start the copy of the returned message inside a
// free-text bounce. They are matched, lower-cased, at the start of a line
// once leading dashes, equal signs, asterisks, brackets and spaces are
// trimmed.
var originalMarkers = []string{
	"below this line is a copy of the message",  // qmail
	"this is a copy of the message",             // Exim
	"this is a copy of your message",            // Exim
	"this is a copy of the body of the message", // Exim
	"message headers follow",                    // DragonFly
	"original message -",                        // Gmail
	"original message follows",                  // Sendmail V5
	"here is your returned mail",                // smail
	"original message as received",              // directory (ph) gateways
	"original message header",                   // various
	"original message:",                         //
	"original-message headers",                  //
	"original mail as follows",                  // fml
	"unsent message follows",                    // Sendmail
	"message header follows",                    // Sendmail
	"the header of the original message",        // various
	"returned message",                          //
	"returned mail follows",                     // IMail
	"a copy of the original message",            //
	"below is a copy of the original message",   // OpenSMTPD
	"the original message headers were",         //
	"the original message was:",                 //
	"the original message --",                   //
	"for reference, here is the header of your original message",
	"your message reads (in part)",                    // Exchange 5.5, SMTPSVC
	"old message:",                                    // Microsoft's non-delivery reports
	"included is a copy of the message header",        // various
	"here is a copy of the first part of the message", // various
	"the text of your message was",                    //
	"headers of the original message",                 //
	"原文",                                              // Japanese carriers
	"元のメッセージ",                                         // Japanese
	"원본 메시지",                                          // Korean
}

// splitOriginal cuts a notice into the notice proper and the inline copy
// of the returned original (its header first), when there is one.
func splitOriginal(s string) (notice, original string) {
	for off := 0; off < len(s); {
		raw, next := nextLine(s, off)
		line := strings.TrimLeft(raw, " \t-=*[<|_")
		if len(line) >= 2 && len(line) < 200 && (isMarkerLine(line) || separatorBeforeOriginal(raw)) {
			return s[:off], strings.TrimLeft(s[next:], " \t\n")
		}
		off = next
	}
	// Without a marker, a block of header lines after a blank line starts
	// the original.
	if i := headerBlockStart(s); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// separatorBeforeOriginal reports whether a line is a rule of dashes,
// equal signs or underscores whose words announce the copy of the message
// ("|---- Message text follows: ----|", "====== Original message text
// ======", "--- Returned mail header ---"). The rules that announce the
// failed addresses or the log ("Failed addresses follow", "Message log
// follows") are part of the notice.
func separatorBeforeOriginal(line string) bool {
	t := strings.TrimSpace(line)
	if len(t) > 200 || !(strings.Contains(t, "---") || strings.Contains(t, "===") || strings.Contains(t, "___") || strings.Contains(t, "***")) {
		return false
	}
	l := asciiLower(strings.Trim(t, " \t-=_*|[]<>:"))
	if l == "" || containsAny(l, []string{"address", "recipient", "log", "transcript", "error", "reason", "diagnostic", "report"}) {
		return false
	}
	return containsAny(l, []string{"message text", "message follows", "text follows", "original message", "original mail",
		"returned message", "returned mail", "message header", "headers follow", "header follows", "copy of", "undelivered message",
		"message body", "body follows", "original text", "rejected message", "included message", "enclosed message"})
}

// markerFirst holds the first bytes of the ASCII markers, lower and upper
// case, to skip most lines with one look.
var markerFirst = func() [256]bool {
	var t [256]bool
	for _, m := range originalMarkers {
		c := m[0]
		t[c] = true
		if c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = true
		}
	}
	return t
}()

func isMarkerLine(line string) bool {
	if !markerFirst[line[0]] {
		return false
	}
	l := strings.ToLower(line)
	for _, m := range originalMarkers {
		if strings.HasPrefix(l, m) {
			return true
		}
	}
	return false
}

func lineStart(s string, i int) int {
	for i > 0 && s[i-1] != '\n' {
		i--
	}
	return i
}

var origHeaderNames = []string{
	"return-path:", "received:", "from:", "to:", "subject:", "date:", "message-id:", "mime-version:",
	"content-type:", "dkim-signature:", "x-mailer:", "reply-to:", "delivered-to:", "sender:",
}

func isHeaderLine(l string) bool {
	if len(l) < 4 {
		return false
	}
	lower := strings.ToLower(l[:min(len(l), 20)])
	for _, n := range origHeaderNames {
		if strings.HasPrefix(lower, n) {
			return true
		}
	}
	return false
}

// headerBlockStart finds, after a blank line, three consecutive lines that
// look like message header fields.
func headerBlockStart(s string) int {
	prevBlank := true
	for off := 0; off < len(s); {
		line, next := nextLine(s, off)
		if prevBlank && off > 0 && isHeaderLine(line) {
			n := 0
			o2 := off
			for o2 < len(s) && n < 3 {
				l, n2 := nextLine(s, o2)
				if isHeaderLine(l) {
					n++
				} else if !(len(l) > 0 && (l[0] == ' ' || l[0] == '\t')) && !strings.Contains(l[:min(len(l), 40)], ": ") {
					break
				}
				o2 = n2
			}
			if n >= 3 && strongHeaderIn(s[off:o2]) {
				return off
			}
		}
		// QUIRK: a rule of dashes or equal signs alone separates like a
		// blank line: au (KDDI) puts one between its notice and the
		// original's header (testdata/lhost-ezweb-01.eml).
		prevBlank = strings.TrimSpace(line) == "" || isRule(line)
		off = next
	}
	return -1
}

// isRule reports whether line is a rule: at least ten dashes, equal signs
// or underscores and nothing else but blanks.
func isRule(line string) bool {
	t := strings.TrimSpace(line)
	if len(t) < 10 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c != '-' && c != '=' && c != '_' {
			return false
		}
	}
	return true
}

// MaxDiagnosticBytes caps a diagnostic taken from a notice's text.
const MaxDiagnosticBytes = 2000

// maxBlockLines caps the lines of a notice read for one recipient.
const maxBlockLines = 30

// diagnosticFrom turns a block of notice text into a one-line diagnostic
// of at most MaxDiagnosticBytes, cut between characters.
func diagnosticFrom(block string) string {
	if len(block) > 4*MaxDiagnosticBytes {
		block = block[:4*MaxDiagnosticBytes]
	}
	return textcut.Bytes(collapseSpace(block), MaxDiagnosticBytes)
}

// maxBlockBytes caps the text of one recipient's block, and
// maxContextBytes the text read on each side of an address to judge its
// position: past them, the cost per address would grow with the length of
// a hostile line, and the search would be quadratic.
const (
	maxBlockBytes   = 8 << 10
	maxContextBytes = 256
)

// recipientBlock returns the lines of the notice about addr: from the first
// line that names it, to the next blank-line separated paragraph that names
// another address, at most 30 lines and maxBlockBytes.
func (p *parser) recipientBlock(body, addr string) string {
	at, ok := p.addrIndex(body)[asciiLower(addr)]
	if !ok {
		return ""
	}
	return recipientBlockAt(body, at.line, at.hit, addr)
}

// addrAt is where an address was first named in the notice: the start of
// its line and of the address.
type addrAt struct{ line, hit int }

// addrIndex maps every address the notice names (lower case) to where it
// is first named, computed once per message: one pass over the text
// instead of a search for each recipient.
func (p *parser) addrIndex(body string) map[string]addrAt {
	if p.addrs != nil && p.addrsOf == body {
		return p.addrs
	}
	idx := map[string]addrAt{}
	for off := 0; off < len(body); {
		at := off
		var line string
		line, off = nextLine(body, off)
		if strings.IndexByte(line, '@') < 0 {
			continue
		}
		for _, h := range findAddrs(line) {
			k := asciiLower(h.addr)
			if _, ok := idx[k]; !ok {
				idx[k] = addrAt{at, at + h.start}
			}
		}
	}
	p.addrs, p.addrsOf = idx, body
	return idx
}

// recipientBlockAt is recipientBlock for the address at hit, on the line of
// body that starts at st.
func recipientBlockAt(body string, st, hit int, addr string) string {
	limit := maxBlockBytes
	if hit-st > maxBlockBytes/4 {
		// Deep inside a long line: the block is the text around it.
		st, limit = hit-maxContextBytes, 4*maxContextBytes
		for st < hit && !utf8.RuneStart(body[st]) {
			st++
		}
	} else if line, _, _ := cutLine(body, st, maxBlockBytes); alone(line, hit-st, addr) {
		// When the address stands alone on its line, the reason may come
		// just before it, in the same paragraph ("User not listed in
		// public Name & Address Book\nuser@example.com", Domino): take up
		// to three such lines.
		for k := 0; k < 3 && st > 0; k++ {
			prev := lineStart(body, st-1)
			pl := body[prev : st-1]
			tp := strings.TrimSpace(pl)
			if tp == "" || strings.IndexByte(pl, '@') >= 0 || strings.HasSuffix(tp, ":") ||
				strings.ContainsAny(tp[:1], "-=*#") || introducesFailures(pl) ||
				indent(pl) > indent(line) || len(pl) > maxBlockBytes/4 {
				// A more indented line above belongs to the recipient
				// before (Exim: "  a@x\n    retry timeout exceeded\n  b@y").
				break
			}
			st = prev
		}
	}
	var b strings.Builder
	prevL, ownRcpt := "", false
	for n, off := 0, st; n < maxBlockLines && off < len(body) && b.Len() < limit; n++ {
		var l string
		var whole bool
		l, off, whole = cutLine(body, off, limit-b.Len())
		l += "\n"
		if n > 0 && isDSNFieldLine(l) && !strings.Contains(asciiLower(l), asciiLower(addr)) {
			break // the next recipient block of report fields in the text
		}
		if n > 0 {
			// Stop at a line naming another address as a recipient.
			// PMDF's "Original address:" under "Recipient address:" is
			// the same recipient's, as the address the message was sent
			// to (Sun/Oracle Messaging Server). ZMailer's transcript of
			// the session ("<<- RCPT To:<x>", "->> 250 … Recipient ok")
			// names the other recipients of that session: another's
			// RCPT ends the block only after this recipient's own RCPT
			// and its reply; ZMailer's next recipient field ends it.
			hs := findAddrs(l)
			zt := zmailerTranscript(l)
			if len(hs) > 0 && !strings.EqualFold(hs[0].addr, addr) &&
				(zmailerField(prevL, strings.TrimSuffix(l, "\n"), hs[0]) ||
					zt && ownRcpt && strings.Contains(asciiLower(l), "rcpt to:") ||
					!zt && isAnchorLine(newNoticeLine(l), hs[0]) &&
						!strings.HasPrefix(asciiLower(strings.TrimSpace(l)), "original address:")) {
				break
			}
			if zt && len(hs) > 0 && strings.EqualFold(hs[0].addr, addr) && strings.Contains(asciiLower(l), "rcpt to:") {
				ownRcpt = true
			}
		}
		if strings.TrimSpace(l) != "" {
			prevL = l
		}
		b.WriteString(l)
		if !whole {
			break
		}
	}
	return b.String()
}

// alone reports whether the address at i of line stands alone on it.
func alone(line string, i int, addr string) bool {
	if i < 0 || i+len(addr) > len(line) {
		return false
	}
	h := addrHit{addr: addr, start: i, end: i + len(addr)}
	if b := strings.TrimSpace(line[:i]); strings.EqualFold(b, "dda:smtp=") {
		// X.400 in Exchange notices: the reason is in the lines above.
		return strings.Trim(line[h.end:], " \t>\":") == ""
	}
	return aloneOnLine(line, h)
}

// cutLine returns the line of s starting at off, at most max bytes of it
// (cut between characters), the offset after it and whether it is the whole
// line.
func cutLine(s string, off, max int) (line string, next int, whole bool) {
	end := min(len(s), off+max)
	if i := strings.IndexByte(s[off:end], '\n'); i >= 0 {
		return s[off : off+i], off + i + 1, true
	}
	if end == len(s) {
		return s[off:], len(s), true
	}
	for end > off && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[off:end], end, false
}

var commandPhrases = []struct{ phrase, cmd string }{
	{"rcpt to", "RCPT"},
	{"mail from:", "MAIL"}, // the command, not prose ("blocked mail from this sender")
	{"mail from <", "MAIL"},
	{"final data", "DATA"},
	{"end of data", "DATA"},
	{"after data", "DATA"},
	{"data command", "DATA"},
	{">>> data", "DATA"},
	{"in reply to data", "DATA"},
	{"helo", "HELO"},
	{"ehlo", "EHLO"},
	{"starttls", "STARTTLS"},
	// Gmail names the SMTP state it was in: "… Header error (state 18)."
	{"(state 9)", "HELO"},
	{"(state 12)", "MAIL"},
	{"(state 13)", "MAIL"},
	{"(state 14)", "RCPT"},
	{"(state 15)", "RCPT"},
	{"(state 17)", "DATA"},
	{"(state 18)", "DATA"},
}

// explicitCommands say outright which command was answered; they win over
// a mere mention ("has blocked mail from this sender (in reply to RCPT TO
// command)").
var explicitCommands = []struct{ phrase, cmd string }{
	{"in reply to rcpt to command", "RCPT"},
	{"in reply to rcpt command", "RCPT"},
	{"in reply to mail from command", "MAIL"},
	{"in reply to mail command", "MAIL"},
	{"in reply to end of data command", "DATA"},
	{"in reply to data command", "DATA"},
	{"after rcpt to", "RCPT"},
	{"after mail from", "MAIL"},
	{"after end of data", "DATA"},
	{"did not like our rcpt to", "RCPT"},
	{"did not like our mail from", "MAIL"},
	{"did not like our final data", "DATA"},
	{">>> rcpt to", "RCPT"},
	{">>> mail from", "MAIL"},
}

// findCommand names the SMTP command the error answered, when the text
// says it ("in reply to RCPT TO command", "did not like our final DATA"):
// an explicit statement if there is one, else the first mention, as a
// whole word.
func findCommand(s string) string {
	lower := withoutEnvelopeSummary(asciiLower(s))
	if c := firstPhrase(lower, explicitCommands); c != "" {
		return c
	}
	c := firstPhrase(lower, commandPhrases)
	if c == "DATA" && pipelined(lower) {
		return ""
	}
	return c
}

// withoutEnvelopeSummary blanks a notice's summary of the envelope, "Mail
// From: <x>" then "Rcpt To: <y>" with nothing but white space between (as
// XMail's notice writes it, its lines aligned: "Mail From: <x>\nRcpt To:
// <y>"): labels, not the SMTP commands a reply answered. A transcript's
// commands have no space after the colon, or a reply or a mark (">>>")
// between them.
func withoutEnvelopeSummary(lower string) string {
	const mail, rcpt = "mail from: ", "rcpt to: "
	for off := 0; off < len(lower); {
		i := strings.Index(lower[off:], mail)
		if i < 0 {
			break
		}
		i += off
		off = i + len(mail)
		j := bracketedAddrEnd(lower, i+len(mail))
		if j < 0 {
			continue
		}
		k := j
		for k < len(lower) && (lower[k] == ' ' || lower[k] == '\t' || lower[k] == '\n' || lower[k] == '\r') {
			k++
		}
		if k == j || !strings.HasPrefix(lower[k:], rcpt) || bracketedAddrEnd(lower, k+len(rcpt)) < 0 {
			continue
		}
		b := []byte(lower)
		copy(b[i:], strings.Repeat(" ", len(mail)))
		copy(b[k:], strings.Repeat(" ", len(rcpt)))
		lower = string(b)
	}
	return lower
}

// bracketedAddrEnd returns the end of "<x@y>" after the spaces at i of s,
// or -1 when no such address stands there.
func bracketedAddrEnd(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '<' {
		return -1
	}
	j := strings.IndexByte(s[i:], '>')
	if j < 0 || strings.ContainsAny(s[i:i+j], " \t\n") {
		return -1
	}
	return i + j + 1
}

// noRecipientReplies are the servers' replies to a DATA that no accepted
// recipient precedes: Sendmail's "503 5.0.0 Need RCPT (recipient)",
// Postfix's "554 5.5.1 Error: no valid recipients" (smtpd.c), Exim's "503
// valid RCPT command must precede DATA", qmail's "503 RCPT first".
var noRecipientReplies = []string{"need rcpt", "no valid recipients", "rcpt command must precede data", "rcpt first"}

// pipelined reports whether a transcript that ends with ">>> DATA" is a
// pipelined one (RFC 2920): the server refused DATA for want of a
// recipient, so the refusal before it may have answered RCPT TO as well
// as DATA. Sendmail writes only the last command it sent before the
// replies; which one a reply answered is then not known.
func pipelined(lower string) bool {
	i := strings.Index(lower, ">>> data")
	if i < 0 {
		return false
	}
	// "<<< 503": any bad-sequence reply to DATA ("503 Issue RCPT TO:
	// command before DATA command") says no recipient was accepted.
	return containsAny(lower[i:], noRecipientReplies) || strings.Contains(lower[i:], "<<< 503")
}

// firstPhrase returns the command of the phrase of list that occurs first
// in lower as a whole word.
func firstPhrase(lower string, list []struct{ phrase, cmd string }) string {
	best, cmd := len(lower)+1, ""
	for _, c := range list {
		off := 0
		for off < len(lower) {
			i := strings.Index(lower[off:], c.phrase)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			end := i + len(c.phrase)
			if i > 0 && isWordByte(lower[i-1]) || end < len(lower) && (isWordByte(lower[end]) || lower[end] == '=') {
				continue
			}
			if i < best {
				best, cmd = i, c.cmd
			}
			break
		}
	}
	return cmd
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// findRemoteHost returns the host in "host mx.example.com[192.0.2.1] said"
// or "Remote host said" style text.
func findRemoteHost(s string) string {
	lower := asciiLower(s)
	for _, k := range []string{"host ", "by ", "mx "} {
		off := 0
		for {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			i += off + len(k)
			off = i
			j := i
			for j < len(s) && (isDomainByte(s[j]) && s[j] < 0x80) {
				j++
			}
			h := strings.TrimRight(s[i:j], ".")
			if strings.Count(h, ".") >= 1 && validDomain(h) && j < len(s) && (s[j] == '[' || s[j] == ' ' || s[j] == '.' || s[j] == ':') {
				return strings.ToLower(h)
			}
		}
	}
	return ""
}

func delayedText(s string) bool {
	l := asciiLower(s)
	return strings.Contains(l, "will continue") || strings.Contains(l, "still trying") ||
		strings.Contains(l, "delayed") || strings.Contains(l, "not yet been delivered") ||
		strings.Contains(l, "will be retried") || strings.Contains(l, "will retry")
}

// warningPhrases are what delay warnings say of themselves, lower case:
// the message is still queued and will be retried. Postfix's
// delay_template (bounce_template.c: "THIS IS A WARNING ONLY.  YOU DO NOT
// NEED TO RESEND YOUR MESSAGE.", "It will be retried until it is …"),
// Sendmail's warning (savemail.c: "THIS IS A WARNING MESSAGE ONLY", "Will
// keep trying until message is …"), Exim's warn_message_file default
// (deliver.c: "has not yet been delivered to one or more of its
// recipients", "Delivery attempts will continue"), Exchange's delay
// notice ("Delivery is delayed to these recipients or groups", "This
// message hasn't been delivered yet"), Gmail's and Windows SMTP's ("Delivery
// to the following recipient(s) has been delayed"), OpenSMTPD's (bounce.c,
// notice_warning: "A message is delayed for more than …", "Please note
// that this is only a temporary failure report."), masqmail's warnmsg.tpl
// and its translations (".de", ".fr", ".it": "Delivery to the following
// recipients has been defered", "Die Zustellung wird weiterhin versucht",
// "D'autres tentatives d'envoi vont être effectuées", "La spedizione
// verra' ritentata"), and a Postfix delay_template translated to Spanish
// ("Se seguirá intentando enviar el mensaje hasta que pasen … días.").
var warningPhrases = []string{
	"you do not need to resend your message", "this is a warning message only", "this is a warning only",
	"it will be retried until it is", "will keep trying until message is",
	"has not yet been delivered to one or more of its", "delivery attempts will continue",
	"delivery is delayed to these recipients", "this message hasn't been delivered yet",
	"delivery will continue to be attempted",
	"delivery to the following recipient has been delayed", "delivery to the following recipients has been delayed",
	"a message is delayed for more than", "this is only a temporary failure report",
	"delivery to the following recipients has been defered", "could not yet be delivered to all recipients",
	"die zustellung wird weiterhin versucht", "d'autres tentatives d'envoi vont être effectuées",
	"la spedizione verra' ritentata", "se seguirá intentando enviar el mensaje",
}

// failurePhrases are the headings under which a notice that also warns of
// a delay lists its failed recipients (Sendmail's savemail.c: "The
// following addresses had permanent fatal errors"): such a notice is no
// warning alone.
var failurePhrases = []string{"permanent fatal error", "permanent error", "failed permanently", "could not be delivered to one or more"}

// warningNotice reports whether the notice is a delay warning: it says so
// near its start and lists no permanent failure.
func (p *parser) warningNotice(body string) bool { return p.noticeTone(body).warning }

// successPhrases are what success notices say (lower case): Postfix's
// success_template (bounce_template.c: "Your message was successfully
// delivered to the destination(s) listed below"), Sendmail's return
// receipt (savemail.c: "The following addresses had successful delivery
// notifications"), Exchange's ("Your message has been delivered to the
// following recipients", "Delivery to these recipients or groups is
// complete"), OpenSMTPD's (bounce.c, notice_success and notice_relay).
var successPhrases = []string{
	"was successfully delivered to the destination", "had successful delivery notifications",
	"your message has been delivered to the following recipients", "delivery to these recipients or groups is complete",
	"your message was successfully delivered to these recipients", "your message was relayed to these recipients",
}

// successNotice reports whether the notice reports a successful delivery
// and no failure or delay.
func (p *parser) successNotice(body string) bool { return p.noticeTone(body).success }

// tone is what a notice says of itself as a whole, near its start.
type tone struct{ warning, success bool }

// noticeTone reads the tone of the notice once per body: each of its
// recipients asks.
func (p *parser) noticeTone(body string) tone {
	if p.toneOf == body && p.toneSet {
		return p.tone
	}
	lb := p.lowerBody(body)
	lb = lb[:min(len(lb), 4096)]
	failure, warning := containsAny(lb, failurePhrases), containsAny(lb, warningPhrases)
	p.tone = tone{
		warning: warning && !failure,
		success: containsAny(lb, successPhrases) && !failure && !warning && !strings.Contains(lb, "non-fatal error"),
	}
	p.toneOf, p.toneSet = body, true
	return p.tone
}

// Sendmail's headings of its lists of failed and still queued addresses
// (savemail.c, errbody), lower case.
const (
	sendmailFatal     = "the following addresses had permanent fatal error"
	sendmailTransient = "the following addresses had transient non-fatal error"
)

// sectionHeadings open the lists of the notices that report several
// outcomes in one message, each with the action of the recipients it
// lists, lower case: Sendmail's (savemail.c, errbody: "   ----- The
// following addresses had permanent fatal errors -----", "… had transient
// non-fatal errors …", still queued, "… had successful delivery
// notifications …") and Courier's (module.dsn's dsnfailed.txt,
// dsndelayed.txt, dsndelivered.txt and dsnrelayed.txt, whose headings
// stand alone on their lines).
var sectionHeadings = []struct {
	heading string
	alone   bool // the whole line, not a part of it
	action  Action
}{
	{sendmailFatal, false, ActionFailed},
	{sendmailTransient, false, ActionDelayed},
	{"the following addresses had successful delivery notification", false, ActionDelivered},
	{"undeliverable mail", true, ActionFailed},
	{"delays in delivering your message", true, ActionDelayed},
	{"message delivered successfully", true, ActionDelivered},
	{"message delivered to a mail gateway", true, ActionDelivered},
}

// noticeSection returns the action of the list of sectionHeadings that
// first names addr; "" when no such list names it.
func (p *parser) noticeSection(body, addr string) Action {
	lb := p.lowerBody(body)
	if p.headsOf != body {
		p.heads, p.headsOf = p.heads[:0], body
		for off := 0; off < len(lb); {
			at := off
			var line string
			line, off = nextLine(lb, off)
			if len(line) > 120 || !strings.Contains(line, "following addresses had") && !strings.Contains(line, "deliver") {
				continue
			}
			t := strings.TrimSpace(line)
			for k, h := range sectionHeadings {
				if h.alone && t == h.heading || !h.alone && strings.Contains(t, h.heading) {
					p.heads = append(p.heads, section{at, k})
					break
				}
			}
		}
	}
	if len(p.heads) == 0 {
		return ""
	}
	at, ok := p.addrIndex(body)[asciiLower(addr)]
	if !ok {
		return ""
	}
	k := sort.Search(len(p.heads), func(i int) bool { return p.heads[i].off > at.hit }) - 1
	if k < 0 {
		return ""
	}
	return sectionHeadings[p.heads[k].heading].action
}

// section is where a heading of sectionHeadings starts in a notice.
type section struct{ off, heading int }

// reportingMTAFromText finds the reporting host named by a notice
// ("This is the mail system at host mx.example.com.").
func (p *parser) reportingMTAFromText(body string) string {
	lower := asciiLower(body[:min(len(body), 600)])
	for _, k := range []string{"mail system at host ", "qmail-send program at ", "this is the ", "at host "} {
		if i := strings.Index(lower, k); i >= 0 {
			i += len(k)
			j := i
			for j < len(body) && isDomainByte(body[j]) && body[j] < 0x80 {
				j++
			}
			if h := strings.TrimRight(body[i:j], "."); validDomain(h) {
				return strings.ToLower(h)
			}
		}
	}
	return ""
}

// strongHeaderIn reports whether a block of header lines has a field that
// only a real message header has: a notice's summary of the original
// ("To:", "Subject:", "Date:") is not one.
func strongHeaderIn(block string) bool {
	l := asciiLower(block)
	for _, k := range []string{"\nreceived:", "\nreturn-path:", "\nmessage-id:", "\nmime-version:",
		"\ndkim-signature:", "\ncontent-type:", "\nx-mailer:", "\ndelivered-to:", "\nfrom:"} {
		if strings.HasPrefix(l, k[1:]) || strings.Contains(l, k) {
			return true
		}
	}
	return false
}

// isDSNFieldLine reports whether a line starts a per-recipient block of
// RFC 3464 fields written as text.
func isDSNFieldLine(l string) bool {
	l = asciiLower(strings.TrimSpace(l))
	return strings.HasPrefix(l, "final-recipient:") || strings.HasPrefix(l, "original-recipient:")
}

// nextLine returns the line of s that starts at off, without its newline,
// and the offset of the next line.
func nextLine(s string, off int) (line string, next int) {
	end := strings.IndexByte(s[off:], '\n')
	if end < 0 {
		return s[off:], len(s)
	}
	return s[off : off+end], off + end + 1
}

// indent returns the width of the leading white space of a line.
func indent(l string) int {
	return len(l) - len(strings.TrimLeft(l, " \t"))
}
