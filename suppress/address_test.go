package suppress

import (
	"errors"
	"strings"
	"testing"
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
				if !errors.Is(err, ErrBadAddress) {
					t.Errorf("NormalizeAddress(%q) = %q, %v, want ErrBadAddress", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeAddress(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeAddressErrorText(t *testing.T) {
	_, err := NormalizeAddress("nobody")
	if err == nil || !strings.HasPrefix(err.Error(), "suppress: ") {
		t.Errorf("NormalizeAddress(nobody) error = %v, want one starting with \"suppress: \"", err)
	}
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
		if err != nil || again != got {
			t.Errorf("NormalizeAddress(%q) = %q, but NormalizeAddress(%q) = %q, %v", s, got, got, again, err)
		}
		if len(got) > MaxAddressLen {
			t.Errorf("NormalizeAddress(%q) = %q, longer than MaxAddressLen", s, got)
		}
	})
}
