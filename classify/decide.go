package classify

import (
	"strings"

	"github.com/bouncer-dev/bouncer/dsn"
)

// builtin applies the built-in rules to in, whose diagnostic (with the
// status comment) is already normalized as text. The evidence weighs in
// order: the words, the enhanced status code, the reply code, and last the
// command and the action.
func builtin(in Input, text string) Result {
	if dt := strings.ToLower(strings.TrimSpace(in.DiagnosticType)); dt == "x-unix" {
		// A local program answered ("X-Unix; 255"): its words follow.
		text = normalize("x-unix; " + text)
	}
	builtins := builtinSet()
	ev := builtins.collect(text)
	st, rc := codes(in)
	cmd := command(string(in.Command), &ev, text)

	if r, ok := byWords(in, builtins, &ev, text, st, rc, cmd); ok {
		return r
	}
	if r, ok := byCodes(in, st, rc, cmd); ok {
		return r
	}
	return byCommand(in, &ev, text, st, rc, cmd)
}

// codes returns the enhanced status code and the reply code of in. A
// success status on a record that failed counts as none, and the codes the
// diagnostic quotes fill in a missing reply code and a status that says
// only the class.
func codes(in Input) (st, rc string) {
	st = statusCode(in.Status)
	if st != "" && st[0] == '2' {
		st = "" // success on a record that failed (byKind took the others)
	}
	rc = strings.TrimSpace(in.ReplyCode)
	if st == "" || strings.HasSuffix(st, ".0.0") || rc == "" {
		r, s := codesIn(in.Diagnostic)
		if rc == "" {
			rc = r
		}
		// A DSN often says only "5.0.0" where the server's own reply
		// was more precise: the server's code counts.
		if s != "" && (st == "" || strings.HasSuffix(st, ".0.0") && s[0] == st[0]) {
			st = s
		}
	}
	return st, rc
}

// byWords decides by the words of the diagnostic: first a provider's own
// wording, which no other evidence qualifies, then the common phrases,
// qualified by the codes st and rc and the SMTP command cmd. A refusal in
// reply to MAIL decides here too, before the codes. It reports false when
// the words decide nothing.
func byWords(in Input, builtins *phraseSet, ev *evidence, text, st, rc, cmd string) (Result, bool) {
	if ev.strong != 0 {
		p := &builtins.phrases[ev.strong-1]
		return result(p.reason, RulePhrase, cut(text[ev.strongSpan[0]:ev.strongSpan[1]]), "decisive wording"), true
	}
	if ev.has(sigOrange) {
		if r, code := orangeCode(text[ev.span[rankOf[sigOrange]][0]:]); r != "" {
			return result(r, RulePhrase, code, "Orange error code"), true
		}
	}
	if r, ok := pickPhrase(ev); ok {
		if r == sigRefused {
			// A weak phrase says more than an unspecific refusal.
			if w, ok := pickWeak(ev); ok {
				r = w
			}
		}
		words := ev.words(text, r)
		sr := statusReason(st)
		temporary := st != "" && st[0] == '4' || st == "" && rc != "" && rc[0] == '4'
		if q, note := qualify(r, cmd, sr, temporary, string(in.Action)); q != sigRefused {
			return result(q, RulePhrase, words, note), true
		}
		// An unspecific refusal: the codes may say more.
		if sr != "" {
			return result(sr, RuleStatus, st, ""), true
		}
		if rr := replyReason(rc); rr != "" && rr != ReasonSyntaxError {
			return result(rr, RuleReply, rc, ""), true
		}
		return result(ReasonBlocked, RulePhrase, words, "unspecific refusal of the sending host"), true
	}
	if cmd == "MAIL" && (st == "" || st[0] == '5') && (rc == "" || rc[0] == '5') {
		return result(ReasonRejected, RuleCommand, "MAIL", "refused in reply to MAIL: the sender"), true
	}
	return Result{}, false
}

// afterDATANote is the note of an unknown user refused after DATA.
const afterDATANote = "refused after DATA: the address was accepted at RCPT TO, the recipient's settings refused the message"

