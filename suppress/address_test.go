package suppress

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" means ErrBadAddress
	}{
		{"plain", "user@example.com", "user@example.com"},
		{"trim", "  user@example.com\t", "user@example.com"},
		{"angle brackets", "<user@example.com>", "user@example.com"},
		{"angle brackets and space", " < user@example.com > ", "user@example.com"},
		{"rfc822 prefix", "rfc822; User@Example.COM", "user@example.com"},
		{"domain case", "user@EXAMPLE.Com", "user@example.com"},
		{"local part case", "John.Doe@example.com", "john.doe@example.com"},
		{"trailing dot", "user@example.com.", "user@example.com"},
		{"plus tag", "user+tag@example.com", "user+tag@example.com"},
		{"atext", "o'brien_x!#$%&*/=?^`{|}~@example.com", "o'brien_x!#$%&*/=?^`{|}~@example.com"},
		{"idn unicode", "user@Bücher.example", "user@xn--bcher-kva.example"},
		{"idn punycode", "user@XN--BCHER-KVA.example", "user@xn--bcher-kva.example"},
		{"idn fullwidth", "user@ｅｘａｍｐｌｅ.com", "user@example.com"},
		{"utf8 local part", "Jürgen@example.de", "jürgen@example.de"},
		{"subdomain", "a@mx.mail.example.co.uk", "a@mx.mail.example.co.uk"},

		{"empty", "", ""},
		{"only brackets", "<>", ""},
		{"no at", "user.example.com", ""},
		{"empty local", "@example.com", ""},
		{"empty domain", "user@", ""},
		{"two ats", "a@b@example.com", ""},
		{"space inside", "us er@example.com", ""},
		{"control char", "user\x00@example.com", ""},
		{"newline", "user@exam\nple.com", ""},
		{"invalid utf8", "us\xffer@example.com", ""},
		{"quoted local", `"john doe"@example.com`, ""},
		{"leading dot", ".user@example.com", ""},
		{"double dot", "us..er@example.com", ""},
		{"formula equals", "=cmd|'/Ccalc'!A0@example.com", ""},
		{"formula plus", "+1@example.com", ""},
		{"formula minus", "-user@example.com", ""},
		{"parenthesis", "user(comment)@example.com", ""},
		{"address literal", "user@[192.0.2.1]", ""},
		{"single label", "root@localhost", ""},
		{"underscore domain", "user@ex_ample.com", ""},
		{"label too long", "user@" + strings.Repeat("a", 64) + ".com", ""},
		{"local too long", strings.Repeat("a", 65) + "@example.com", ""},
		{"too long", "u@" + strings.Repeat(strings.Repeat("a", 60)+".", 5) + "com", ""},
		{"huge", strings.Repeat("a", 5000) + "@example.com", ""},
		{"display name", "John <john@example.com>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeAddress(tt.in)
			if tt.want == "" {
				assert.ErrorIs(t, err, ErrBadAddress, "NormalizeAddress(%q)", tt.in)
				return
			}
			assert.NoError(t, err, "NormalizeAddress(%q)", tt.in)
			assert.Equal(t, tt.want, got, "NormalizeAddress(%q)", tt.in)
		})
	}
}

func TestNormalizeAddressErrorText(t *testing.T) {
	_, err := NormalizeAddress("nobody")
	require.Error(t, err, "NormalizeAddress(nobody) error")
	assert.True(t, strings.HasPrefix(err.Error(), "suppress: "), "NormalizeAddress(nobody) error")
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"user@example.com", "<A@B.example>", "rfc822;x@Bücher.example", "a@b@c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeAddress(s)
		if err != nil {
			return
		}
		again, err := NormalizeAddress(got)
		assert.NoError(t, err, "NormalizeAddress(%q)", s)
		assert.Equal(t, got, again, "NormalizeAddress(%q)", s)
		assert.LessOrEqual(t, len(got), MaxAddressLen, "NormalizeAddress(%q)", s)
	})
}
