package suppress

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBadAddress reports a string that is not an e-mail address that a mailing
// list could hold. NormalizeAddress wraps it with the reason.
var ErrBadAddress = errors.New("suppress: not an address")

// Address limits (RFC 5321 section 4.5.3.1).
const (
	MaxAddressLen   = 254 // bytes of the whole normalised address
	MaxLocalPartLen = 64  // bytes before the @
)

// idnaProfile converts a domain to its one ASCII form: UTS #46 mapping for
// lookup (which also lower-cases), punycode for the non-ASCII labels, the DNS
// length limits, and the letter-digit-hyphen rule for host names.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
	idna.Transitional(false),
)

// NormalizeAddress returns the one form of an address under which its bounces
// are counted and listed, or an error wrapping ErrBadAddress.
//
// It trims white space, an "rfc822;" address-type prefix (RFC 3464 section
// 2.3.2) and the angle brackets around the address, then:
//   - converts the domain to lower-case ASCII; an internationalised domain
//     becomes its punycode A-label form (IDNA 2008 with UTS #46 mapping), so
//     "user@Bücher.example" and "user@xn--bcher-kva.example" are one address;
//     a trailing dot is dropped;
//   - lower-cases the local part too. RFC 5321 lets a server treat local parts
//     case-sensitively, but almost none does, and list software (Mailman,
//     listmonk, Mailchimp, Mautic) compares addresses case-insensitively, so
//     "John@x" and "john@x" must count as one recipient. Non-ASCII local parts
//     (RFC 6531) are kept, lower-cased with Unicode rules.
//
// It rejects: no "@", an empty local part or domain, white space or control
// characters, invalid UTF-8, a quoted local part or one with characters outside
// the RFC 5322 dot-atom, a local part starting with "=", "+" or "-" (see
// Divergences in the package doc), an address literal ("[192.0.2.1]"), a
// domain without a dot, a domain that is not a valid host name, and
// addresses longer than MaxAddressLen or local parts longer than
// MaxLocalPartLen bytes.
func NormalizeAddress(s string) (string, error) {
	a := strings.TrimSpace(s)
	if len(a) >= 7 && strings.EqualFold(a[:7], "rfc822;") {
		a = strings.TrimSpace(a[7:])
	}
	if strings.HasPrefix(a, "<") && strings.HasSuffix(a, ">") {
		a = strings.TrimSpace(a[1 : len(a)-1])
	}
	if a == "" {
		return "", badAddress(s, "empty")
	}
	if len(a) > 4*MaxAddressLen {
		// Do not spend work on a huge string; the exact limit is checked below.
		return "", badAddress(s[:32], "too long")
	}
	if !utf8.ValidString(a) {
		return "", badAddress(s, "invalid UTF-8")
	}
	for _, r := range a {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", badAddress(s, "white space or control character")
		}
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return "", badAddress(s, "no @")
	}
	local, domain := a[:at], a[at+1:]
	if local == "" {
		return "", badAddress(s, "empty local part")
	}
	if domain == "" {
		return "", badAddress(s, "empty domain")
	}
	if err := checkLocal(local); err != "" {
		return "", badAddress(s, err)
	}
	if strings.HasPrefix(domain, "[") {
		return "", badAddress(s, "address literal")
	}
	domain = strings.TrimSuffix(domain, ".")
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil || ascii == "" {
		return "", badAddress(s, "invalid domain")
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return "", badAddress(s, "domain without a dot")
	}
	local = strings.ToLower(local)
	if len(local) > MaxLocalPartLen {
		return "", badAddress(s, "local part too long")
	}
	out := local + "@" + ascii
	if len(out) > MaxAddressLen {
		return "", badAddress(s, "too long")
	}
	return out, nil
}

// checkLocal returns why local is not a dot-atom (RFC 5322 section 3.2.3,
// with RFC 6531's UTF-8), or "".
func checkLocal(local string) string {
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "misplaced dot in local part"
	}
	switch local[0] {
	case '=', '+', '-':
		return "local part starts with a spreadsheet formula character"
	}
	for _, r := range local {
		if r >= utf8.RuneSelf || r == '.' || isAtext(byte(r)) {
			continue
		}
		return fmt.Sprintf("character %q in local part", r)
	}
	return ""
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func badAddress(s, why string) error {
	return fmt.Errorf("%w: %q: %s", ErrBadAddress, s, why)
}
