package verp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults and limits of a Signer.
const (
	// DefaultValidityDays is how many days a tag stays valid after the day
	// it was made, when Signer.ValidityDays is zero. Bounces come back
	// within a few days; delayed ones within the 5 days most MTAs retry.
	DefaultValidityDays = 30
	// MaxValidityDays is the longest validity: a larger
	// Signer.ValidityDays counts as this. The day in a tag is kept modulo
	// 1024 (and modulo 1000 in BATV), so it must stay well under that.
	MaxValidityDays = 365
	// FutureDays is how many days ahead of our clock a tag's day may be:
	// the clock of the host that signed may run ahead of ours.
	FutureDays = 1
	// MaxAddressBytes caps the length of an address Parse and Verify read;
	// a longer one is ErrMalformed.
	MaxAddressBytes = 1024
	// MaxRecipientBytes caps the recipient ReturnPath signs: the longest
	// path RFC 5321 section 4.5.3.1.3 allows, less its angle brackets.
	MaxRecipientBytes = 254
	// TagLen is the length of a signed VERP tag: DayChars then MACChars.
	TagLen = DayChars + MACChars
	// DayChars is the number of base32 characters of the day in a tag
	// (10 bits: the day modulo 1024).
	DayChars = 2
	// MACChars is the number of base32 characters of the HMAC in a tag
	// (60 bits).
	MACChars = 12
)

// Delimiter separates the parts of a signed VERP address. It must be the
// recipient delimiter of the MTA that receives the bounces (Postfix's
// recipient_delimiter, Exim's local_part_suffix, qmail's "-").
type Delimiter byte

// The delimiters a Signer accepts.
const (
	DelimiterPlus  Delimiter = '+' // the default
	DelimiterMinus Delimiter = '-' // qmail's
)

// Errors of Parse, Verify and ReturnPath. Each error returned wraps one of
// them; none holds a key.
var (
	// ErrNoTag means the address is not a signed VERP address (or, for
	// the BATV functions, not a prvs= address): a plain bounce address or
	// an unsigned VERP address such as bounce+user=example.com@….
	ErrNoTag = errors.New("verp: no tag in the address")
	// ErrMalformed means the address has the shape of a tagged address
	// but cannot be decoded (a broken escape, no recipient, too long).
	ErrMalformed = errors.New("verp: malformed address")
	// ErrBadTag means the tag verifies with none of the keys, for any day
	// it could stand for: it was forged, tampered with, or made with a key
	// no longer in the key file.
	ErrBadTag = errors.New("verp: tag does not verify")
	// ErrExpired means the tag was made with one of the keys, but longer
	// ago than the validity.
	ErrExpired = errors.New("verp: tag expired")
	// ErrWrongRecipient means the tag is genuine, but was made for another
	// recipient than the one the bounce is about.
	ErrWrongRecipient = errors.New("verp: tag made for another recipient")
	// ErrBadRecipient means ReturnPath or BATV was given an address it
	// cannot use: no "@", an empty part, too long, or a bounce address
	// whose local part holds the delimiter.
	ErrBadRecipient = errors.New("verp: unusable address")
)

// Signer makes and verifies signed return paths. Its zero value, with Keys
// set, uses the defaults; a Signer is safe for concurrent use.
type Signer struct {
	// Keys sign (the first) and verify (all).
	Keys *Keys
	// ValidityDays is how many days after the day it was made a tag
	// verifies (DefaultValidityDays; at most MaxValidityDays).
	ValidityDays int
	// Delimiter separates the bounce address's local part, the tag and
	// the recipient (DelimiterPlus).
	Delimiter Delimiter
	// BATVHash is the hash of BATV signatures. Zero: sign with BATVSHA1,
	// the draft's, and verify either; set: sign and verify with it alone.
	BATVHash BATVHash
}

// Address is a signed VERP address taken apart.
type Address struct {
	// Local and Domain are those of the bounce address ("bounce",
	// "lists.example.org").
	Local  string
	Domain string
	// Tag is the tag as written.
	Tag string
	// Recipient is the decoded recipient, as it was encoded.
	Recipient string
	// Day is the day (UTC midnight) the tag was made; set by Verify once
	// the tag is found genuine.
	Day time.Time
}

var tagEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const tagAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func (s *Signer) validity() int {
	v := s.ValidityDays
	if v <= 0 {
		return DefaultValidityDays
	}
	return min(v, MaxValidityDays)
}