// byCodes decides by the enhanced status code st, then by the reply code
// rc; a status of an unknown user in reply to DATA (cmd) is filtered. A success reply code does not undo a record that says it failed. It
// reports false when neither code decides.
func byCodes(in Input, st, rc, cmd string) (Result, bool) {
	if r := statusReason(st); r != "" {
		if r.Category() == CategoryHard && st[0] == '4' {
			// A temporary status never makes a hard record (taxonomy,
			// "How evidence is weighed"): 4.1.1 alone is not decided.
			return result(ReasonOnHold, RuleStatus, st, "a temporary status: not a permanent condition"), true
		}
		if r == ReasonUserUnknown && cmd == "DATA" {
			return result(ReasonFiltered, RuleStatus, st, afterDATANote), true
		}
		if r == ReasonHostUnknown && rc == "512" {
			// QUIRK: 512 is no RFC 5321 code; the Korean providers of
			// testdata/smtp-reply-codes-ko.txt (the owner's list) send "512 5.1.2" when
			// the destination system does not answer.
			return result(ReasonNetworkError, RuleReply, rc+" "+st, "512: the destination system did not answer"), true
		}
		if r == ReasonSystemError && st[0] == '5' && (rc == "521" || rc == "556") {
			// 521 (RFC 7504) and 556 (RFC 7505) say that the host or the
			// domain accepts no mail at all; a system status (5.3.2,
			// "not accepting network messages") only that it did not.
			return result(ReasonNotAccept, RuleReply, rc+" "+st, rc+": the host accepts no mail (RFC 7504, 7505)"), true
		}
		if transient(r) && delayed(string(in.Action)) {
			return result(ReasonExpired, RuleAction, strings.ToLower(string(in.Action)), "delayed: "+st), true
		}
		return result(r, RuleStatus, st, ""), true
	}
	if r := replyReason(rc); r != "" && !(rc[0] < '4' && failed(string(in.Action))) {
		return result(r, RuleReply, rc, ""), true
	}
	return Result{}, false
}

// byCommand decides by what is left when neither the words nor the codes
// did: the SMTP command, the action, the vendor, vacation words without a
// code; a failure code whose reason nothing tells is onhold, and no code at
// all undefined.
func byCommand(in Input, ev *evidence, text, st, rc, cmd string) Result {
	if cmd == "HELO" {
		return result(ReasonBlocked, RuleCommand, cmd, "refused before MAIL: the sending host")
	}
	if delayed(string(in.Action)) {
		return result(ReasonExpired, RuleAction, strings.ToLower(strings.TrimSpace(string(in.Action))), "")
	}
	if in.Vendor == dsn.VendorGoogleGroups {
		// Google Groups refuses a post from a non-member, or to a group
		// that does not exist, in the reader's language only.
		return result(ReasonRejected, RuleKind, "googlegroups", "a Google group refused the message")
	}
	if in.Vendor == dsn.VendorAuFilter {
		// au's notice marked "X-SPASIGN: NG": the recipient's own filter
		// settings refused the sender (dsn.VendorAuFilter).
		return result(ReasonFiltered, RuleKind, "x-spasign", "au's filter: the recipient's settings refused the message")
	}
	if ev.has(ReasonVacation) && st == "" && rc == "" {
		return result(ReasonVacation, RulePhrase, ev.words(text, ReasonVacation), "")
	}
	if st != "" || rc != "" {
		code := st
		if code == "" {
			code = rc
		}
		return result(ReasonOnHold, RuleNone, code, "a failure code whose reason nothing tells")
	}
	return result(ReasonUndefined, RuleNone, "", "nothing tells why")
}

