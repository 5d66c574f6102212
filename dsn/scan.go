package dsn

import (
	"bytes"
	"github.com/bouncer-dev/bouncer/internal/smtpcode"
	"strings"
	"unicode/utf8"

	"unicode"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/transform"
)

// fixCharset decodes text that declared no charset: ISO-2022-JP is told by
// its escape sequences; other 8-bit text by the charset hint (taken from
// the message's encoded words). Valid UTF-8 is kept as it is.
//
// QUIRK: Japanese carriers send ISO-2022-JP without a charset parameter
// (testdata/synthetic-ja-iso2022jp-undeclared.eml).
func fixCharset(b []byte, hint string) []byte {
	if bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) {
		if d, _, err := transform.Bytes(japanese.ISO2022JP.NewDecoder(), b); err == nil {
			return d
		}
	}
	if utf8.Valid(b) {
		return b
	}
	var t transform.Transformer
	switch strings.ToLower(hint) {
	case "euc-kr", "ks_c_5601-1987", "cp949", "ks_c_5601", "korean":
		t = korean.EUCKR.NewDecoder()
	case "shift_jis", "shift-jis", "sjis", "cp932", "windows-31j":
		t = japanese.ShiftJIS.NewDecoder()
	case "euc-jp":
		t = japanese.EUCJP.NewDecoder()
	case "gb2312", "gbk", "gb18030":
		t = simplifiedchinese.GB18030.NewDecoder()
	case "big5":
		t = traditionalchinese.Big5.NewDecoder()
	}
	if t != nil {
		if d, _, err := transform.Bytes(t, b); err == nil {
			return d
		}
	}
	return b
}

