package textcut

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is two bytes: not split
		{"héllo", 3, "hé"},
		{"日本語", 4, "日"},
		{"abc", 0, ""},
		{"abc", -1, ""},
	} {
		got := Bytes(tc.in, tc.n)
		assert.Equal(t, tc.want, got, "Bytes(%q, %d)", tc.in, tc.n)
		assert.True(t, utf8.ValidString(got))
	}
	assert.Equal(t, "ab…", Ellipsis("abcdef", 5))
	assert.Equal(t, "abc", Ellipsis("abc", 5))
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, "a b c", OneLine("  a\r\n\tb \x00 c \n"))
	assert.Equal(t, "x \uFFFD y", OneLine("x \xff y"))
	assert.Equal(t, "", OneLine(" \n\t "))
}