// qualify reads the reason r of the words in the light of the other
// evidence: the SMTP command cmd, the reason sr of the status code, whether
// the codes are temporary, and the Action field. It returns r itself when
// nothing changes it (sigRefused stays for the caller to weigh), and a note
// saying why when something does.
func qualify(r Reason, cmd string, sr Reason, temporary bool, action string) (Reason, string) {
	switch {
	case cmd == "MAIL" && (r.Category() == CategoryHard || r == ReasonFiltered || r == sigRefused):
		// An unknown or disabled address, or a refusal, in reply to
		// MAIL FROM is about the sender ("550 5.2.1 <news@…>: mailbox
		// disabled for sending too much spam").
		return ReasonRejected, "refused in reply to MAIL: the sender"
	case cmd == "HELO" && (r == ReasonHostUnknown || r == ReasonRejected || r == ReasonSyntaxError ||
		r == ReasonExpired || r == sigRefused):
		return ReasonBlocked, "refused before MAIL: the sending host"
	case (r == ReasonUserUnknown || r == ReasonSuspend) && sr == ReasonRejected && cmd != "RCPT":
		// The status names the sender's address (X.1.7, X.1.8, X.7.27):
		// "550 5.1.7 Invalid address" or "553 5.1.8 No such user" is the
		// sender's mailbox, and words that do not name the recipient do
		// not make it the recipient's failure. Words about a host ("Host
		// does not accept mail") are the answering host's: they stand.
		return ReasonRejected, "the status says the sender's address: rejected"
	case r == ReasonUserUnknown && cmd == "DATA":
		// The server accepted the address at RCPT TO, so it has a
		// mailbox for it: "550 Unknown user" after DATA is how NTT
		// docomo, au and content filters say that the recipient's own
		// settings refused the sender (taxonomy, "How evidence is
		// weighed"), whatever the words and the status.
		return ReasonFiltered, afterDATANote
	case r == ReasonUserUnknown && sr != ReasonUserUnknown && cmd != "RCPT" &&
		(sr == ReasonFiltered || sr == ReasonSuspend || sr == ReasonSecurityError):
		// The status says the mailbox exists, or a policy refused: the
		// recipient's side refused the message.
		return ReasonFiltered, "the status says the mailbox exists, the message was refused: filtered"
	case r == ReasonExceedLimit && sr == ReasonMesgTooBig, r == ReasonMesgTooBig && sr == ReasonExceedLimit:
		// "Message size exceeds fixed maximum message size" says only that
		// it was too big; the status says whose limit: the mailbox's
		// (X.2.3) or the system's (X.3.4).
		return sr, "the status says whose size limit"
	case r == ReasonMailboxFull && sr == ReasonExceedLimit:
		// "larger than the recipient's mailbox size limit" with X.2.3:
		// the message, not the mailbox, is too big for it.
		return sr, "the status says the message exceeds the mailbox's limit"
	case r == ReasonHostUnknown && temporary:
		return ReasonNetworkError, "temporary: a lookup failure, not a missing host"
	case transient(r) && delayed(action) && sr == ReasonExpired:
		// Still retrying, and the status says the host never answered:
		// the words name the symptom, the code the outcome.
		return ReasonExpired, "delayed, and the status says no answer"
	}
	return r, ""
}

// orangeCode reads the error code of Orange (France Télécom, Wanadoo,
// La Poste) replies: "OFR005_505 [505]", "LPN007_416", "OFR_416". s starts at
// "ofr" or "lpn". The last three digits name the condition, as Orange's
// postmaster list of OFR/LPN codes gives them.
func orangeCode(s string) (Reason, string) {
	i := 3
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i+4 > len(s) || s[i] != '_' || !isDigit(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return "", ""
	}
	code := s[i+1 : i+4]
	switch {
	case code == "104":
		return ReasonTooManyConn, s[:i+4] // "Too many connections, slow down"
	case code[0] == '1', code == "510":
		return ReasonBlocked, s[:i+4]
	case code == "305" || code == "402":
		return ReasonSecurityError, s[:i+4] // "Code d'authentification invalide", "Authentication Required"
	case code == "401" || code == "517":
		return ReasonAuthFailure, s[:i+4] // SPF, DMARC verification failed
	case code == "403" || code == "405" || code == "415" || code == "421":
		return ReasonRejected, s[:i+4] // "Emetteur invalide", "Mail from not owned by user"
	case code == "416" || code == "418":
		return ReasonUserUnknown, s[:i+4]
	case code == "417":
		return ReasonMailboxFull, s[:i+4]
	case code == "420" || code == "426":
		return ReasonSuspend, s[:i+4] // archived recipient, the recipient's account is blocked
	case code == "505":
		return ReasonSystemError, s[:i+4]
	case code == "506":
		return ReasonSpamDetected, s[:i+4]
	case code == "514":
		return ReasonMesgTooBig, s[:i+4]
	}
	return "", ""
}

// transient reports whether r is trouble on the way that a sending server
// retries until it gives up: when it has given up, the reason is expired.
func transient(r Reason) bool {
	switch r {
	case ReasonNetworkError, ReasonSystemError, ReasonSystemFull, ReasonExpired:
		return true
	}
	return false
}