func (s *Signer) delim() byte {
	if s.Delimiter == 0 {
		return byte(DelimiterPlus)
	}
	return byte(s.Delimiter)
}

func (s *Signer) checkSigner() error {
	if s == nil || s.Keys.Len() == 0 {
		return ErrNoKeys
	}
	switch s.Delimiter {
	case 0, DelimiterPlus, DelimiterMinus:
		return nil
	}
	return fmt.Errorf("verp: delimiter %q is neither %q nor %q", s.Delimiter, DelimiterPlus, DelimiterMinus)
}

// dayNumber is the number of days since 1970-01-01 UTC of t.
func dayNumber(t time.Time) int64 {
	return t.Unix() / 86400
}

// ReturnPath returns the signed return path of a message to recipient,
// sent at t, for the bounce address bounce ("bounce@lists.example.org"):
// bounce+<tag>+<recipient encoded>@lists.example.org.
func (s *Signer) ReturnPath(bounce, recipient string, t time.Time) (string, error) {
	if err := s.checkSigner(); err != nil {
		return "", err
	}
	d := s.delim()
	bl, bd, ok := splitAddr(bounce)
	if !ok || strings.IndexByte(bl, d) >= 0 || !plainAtoms(bl) || !plainAtoms(bd) {
		return "", fmt.Errorf("%w: bounce address %q: want local@domain, with no %q in the local part", ErrBadRecipient, bounce, d)
	}
	if len(recipient) > MaxRecipientBytes {
		return "", fmt.Errorf("%w: recipient longer than %d bytes", ErrBadRecipient, MaxRecipientBytes)
	}
	rl, rd, ok := splitAddr(recipient)
	if !ok {
		return "", fmt.Errorf("%w: recipient %q: want local@domain", ErrBadRecipient, recipient)
	}
	day := dayNumber(t)
	var b strings.Builder
	b.Grow(len(bl) + TagLen + 2 + 3*len(recipient) + 1 + len(bd))
	b.WriteString(bl)
	b.WriteByte(d)
	b.WriteString(tagFor(s.Keys.keys[0], day, recipient))
	b.WriteByte(d)
	encode(&b, rl, false)
	b.WriteByte('=')
	encode(&b, rd, true)
	b.WriteByte('@')
	b.WriteString(bd)
	return b.String(), nil
}

// Parse takes a signed VERP address apart without checking its tag. It
// accepts the address bare or in angle brackets.
func (s *Signer) Parse(addr string) (Address, error) {
	d := byte(DelimiterPlus)
	if s != nil {
		d = s.delim()
	}
	return parse(addr, d)
}

func parse(addr string, d byte) (Address, error) {
	a := strings.TrimSpace(addr)
	if len(a) > MaxAddressBytes {
		return Address{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxAddressBytes)
	}
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		a = a[1 : len(a)-1]
	}
	local, domain, ok := splitAddr(a)
	if !ok {
		return Address{}, fmt.Errorf("%w: %q is not an address", ErrNoTag, a)
	}
	i := strings.IndexByte(local, d)
	if i <= 0 {
		return Address{}, fmt.Errorf("%w: %q", ErrNoTag, a)
	}
	rest := local[i+1:]
	if len(rest) < TagLen+1 || rest[TagLen] != d || !isTag(rest[:TagLen]) {
		return Address{}, fmt.Errorf("%w: %q", ErrNoTag, a)
	}
	rcpt, err := decode(rest[TagLen+1:])
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrMalformed, a, err)
	}
	return Address{Local: local[:i], Domain: domain, Tag: rest[:TagLen], Recipient: rcpt}, nil
}

