package dsn

import (
	"strings"

	"github.com/bouncer-dev/bouncer/internal/smtpcode"
)

// findStatus returns the first enhanced status code (RFC 3463) in s whose
// class is 2, 4 or 5, preferring one that is not a bare x.0.0.
func findStatus(s string) string {
	// A transcript holds the successes before the failure ("250 2.1.0
	// Ok" to MAIL FROM, then "550 5.2.1 …"): a failure code wins.
	if st := findStatusClass(s, false, false); st != "" {
		return st
	}
	return findStatusClass(s, true, false)
}

// findTextStatus is findStatus for running text: only a code that stands
// in SMTP context counts (smtpcode.InContext), never a number in prose or
// a version.
func findTextStatus(s string) string {
	if st := findStatusClass(s, false, true); st != "" {
		return st
	}
	return findStatusClass(s, true, true)
}

// findStatusClass is findStatus for failure codes (4 and 5) alone, or with
// success, for success codes (2) alone.
func findStatusClass(s string, success, inText bool) string {
	best := ""
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if (success && c != '2' || !success && c != '4' && c != '5') || s[i+1] != '.' {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		code, n := smtpcode.StatusAt(s[i:])
		if code == "" || inText && !smtpcode.InContext(s, i) {
			continue
		}
		if !strings.HasSuffix(code, ".0.0") {
			return code
		}
		if best == "" {
			best = code
		}
		i += n - 1
	}
	return best
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// findReplyCode returns the first SMTP reply code (RFC 5321 section 4.2) in
// s that stands where servers put one: at the start of a line or after
// "said:", "<<<", "error", "code" and similar.
func findReplyCode(s string) string {
	// As for status codes, a failure reply wins over the successes of a
	// transcript before it.
	if rc := findReplyClass(s, false); rc != "" {
		return rc
	}
	return findReplyClass(s, true)
}

func findReplyClass(s string, success bool) string {
	for i := 0; i+3 <= len(s); i++ {
		c := s[i]
		if (success && c != '2' || !success && c != '4' && c != '5') || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.' || s[i-1] == ':' && i > 1 && isDigit(s[i-2])) {
			continue
		}
		if i+3 < len(s) {
			n := s[i+3]
			if n != ' ' && n != '-' && n != '\n' && n != '\t' && n != ')' && n != ']' && n != ',' && n != '\'' && n != '"' {
				continue
			}
			if n == '-' && i+4 < len(s) && isDigit(s[i+4]) && !(i+5 < len(s) && s[i+5] == '.') {
				continue // a date or phone number, not "550-5.1.1"
			}
		}
		if s[i+1] > '5' {
			continue
		}
		if replyContext(s[:i], c) {
			return s[i : i+3]
		}
	}
	return ""
}

// replyContext reports whether the text before a three-digit number makes
// it a reply code.
func replyContext(before string, class byte) bool {
	if n := len(before); n > 0 && (before[n-1] == '(' || before[n-1] == '[' || before[n-1] == '<') {
		return true
	}
	j := len(before)
	for j > 0 && (before[j-1] == ' ' || before[j-1] == '\t' || before[j-1] == '(' || before[j-1] == '[' ||
		before[j-1] == '<' || before[j-1] == '>' || before[j-1] == '#' || before[j-1] == '\'' || before[j-1] == '"' ||
		before[j-1] == '=' || before[j-1] == ';' || before[j-1] == ':') {
		j--
	}
	if j == 0 || before[j-1] == '\n' {
		return true
	}
	if class != '2' && strings.ContainsRune(before[j:], ':') {
		// "Reason: 550 …", in any language before the colon.
		return true
	}
	w := strings.ToLower(before[max(0, j-12):j])
	for _, k := range []string{"said", "error", "code", "reply", "returned", "response", "smtp", "status", "failed", "reason", "answer", "message", "host", "replied"} {
		if strings.HasSuffix(w, k) {
			return true
		}
	}
	return false
}