// delayed reports whether the Action field says the message is still (or
// was too long) on its way (RFC 3464 section 2.3.3).
func delayed(action string) bool {
	a := strings.ToLower(strings.TrimSpace(action))
	return a == "delayed" || a == "expired"
}

// pickPhrase returns the first reason of reasonOrder whose phrases matched.
// Vacation words and the pseudo reasons that only qualify other evidence do
// not decide here; sigRefused is returned for the caller to weigh.
func pickPhrase(ev *evidence) (Reason, bool) {
	for rk, r := range reasonOrder {
		if ev.best[rk] == 0 {
			continue
		}
		switch r {
		case ReasonVacation, sigBoilerplate, sigOrange, sigRCPT, sigDATA, sigMAIL, sigHELO, sigRCPTReply, sigPipelined:
			continue
		}
		return r, true
	}
	return pickWeak(ev)
}

// pickWeak returns the first reason of reasonOrder with a weak phrase, and
// moves that phrase where evidence.words reads it.
func pickWeak(ev *evidence) (Reason, bool) {
	for rk, r := range reasonOrder {
		if ev.weak[rk] != 0 {
			ev.best[rk], ev.span[rk] = ev.weak[rk], ev.weakSpan[rk]
			return r, true
		}
	}
	return "", false
}

// command returns the SMTP command the error answered: the last one the
// diagnostic names, which stands next to the error, or else the one given;
// a reply that only RCPT TO gets makes it RCPT whatever the notice says.
func command(given string, ev *evidence, text string) string {
	c := namedCommand(given, ev)
	switch {
	case c == "DATA" && ev.has(sigRCPTReply):
		return "RCPT"
	case c == "DATA" && ev.has(sigPipelined):
		return ""
	}
	return c
}

// namedCommand is the command the diagnostic names, or else the one given.
func namedCommand(given string, ev *evidence) string {
	best, at := "", int32(-1)
	for _, s := range []struct {
		sig Reason
		cmd string
	}{{sigRCPT, "RCPT"}, {sigDATA, "DATA"}, {sigMAIL, "MAIL"}, {sigHELO, "HELO"}} {
		if ev.has(s.sig) {
			if e := ev.span[rankOf[s.sig]][1]; e > at {
				best, at = s.cmd, e
			}
		}
	}
	if best != "" {
		return best
	}
	if c := strings.ToUpper(strings.TrimSpace(given)); c != "" {
		switch {
		case strings.HasPrefix(c, "RCPT"):
			return "RCPT"
		case strings.HasPrefix(c, "MAIL"):
			return "MAIL"
		case c == "BDAT" || strings.HasPrefix(c, "DATA"):
			return "DATA"
		case c == "EHLO" || c == "HELO" || c == "LHLO" || c == "CONNECT" || c == "CONN" || c == "STARTTLS":
			return "HELO"
		}
		return c
	}
	return ""
}

// statusReason reads an enhanced status code (RFC 3463 section 3). The
// codes that say only the class ("5.0.0") or an undefined protocol status
// ("5.5.0", which Sendmail writes for any reply without its own code)
// return "": they decide nothing.
func statusReason(st string) Reason {
	if len(st) < 5 {
		return ""
	}
	class, rest := st[0], st[2:]
	temp := class == '4'
	i := strings.IndexByte(rest, '.')
	if i < 0 {
		return ""
	}
	subject, detail := rest[:i], rest[i+1:]
	switch subject {
	case "1":
		return addressingStatus(temp, detail)
	case "2":
		return mailboxStatus(detail)
	case "3":
		return systemStatus(detail)
	case "4":
		return networkStatus(temp, detail)
	case "5":
		return protocolStatus(detail)
	case "6": // message content or media status
		return ReasonContentError
	case "7":
		return securityStatus(temp, detail)
	}
	return ""
}

// addressingStatus reads the details of X.1.Z codes, addressing status
// (RFC 3463 section 3.2); temp says the class is 4.
func addressingStatus(temp bool, detail string) Reason {
	switch detail {
	case "1", "3", "4":
		return ReasonUserUnknown
	case "2":
		if temp {
			return ReasonNetworkError
		}
		return ReasonHostUnknown
	case "6":
		return ReasonHasMoved
	case "7", "8":
		return ReasonRejected
	case "10":
		return ReasonNotAccept
	}
	return ""
}