// Verify parses addr and checks its tag with every key, for the day it
// names, and returns the address with its Day set. A tag that no key made
// is ErrBadTag; one older than the validity is ErrExpired; an address
// without a tag is ErrNoTag. A tag dated more than FutureDays ahead of now,
// or 1024 days or more before it, cannot be told from a forged one: it is
// ErrBadTag.
func (s *Signer) Verify(addr string, now time.Time) (Address, error) {
	if err := s.checkSigner(); err != nil {
		return Address{}, err
	}
	a, err := s.Parse(addr)
	if err != nil {
		return a, err
	}
	tag := strings.ToLower(a.Tag)
	residue := int64(strings.IndexByte(tagAlphabet, tag[0]))<<5 | int64(strings.IndexByte(tagAlphabet, tag[1]))
	// The latest day not after tomorrow with this residue: the only
	// candidate within the validity, since it is shorter than 1024 days.
	top := dayNumber(now) + FutureDays
	day := top - ((top-residue)%1024+1024)%1024
	found := false
	for _, k := range s.Keys.keys {
		// Every key is tried, so that the time taken does not tell which.
		if hmac.Equal([]byte(tagFor(k, day, a.Recipient)), []byte(tag)) {
			found = true
		}
	}
	if !found {
		return a, fmt.Errorf("%w: %q", ErrBadTag, addr)
	}
	a.Day = time.Unix(day*86400, 0).UTC()
	if age := dayNumber(now) - day; age > int64(s.validity()) {
		return a, fmt.Errorf("%w: %q was made on %s, %d days ago, valid for %d", ErrExpired, addr, a.Day.Format(time.DateOnly), age, s.validity())
	}
	return a, nil
}

// VerifyRecipient verifies addr (see Verify) and checks that its tag was
// made for recipient, compared without regard to case; a tag for anyone
// else is ErrWrongRecipient.
func (s *Signer) VerifyRecipient(addr, recipient string, now time.Time) error {
	a, err := s.Verify(addr, now)
	if err != nil {
		return err
	}
	if !SameAddress(a.Recipient, recipient) {
		return fmt.Errorf("%w: %q is for %q, not %q", ErrWrongRecipient, addr, a.Recipient, recipient)
	}
	return nil
}

// SameAddress reports whether a and b are the same address for a tag:
// equal without regard to case, angle brackets or a trailing dot of the
// domain.
func SameAddress(a, b string) bool {
	na, nb := normalize(a), normalize(b)
	return na != "" && hmac.Equal([]byte(na), []byte(nb))
}

// normalize is the form of an address that tags sign: in lower case,
// without brackets, surrounding space, or a trailing dot of the domain.
func normalize(a string) string {
	a = strings.TrimSpace(a)
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		a = a[1 : len(a)-1]
	}
	return strings.TrimSuffix(strings.ToLower(a), ".")
}

// tagFor is the tag of recipient on day under key.
func tagFor(key []byte, day int64, recipient string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bouncer-verp-v1\x00"))
	m.Write(strconv.AppendInt(nil, day, 10))
	m.Write([]byte{0})
	m.Write([]byte(normalize(recipient)))
	sum := m.Sum(nil)
	r := day % 1024
	var b [DayChars + 13]byte
	b[0], b[1] = tagAlphabet[r>>5], tagAlphabet[r&31]
	tagEncoding.Encode(b[DayChars:], sum[:8])
	return string(b[:TagLen])
}

func isTag(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(tagAlphabet, c) < 0 {
			return false
		}
	}
	return true
}

// splitAddr splits an address at its last "@"; both parts must be
// non-empty.
func splitAddr(a string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return "", "", false
	}
	return a[:at], a[at+1:], true
}

// plainAtoms reports whether s is made of letters, digits and "-_." only,
// as a bounce address's local part and domain must be.
func plainAtoms(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeByte(s[i]) {
			return false
		}
	}
	return s != "" && s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
}

func safeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

const hexDigits = "0123456789ABCDEF"

// encode writes s with every byte outside letters, digits, "-", "_" and
// "." as "+XX", and a "." that would follow another "." (or, when last is
// set, end s) escaped too.
func encode(b *strings.Builder, s string, last bool) {
	prev := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		esc := !safeByte(c) || c == '.' && (prev == '.' || last && i == len(s)-1)
		if esc {
			b.WriteByte('+')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			prev = 0
			continue
		}
		b.WriteByte(c)
		prev = c
	}
}

// decode reverses the encoding of a recipient: its last bare "=" is the
// "@", and "+XX" escapes (in either case) are bytes.
func decode(enc string) (string, error) {
	eq := strings.LastIndexByte(enc, '=')
	if eq <= 0 || eq == len(enc)-1 {
		return "", errors.New("no recipient")
	}
	local, err := unescape(enc[:eq])
	if err != nil {
		return "", err
	}
	domain, err := unescape(enc[eq+1:])
	if err != nil {
		return "", err
	}
	return local + "@" + domain, nil
}

func unescape(s string) (string, error) {
	if strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '+' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("escape cut short")
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", errors.New("bad escape")
		}
		b = append(b, byte(hi<<4|lo))
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
