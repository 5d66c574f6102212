// Package smtpcode reads SMTP reply codes (RFC 5321 section 4.2) and
// enhanced status codes (RFC 3463) in text, and tells whether one stands
// where servers write it: the one scanner of codes that the parser
// (package dsn) and the classifier share.
//
// An enhanced status code (RFC 3463, class.subject.detail) is evidence only
// in SMTP context: after a reply code (RFC 5321 section 4.2: "550 5.1.1",
// "550-5.1.1"), after "#" as qmail and Exchange write it ("#5.1.1"), after
// a field or label ("Status: 5.1.1", "smtp; 5.1.1", "code 5.1.1"), or at
// the start of a line of a transcript. A number that only looks like one,
// in prose or a version ("Eudora Version 5.0.2", "Mailman v2.0.13",
// "wxPython 2.3.0", "X-Mailman-Version: 2.1.12"), is not.
package smtpcode

import "strings"

// maxLookBack caps the bytes read before a code to judge its context.
const maxLookBack = 40

// contextWords are the words after which a code is one ("status 5.1.1",
// "error 5.7.1"), lower case.
var contextWords = []string{"status", "code", "dsn", "error", "reason", "said", "smtp", "reply", "response", "diagnostic", "esmtp", "stat"}

// InContext reports whether the enhanced status code that starts at s[i]
// stands in SMTP context.
func InContext(s string, i int) bool {
	j := i
	for j > 0 && j > i-maxLookBack && strings.IndexByte(" \t([<\"'", s[j-1]) >= 0 {
		if s[j-1] == ' ' || s[j-1] == '\t' {
			j--
			continue
		}
		j--
	}
	if j == 0 || s[j-1] == '\n' || s[j-1] == '\r' {
		return true // opens a line
	}
	switch c := s[j-1]; {
	case c == '#':
		return true
	case c == ':' || c == ';' || c == '=':
		// A field or a label: "Status: 5.1.1", "smtp; 550 5.1.1";
		// not a version field ("X-Mailman-Version: 2.1.12").
		w := wordBefore(s, j-1)
		return !strings.Contains(w, "version")
	case c >= '0' && c <= '9' || c == '-':
		// After a reply code: "550 5.1.1", "550-5.1.1".
		k := j - 1
		if c == '-' {
			k--
		}
		return k >= 2 && isReply(s[k-2:k+1]) && (k < 3 || !isWordByte(s[k-3]))
	}
	w := wordBefore(s, j)
	for _, cw := range contextWords {
		if w == cw {
			return true
		}
	}
	return false
}

// wordBefore returns the lower-case word that ends at s[end-1].
func wordBefore(s string, end int) string {
	st := end
	for st > 0 && end-st < maxLookBack && isWordByte(s[st-1]) {
		st--
	}
	return strings.ToLower(s[st:end])
}

func isReply(w string) bool {
	return len(w) == 3 && (w[0] == '2' || w[0] == '4' || w[0] == '5') && isDigit(w[1]) && isDigit(w[2])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_' || c == '.'
}

// StatusAt reads an enhanced status code (RFC 3463: class "." subject "."
// detail, 1-3 digits each) at the start of s, and returns it with its
// length; "", 0 when none starts there. The class is 2, 4 or 5, and the
// code must end at a word boundary (not "5.1.10.2").
func StatusAt(s string) (string, int) {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return "", 0
	}
	i := 2
	for f := 0; f < 2; f++ {
		j := i
		for j < len(s) && j-i < 4 && isDigit(s[j]) {
			j++
		}
		if j == i || j-i > 3 {
			return "", 0
		}
		i = j
		if f == 0 {
			if i >= len(s) || s[i] != '.' {
				return "", 0
			}
			i++
		}
	}
	if i < len(s) && (isDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
		return "", 0
	}
	return s[:i], i
}