// mailboxStatus reads the details of X.2.Z codes, mailbox status (RFC 3463
// section 3.3).
func mailboxStatus(detail string) Reason {
	switch detail {
	case "0":
		return ReasonFiltered
	case "1":
		return ReasonSuspend
	case "2":
		return ReasonMailboxFull
	case "3":
		return ReasonExceedLimit
	case "4":
		return ReasonSystemError
	}
	return ""
}

// systemStatus reads the details of X.3.Z codes, mail system status (RFC
// 3463 section 3.4).
func systemStatus(detail string) Reason {
	switch detail {
	case "0", "3", "5":
		return ReasonSystemError
	case "1":
		return ReasonSystemFull
	case "2":
		// "System not accepting network messages": shutdown, load or
		// maintenance (RFC 3463 section 3.4), the host's state and not
		// the address's, permanent or not. A domain that takes no mail
		// at all says so with 5.1.10 or 556 (RFC 7505), or in words.
		return ReasonSystemError
	case "4":
		return ReasonMesgTooBig
	}
	return ""
}

// networkStatus reads the details of X.4.Z codes, network and routing
// status (RFC 3463 section 3.5); temp says the class is 4.
func networkStatus(temp bool, detail string) Reason {
	switch detail {
	case "0", "2", "6":
		return ReasonNetworkError
	case "1":
		if temp {
			return ReasonExpired
		}
		return ReasonNetworkError
	case "3":
		return ReasonSystemError
	case "4":
		if temp {
			return ReasonNetworkError
		}
		return ReasonHostUnknown
	case "5":
		return ReasonSystemFull
	case "7":
		return ReasonExpired
	}
	return ""
}

// protocolStatus reads the details of X.5.Z codes, mail delivery protocol
// status (RFC 3463 section 3.6). X.5.0, undefined, decides nothing; any
// other detail without its own reason is a syntax error.
func protocolStatus(detail string) Reason {
	switch detail {
	case "0":
		return ""
	case "3":
		return ReasonTooManyConn
	case "6":
		return ReasonSecurityError
	}
	return ReasonSyntaxError
}

// securityStatus reads the details of X.7.Z codes: those of RFC 3463 and
// the IANA registry (RFC 5248), and Microsoft's three-digit details.
func securityStatus(temp bool, detail string) Reason {
	switch detail {
	case "0", "1":
		if temp {
			return ReasonBlocked
		}
		return ReasonSecurityError
	case "10", "11", "30":
		return ReasonFailedSTARTTLS
	case "13":
		return ReasonSuspend
	case "16":
		return ReasonMesgTooBig
	case "17", "18":
		return ReasonHasMoved
	case "20", "21", "22", "23", "24", "26", "29":
		return ReasonAuthFailure
	case "25":
		return ReasonRequirePTR
	case "27":
		return ReasonRejected
	case "28":
		return ReasonSpeeding
	}
	if len(detail) == 3 {
		// Microsoft 365 (Exchange Online) codes.
		switch {
		case detail == "509" || detail == "515":
			return ReasonAuthFailure
		case detail >= "650" && detail <= "699":
			return ReasonBadReputation
		case detail >= "500" && detail <= "799":
			return ReasonBlocked
		}
	}
	return ReasonSecurityError
}

// replyReason reads a basic reply code (RFC 5321 section 4.2.3) when no
// enhanced status code told anything. Codes whose meaning is broad (550
// "mailbox unavailable", 553, 554 "transaction failed") return "".
func replyReason(rc string) Reason {
	if len(rc) != 3 {
		return ""
	}
	switch rc {
	case "421", "451":
		return ReasonSystemError
	case "452":
		return ReasonSystemFull
	case "454", "530", "534", "535", "538":
		return ReasonSecurityError
	case "455", "500", "501", "502", "503", "504", "555":
		return ReasonSyntaxError
	case "521", "556":
		return ReasonNotAccept
	case "551":
		return ReasonHasMoved
	case "552":
		return ReasonMailboxFull
	}
	switch rc[0] {
	case '2':
		return ReasonDelivered
	case '3':
		return ReasonNotBounce
	}
	return ""
}
