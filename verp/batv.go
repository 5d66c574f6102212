package verp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// BATVHash is the HMAC hash of a BATV signature.
type BATVHash string

const (
	// BATVSHA1 is HMAC-SHA1, as draft-levine-smtp-batv-01 and Exim's prvs
	// expansion compute it.
	BATVSHA1 BATVHash = "hmac-sha1"
	// BATVSHA256 is HMAC-SHA256 truncated to the same 3 bytes: a variant
	// of bouncer's.
	BATVSHA256 BATVHash = "hmac-sha256"
)

// BATV tag sizes (draft-levine-smtp-batv-01 section 4.1).
const (
	batvPrefix  = "prvs="
	batvTagLen  = 1 + 3 + 6 // K DDD SSSSSS
	batvDayMod  = 1000
	batvSigByte = 3
)

// BATVAddress is a prvs= address taken apart.
type BATVAddress struct {
	// Tag is K DDD SSSSSS as written.
	Tag string
	// Sender is the address the tag signs (bounce@lists.example.org).
	Sender string
	// Expires is the last day (UTC midnight) the tag is valid; set by
	// VerifyBATV once the tag is found genuine.
	Expires time.Time
}

// BATV returns the BATV form of the return path sender ("prvs=KDDDSSSSSS=
// bounce@lists.example.org") for a message sent at t, signed with the
// first key; it expires ValidityDays after t. The sender is written, and
// signed, in lower case.
func (s *Signer) BATV(sender string, t time.Time) (string, error) {
	if err := s.checkSigner(); err != nil {
		return "", err
	}
	sender = strings.ToLower(strings.TrimSpace(sender))
	if len(sender) > MaxRecipientBytes {
		return "", fmt.Errorf("%w: sender longer than %d bytes", ErrBadRecipient, MaxRecipientBytes)
	}
	if l, d, ok := splitAddr(sender); !ok || !plainAtoms(l) || !plainAtoms(d) {
		return "", fmt.Errorf("%w: sender %q: want local@domain made of letters, digits, \"-\", \"_\" and dots", ErrBadRecipient, sender)
	}
	h := s.BATVHash
	if h == "" {
		h = BATVSHA1
	}
	k := s.Keys.keys[0]
	kd := string(s.Keys.nums[0]) + fmt.Sprintf("%03d", (dayNumber(t)+int64(s.validity()))%batvDayMod)
	sig, err := batvSig(h, k, kd, sender)
	if err != nil {
		return "", err
	}
	return batvPrefix + kd + sig + "=" + sender, nil
}

// ParseBATV takes a prvs= address apart without checking its signature.
// An address without a prvs= tag is ErrNoTag.
func ParseBATV(addr string) (BATVAddress, error) {
	a := strings.TrimSpace(addr)
	if len(a) > MaxAddressBytes {
		return BATVAddress{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxAddressBytes)
	}
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		a = a[1 : len(a)-1]
	}
	if len(a) < len(batvPrefix) || !strings.EqualFold(a[:len(batvPrefix)], batvPrefix) {
		return BATVAddress{}, fmt.Errorf("%w: %q", ErrNoTag, a)
	}
	rest := a[len(batvPrefix):]
	if len(rest) < batvTagLen+1 || rest[batvTagLen] != '=' || !batvTag(rest[:batvTagLen]) {
		return BATVAddress{}, fmt.Errorf("%w: %q: the tag is not K DDD SSSSSS", ErrMalformed, a)
	}
	sender := rest[batvTagLen+1:]
	if _, _, ok := splitAddr(sender); !ok {
		return BATVAddress{}, fmt.Errorf("%w: %q: no sender address", ErrMalformed, a)
	}
	return BATVAddress{Tag: rest[:batvTagLen], Sender: sender}, nil
}

// VerifyBATV parses addr and checks its signature with every key (see the
// package doc for why K does not choose it), over the sender as written
// and in lower case. A signature no key made is ErrBadTag; a tag whose
// day has passed, ErrExpired; a day further ahead than ValidityDays (and
// FutureDays) is taken for a day that has passed, modulo 1000.
func (s *Signer) VerifyBATV(addr string, now time.Time) (BATVAddress, error) {
	if err := s.checkSigner(); err != nil {
		return BATVAddress{}, err
	}
	a, err := ParseBATV(addr)
	if err != nil {
		return a, err
	}
	hashes := []BATVHash{BATVSHA1, BATVSHA256}
	if s.BATVHash != "" {
		hashes = []BATVHash{s.BATVHash}
	}
	senders := []string{a.Sender}
	if l := strings.ToLower(a.Sender); l != a.Sender {
		senders = append(senders, l)
	}
	kd := a.Tag[:4]
	want := []byte(strings.ToLower(a.Tag[4:]))
	found := false
	for _, k := range s.Keys.keys {
		for _, h := range hashes {
			for _, snd := range senders {
				sig, err := batvSig(h, k, kd, snd)
				if err != nil {
					return a, err
				}
				if hmac.Equal([]byte(sig), want) {
					found = true
				}
			}
		}
	}
	if !found {
		return a, fmt.Errorf("%w: %q", ErrBadTag, addr)
	}
	ddd, _ := strconv.Atoi(a.Tag[1:4])
	today := dayNumber(now)
	left := ((int64(ddd)-today)%batvDayMod + batvDayMod) % batvDayMod
	a.Expires = time.Unix((today+left)*86400, 0).UTC()
	if left > int64(s.validity()+FutureDays) {
		// The day is behind us: expired "batvDayMod-left" days ago.
		a.Expires = time.Unix((today+left-batvDayMod)*86400, 0).UTC()
		return a, fmt.Errorf("%w: %q expired on %s", ErrExpired, addr, a.Expires.Format(time.DateOnly))
	}
	return a, nil
}

func batvSig(h BATVHash, key []byte, kd, sender string) (string, error) {
	var fn func() hash.Hash
	switch h {
	case BATVSHA1:
		fn = sha1.New
	case BATVSHA256:
		fn = sha256.New
	default:
		return "", fmt.Errorf("verp: unknown BATV hash %q", h)
	}
	m := hmac.New(fn, key)
	m.Write([]byte(kd))
	m.Write([]byte(sender))
	return hex.EncodeToString(m.Sum(nil)[:batvSigByte]), nil
}

// batvTag reports whether s is K DDD SSSSSS: four digits, six hex digits.
func batvTag(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i < 4 {
			if c < '0' || c > '9' {
				return false
			}
			continue
		}
		if unhex(c) < 0 {
			return false
		}
	}
	return true
}
