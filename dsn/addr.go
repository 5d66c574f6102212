package dsn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