// stripHTML keeps the text of an HTML part, with a line break for each
// block element.
func stripHTML(b []byte) []byte {
	out := make([]byte, 0, len(b)/2)
	inTag := false
	skip := false // inside <style> or <script>
	var tag []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inTag {
			if c == '>' {
				inTag = false
				t := strings.ToLower(strings.TrimLeft(string(tag), "/"))
				if j := strings.IndexAny(t, " \t\n/"); j >= 0 {
					t = t[:j]
				}
				switch t {
				case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "table", "td", "blockquote", "pre":
					out = append(out, '\n')
				case "style", "script":
					skip = tag[0] != '/'
				}
				tag = tag[:0]
			} else if len(tag) < 64 {
				tag = append(tag, c)
			}
			continue
		}
		if c == '<' {
			inTag = true
			continue
		}
		if skip {
			continue
		}
		if c == '&' {
			if j := bytes.IndexByte(b[i:min(len(b), i+10)], ';'); j > 0 {
				if r, ok := htmlEntities[string(b[i+1:i+j])]; ok {
					out = append(out, r...)
					i += j
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}

var htmlEntities = map[string]string{
	"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "nbsp": " ", "#39": "'", "apos": "'", "#64": "@",
}

// An addrHit is an address found in a line of text.
type addrHit struct {
	addr       string
	start, end int // byte offsets in the line, brackets excluded
}

func isLocalByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 || c == '-' || c == '.'
}

// findAddrs returns the addresses in s, in order.
func findAddrs(s string) []addrHit {
	var hits []addrHit
	off := 0
	for {
		i := strings.IndexByte(s[off:], '@')
		if i < 0 {
			return hits
		}
		at := off + i
		off = at + 1
		st := at
		for st > 0 && isLocalByte(s[st-1]) {
			st--
		}
		en := at + 1
		for en < len(s) && isDomainByte(s[en]) {
			en++
		}
		// Limitation: quoted local parts ("john smith"@example.com) are
		// rare in bounces; they are not recognised.
		local := strings.Trim(s[st:at], ".'`")
		domain := trimGlued(s[at+1 : en])
		// QUIRK: CJK text glued to an address ("user@example.jp您好",
		// "宛先user@example.jp"): ASCII addresses don't take it in
		// (testdata/lhost-googlegroups-13.eml).
		if k := lastNonASCII(local); k >= 0 && k < len(local)-1 && isASCII(local[k+1:]) && isASCII(domain) {
			if r, _ := utf8.DecodeLastRuneInString(local[:k+1]); !unicode.Is(unicode.Latin, r) && !unicode.Is(unicode.Cyrillic, r) && !unicode.Is(unicode.Greek, r) {
				local = local[k+1:]
			}
		}
		// A URL's path or query is not part of an address
		// ("https://example.com/confirm?id=user@example.org").
		if k := strings.LastIndexAny(local, "/?&#"); k >= 0 && !strings.HasPrefix(local, "=?") {
			local = local[k+1:]
		}
		// Drop a leading "mailto:"-like prefix glued to the local part.
		if k := strings.LastIndexAny(local, "=/"); k >= 0 && strings.Contains(local[:k], "mailto") {
			local = local[k+1:]
		}
		// X.400's "dda:SMTP=user@example.com" and Exchange's "smtp:" proxy
		// addresses name the address after their prefix.
		if len(local) > 5 && (strings.EqualFold(local[:5], "smtp=") || strings.EqualFold(local[:5], "smtp:")) {
			local = local[5:]
		}
		if !validLocal(local) || !validDomain(domain) {
			continue
		}
		a := local + "@" + domain
		start := at - len(local)
		hits = append(hits, addrHit{addr: a, start: start, end: at + 1 + len(domain)})
		off = at + 1 + len(domain)
	}
}

func validLocal(l string) bool {
	if l == "" || len(l) > 64 || l[0] == '.' || strings.Contains(l, "..") {
		return false
	}
	return true
}

func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || d[0] == '.' || d[0] == '-' || strings.Contains(d, "..") {
		return false
	}
	dot := strings.LastIndexByte(d, '.')
	if dot < 0 {
		return false
	}
	tld := d[dot+1:]
	if tld == "" || len(tld) == 1 && !isLetter(tld[0]) {
		// A one-letter label is a name ("a@b.c" in examples and test
		// suites); a one-digit one is a version ("wxPython@2.3.0").
		return false
	}
	digits := true
	for i := 0; i < len(tld); i++ {
		if tld[i] < '0' || tld[i] > '9' {
			digits = false
			break
		}
	}
	// An all-digit TLD is an IP address literal or a version number.
	return !digits
}

// firstAddr returns the first address in s, or "".
func firstAddr(s string) string {
	if h := findAddrs(s); len(h) > 0 {
		return h[0].addr
	}
	return ""
}

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
		j := i + 2
		k := j
		for k < len(s) && k-j < 3 && isDigit(s[k]) {
			k++
		}
		if k == j || k >= len(s) || s[k] != '.' {
			continue
		}
		m := k + 1
		n := m
		for n < len(s) && n-m < 3 && isDigit(s[n]) {
			n++
		}
		if n == m || n < len(s) && (isDigit(s[n]) || s[n] == '.' && n+1 < len(s) && isDigit(s[n+1])) {
			continue
		}
		code := s[i:n]
		if inText && !smtpcode.InContext(s, i) {
			continue
		}
		if !strings.HasSuffix(code, ".0.0") {
			return code
		}
		if best == "" {
			best = code
		}
		i = n
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

// trimGlued trims the trailing dots and hyphens of a domain, and text glued
// to an ASCII top-level domain.
func trimGlued(d string) string {
	if dot := strings.LastIndexByte(d, '.'); dot >= 0 && dot+1 < len(d) && d[dot+1] < 0x80 {
		for i := dot + 1; i < len(d); i++ {
			if d[i] >= 0x80 {
				d = d[:i]
				break
			}
		}
	}
	return strings.TrimRight(d, ".-")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lastNonASCII(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= 0x80 {
			return i
		}
	}
	return -1
}

// asciiLower lower-cases ASCII letters only, so that byte offsets in the
// result are offsets in s (strings.ToLower can change the length of
// non-ASCII text).
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
