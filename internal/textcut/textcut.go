// Package textcut holds the two text operations that bouncer applies to
// hostile text before it keeps or prints it: folding it onto one line, and
// cutting it to a byte limit without splitting a UTF-8 sequence. One home,
// so that every cap cuts the same way.
package textcut

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bytes returns s cut to at most n bytes, between two characters (RFC 3629:
// never inside a UTF-8 sequence).
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Ellipsis returns s cut to at most n bytes, ending in "…" when it was cut.
func Ellipsis(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Bytes(s, n-len("…")) + "…"
}

// OneLine folds every run of white space and control characters in s into
// one space, trims both ends, and replaces invalid UTF-8 with U+FFFD.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
