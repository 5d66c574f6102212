package verp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/verp"
)

const (
	keyA = "0123456789abcdef0123456789abcdef" // the signing key of most tests
	keyB = "fedcba9876543210fedcba9876543210"
)

var sent = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)

func signer(t testing.TB, keys ...string) *verp.Signer {
	t.Helper()
	bs := make([][]byte, len(keys))
	for i, k := range keys {
		bs[i] = []byte(k)
	}
	k, err := verp.NewKeys(bs...)
	require.NoError(t, err)
	return &verp.Signer{Keys: k}
}

func TestRoundTrip(t *testing.T) {
	s := signer(t, keyA)
	for _, rcpt := range []string{
		"dana@example.com",
		"Dana.Smith@Example.COM",
		"o'brien+news@example.com",
		"a=b=c@example.com",
		"x..y.@example.com",
		"\"quoted local\"@example.com",
		"a@b@example.com",
		"ünïcødé@bücher.de",
		"user@example.com.",
		"+@=",
	} {
		t.Run(rcpt, func(t *testing.T) {
			rp, err := s.ReturnPath("bounce@lists.example.org", rcpt, sent)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(rp, "bounce+"), rp)
			assert.True(t, strings.HasSuffix(rp, "@lists.example.org"), rp)
			assert.Equal(t, 1, strings.Count(rp, "@"), rp)
			local := rp[:strings.LastIndexByte(rp, '@')]
			assert.NotContains(t, local, "..")
			for _, c := range []byte(local) {
				assert.Truef(t, strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+=", c) >= 0, "%q in %s", c, rp)
			}
			a, err := s.Verify(rp, sent.Add(48*time.Hour))
			require.NoError(t, err)
			assert.Equal(t, rcpt, a.Recipient)
			assert.Equal(t, "bounce", a.Local)
			assert.Equal(t, "lists.example.org", a.Domain)
			assert.Equal(t, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), a.Day)
			assert.NoError(t, s.VerifyRecipient(rp, rcpt, sent))
		})
	}
}

func TestEncodingIsDocumented(t *testing.T) {
	s := signer(t, keyA)
	rp, err := s.ReturnPath("bounce@lists.example.org", "o'brien+news@Example.com", sent)
	require.NoError(t, err)
	assert.Regexp(t, `^bounce\+[a-z2-7]{14}\+o\+27brien\+2Bnews=Example\.com@lists\.example\.org$`, rp)
}

func TestRotation(t *testing.T) {
	old := signer(t, keyA)
	rotated := signer(t, keyB, keyA) // the new key signs, the old one still verifies
	oldRP, err := old.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	newRP, err := rotated.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	assert.NotEqual(t, oldRP, newRP, "the new key signs")

	_, err = rotated.Verify(oldRP, sent)
	assert.NoError(t, err, "the old key verifies after the rotation")
	_, err = rotated.Verify(newRP, sent)
	assert.NoError(t, err)
	_, err = old.Verify(newRP, sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "a signer without the new key")

	retired := signer(t, keyB) // the old key removed
	_, err = retired.Verify(oldRP, sent)
	assert.ErrorIs(t, err, verp.ErrBadTag)
}

func TestExpiry(t *testing.T) {
	s := signer(t, keyA)
	rp, err := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	day := 24 * time.Hour
	tests := []struct {
		name string
		now  time.Time
		want error
	}{
		{"same day", sent, nil},
		{"a day early (our clock behind)", sent.Add(-day), nil},
		{"last valid day", sent.Add(30 * day), nil},
		{"a day past the validity", sent.Add(31 * day), verp.ErrExpired},
		{"a year later", sent.Add(365 * day), verp.ErrExpired},
		{"far in the past", sent.Add(-10 * day), verp.ErrBadTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Verify(rp, tt.now)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}

	short := &verp.Signer{Keys: s.Keys, ValidityDays: 7}
	_, err = short.Verify(rp, sent.Add(8*day))
	assert.ErrorIs(t, err, verp.ErrExpired, "ValidityDays: 7")
	_, err = short.Verify(rp, sent.Add(7*day))
	assert.NoError(t, err)
}

func TestWrongRecipient(t *testing.T) {
	s := signer(t, keyA)
	rp, err := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	err = s.VerifyRecipient(rp, "eve@example.com", sent)
	assert.ErrorIs(t, err, verp.ErrWrongRecipient)
	assert.NoError(t, s.VerifyRecipient(rp, "DANA@EXAMPLE.COM", sent), "case does not matter")
	assert.NoError(t, s.VerifyRecipient(rp, "<dana@example.com>", sent))

	// The tag of dana's address, put in front of eve's.
	a, err := s.Parse(rp)
	require.NoError(t, err)
	swapped := "bounce+" + a.Tag + "+eve=example.com@lists.example.org"
	_, err = s.Verify(swapped, sent)
	assert.ErrorIs(t, err, verp.ErrBadTag)
}

func TestTampered(t *testing.T) {
	s := signer(t, keyA)
	rp, err := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	tagAt := len("bounce+")
	for i := 0; i < verp.TagLen; i++ {
		b := []byte(rp)
		if b[tagAt+i] == 'a' {
			b[tagAt+i] = 'b'
		} else {
			b[tagAt+i] = 'a'
		}
		t.Run(fmt.Sprintf("tag byte %d", i), func(t *testing.T) {
			_, err := s.Verify(string(b), sent)
			assert.ErrorIs(t, err, verp.ErrBadTag)
		})
	}
	_, err = s.Verify(strings.Replace(rp, "dana", "dane", 1), sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "recipient changed")
}

func TestCase(t *testing.T) {
	s := signer(t, keyA)
	rp, err := s.ReturnPath("bounce@lists.example.org", "Dana@Example.COM", sent)
	require.NoError(t, err)
	for name, addr := range map[string]string{
		"as made":           rp,
		"lower case":        strings.ToLower(rp),
		"upper case":        strings.ToUpper(rp),
		"domain upper case": rp[:strings.LastIndexByte(rp, '=')] + "=EXAMPLE.com@LISTS.example.org",
		"angle brackets":    "<" + rp + ">",
	} {
		t.Run(name, func(t *testing.T) {
			a, err := s.Verify(addr, sent)
			require.NoError(t, err)
			assert.True(t, verp.SameAddress(a.Recipient, "dana@example.com"), a.Recipient)
		})
	}
	// Hex escapes in lower case, as an MTA that folds case writes them.
	rp, err = s.ReturnPath("bounce@lists.example.org", "o'brien@example.com", sent)
	require.NoError(t, err)
	a, err := s.Verify(strings.ToLower(rp), sent)
	require.NoError(t, err)
	assert.Equal(t, "o'brien@example.com", a.Recipient)
}

func TestDelimiterMinus(t *testing.T) {
	s := signer(t, keyA)
	s.Delimiter = verp.DelimiterMinus
	rp, err := s.ReturnPath("bounce@lists.example.org", "jean-luc@example.com", sent)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rp, "bounce-"), rp)
	a, err := s.Verify(rp, sent)
	require.NoError(t, err)
	assert.Equal(t, "jean-luc@example.com", a.Recipient)

	_, err = s.ReturnPath("list-bounces@lists.example.org", "x@example.com", sent)
	assert.ErrorIs(t, err, verp.ErrBadRecipient, "the delimiter in the bounce address")
	s.Delimiter = '/'
	_, err = s.ReturnPath("bounce@lists.example.org", "x@example.com", sent)
	assert.Error(t, err)
}

func TestHostile(t *testing.T) {
	s := signer(t, keyA)
	tests := []struct {
		name, addr string
		want       error
	}{
		{"empty", "", verp.ErrNoTag},
		{"plain bounce address", "bounce@lists.example.org", verp.ErrNoTag},
		{"unsigned VERP", "bounce+dana=example.com@lists.example.org", verp.ErrNoTag},
		{"no domain", "bounce+aaaaaaaaaaaaaa+dana=example.com@", verp.ErrNoTag},
		{"no at", "bounce+aaaaaaaaaaaaaa+dana=example.com", verp.ErrNoTag},
		{"tag too short", "bounce+aaaa+dana=example.com@lists.example.org", verp.ErrNoTag},
		{"tag not base32", "bounce+aaaaaaaaaaaaa1+dana=example.com@lists.example.org", verp.ErrNoTag},
		{"no recipient", "bounce+aaaaaaaaaaaaaa+@lists.example.org", verp.ErrMalformed},
		{"no = in the recipient", "bounce+aaaaaaaaaaaaaa+dana@lists.example.org", verp.ErrMalformed},
		{"empty domain", "bounce+aaaaaaaaaaaaaa+dana=@lists.example.org", verp.ErrMalformed},
		{"cut escape", "bounce+aaaaaaaaaaaaaa+dana+2=example.com@lists.example.org", verp.ErrMalformed},
		{"bad escape", "bounce+aaaaaaaaaaaaaa+dana+zz=example.com@lists.example.org", verp.ErrMalformed},
		{"escape at the end", "bounce+aaaaaaaaaaaaaa+dana=example.com+@lists.example.org", verp.ErrMalformed},
		{"forged tag", "bounce+aaaaaaaaaaaaaa+dana=example.com@lists.example.org", verp.ErrBadTag},
		{"huge", "bounce+aaaaaaaaaaaaaa+" + strings.Repeat("a", 5000) + "=example.com@x", verp.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Verify(tt.addr, sent)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	for _, bad := range []string{"", "dana", "@example.com", "dana@", strings.Repeat("a", 250) + "@example.com"} {
		_, err := s.ReturnPath("bounce@lists.example.org", bad, sent)
		assert.ErrorIsf(t, err, verp.ErrBadRecipient, "ReturnPath(%q)", bad)
	}
	for _, bad := range []string{"", "bounce", "bounce+x@lists.example.org", "bo unce@lists.example.org", "bounce@lists..org"} {
		_, err := s.ReturnPath(bad, "dana@example.com", sent)
		assert.ErrorIsf(t, err, verp.ErrBadRecipient, "ReturnPath(bounce %q)", bad)
	}
}

func TestNoKeys(t *testing.T) {
	for name, s := range map[string]*verp.Signer{"nil signer": nil, "no keys": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
			assert.ErrorIs(t, err, verp.ErrNoKeys)
			_, err = s.Verify("bounce+aaaaaaaaaaaaaa+dana=example.com@lists.example.org", sent)
			assert.ErrorIs(t, err, verp.ErrNoKeys)
			_, err = s.BATV("bounce@lists.example.org", sent)
			assert.ErrorIs(t, err, verp.ErrNoKeys)
			_, err = s.VerifyBATV("prvs=1234abcdef=bounce@lists.example.org", sent)
			assert.ErrorIs(t, err, verp.ErrNoKeys)
		})
	}
}

func TestParseKeys(t *testing.T) {
	k, err := verp.ParseKeys(strings.NewReader("# the key file\n\n  " + keyB + "  \n# retired soon\n" + keyA + "\n"))
	require.NoError(t, err)
	assert.Equal(t, 2, k.Len())
	s := &verp.Signer{Keys: k}
	rp, err := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	require.NoError(t, err)
	_, err = signer(t, keyB).Verify(rp, sent)
	assert.NoError(t, err, "the first key signs")

	for name, file := range map[string]string{
		"empty":         "",
		"comments only": "# nothing\n\n",
		"short key":     "short\n",
		"too many":      strings.Repeat(keyA+"\n", verp.MaxKeys+1),
		"too large":     strings.Repeat("#", verp.MaxKeyFileBytes+1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verp.ParseKeys(strings.NewReader(file))
			require.Error(t, err)
			assert.True(t, errors.Is(err, verp.ErrBadKeys) || errors.Is(err, verp.ErrNoKeys), err)
		})
	}
}

func TestKeysNeverShown(t *testing.T) {
	k, err := verp.ParseKeys(strings.NewReader(keyA + "\n"))
	require.NoError(t, err)
	s := verp.Signer{Keys: k}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{k, *k, s, &s} {
			out := fmt.Sprintf(f, v)
			assert.NotContainsf(t, out, keyA, "Sprintf(%q, %T)", f, v)
			assert.NotContainsf(t, out, fmt.Sprintf("%x", keyA), "Sprintf(%q, %T)", f, v)
			assert.NotContainsf(t, out, "48 49 50", "Sprintf(%q, %T)", f, v) // bytes of "0123"
		}
	}
	_, err = verp.ParseKeys(strings.NewReader("0123456789abcde\n")) // one byte short
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "0123456789abcde")
}

func TestBATV(t *testing.T) {
	s := signer(t, keyA)
	addr, err := s.BATV("Bounce@Lists.Example.org", sent)
	require.NoError(t, err)
	assert.Regexp(t, `^prvs=[0-9]{4}[0-9a-f]{6}=bounce@lists\.example\.org$`, addr)
	// DDD is the day the tag expires: sent + 30 days, modulo 1000.
	exp := (sent.Unix()/86400 + verp.DefaultValidityDays) % 1000
	assert.Equal(t, fmt.Sprintf("%03d", exp), addr[6:9])

	a, err := s.VerifyBATV(addr, sent.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "bounce@lists.example.org", a.Sender)
	assert.Equal(t, time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), a.Expires)

	_, err = s.VerifyBATV(strings.ToUpper(addr), sent)
	assert.NoError(t, err, "in upper case")
	_, err = s.VerifyBATV(addr, sent.Add(30*24*time.Hour))
	assert.NoError(t, err, "on the day it expires")
	_, err = s.VerifyBATV(addr, sent.Add(31*24*time.Hour))
	assert.ErrorIs(t, err, verp.ErrExpired)
	_, err = signer(t, keyB).VerifyBATV(addr, sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "another key")
	_, err = signer(t, keyB, keyA).VerifyBATV(addr, sent)
	assert.NoError(t, err, "the old key after a rotation")

	b := []byte(addr)
	b[12] ^= 1 // a hex digit of the signature
	_, err = s.VerifyBATV(string(b), sent)
	assert.ErrorIs(t, err, verp.ErrBadTag)
	_, err = s.VerifyBATV(strings.Replace(addr, "=bounce@", "=other@", 1), sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "another sender")
	other := []byte(addr)
	other[5] = '0' + (other[5]-'0'+1)%10 // another key number
	_, err = s.VerifyBATV(string(other), sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "K is signed")

	for _, bad := range []string{"", "bounce@lists.example.org", "prvs=", "prvs=12=x@y", "prvs=1234abcdeg=x@y", "prvs=1234abcdef=nobody", "prvs=1234abcdef@y"} {
		_, err := s.VerifyBATV(bad, sent)
		assert.True(t, errors.Is(err, verp.ErrNoTag) || errors.Is(err, verp.ErrMalformed), "VerifyBATV(%q) = %v", bad, err)
	}
}

// TestBATVDraftHash checks the HMAC-SHA1 signature against one computed by
// hand from the draft's definition: the first 3 bytes of
// HMAC-SHA1(key, K DDD sender), in hex.
func TestBATVDraftHash(t *testing.T) {
	s := signer(t, keyA)
	s.BATVHash = verp.BATVSHA1
	addr, err := s.BATV("bounce@lists.example.org", sent)
	require.NoError(t, err)
	want := hmacSHA1Hex(keyA, addr[5:9]+"bounce@lists.example.org")[:6]
	assert.Equal(t, want, addr[9:15])

	s256 := signer(t, keyA)
	s256.BATVHash = verp.BATVSHA256
	addr256, err := s256.BATV("bounce@lists.example.org", sent)
	require.NoError(t, err)
	assert.NotEqual(t, addr, addr256)
	_, err = signer(t, keyA).VerifyBATV(addr256, sent)
	assert.NoError(t, err, "the default verifies either hash")
	_, err = s.VerifyBATV(addr256, sent)
	assert.ErrorIs(t, err, verp.ErrBadTag, "BATVHash set: that hash alone")
}

func TestEximWarning(t *testing.T) {
	short := strings.Repeat("k", verp.MaxEximPRVSKeyBytes)
	long := strings.Repeat("k", verp.MaxEximPRVSKeyBytes+1)
	for _, tc := range []struct {
		name string
		keys []string
		want string
	}{
		{"64 bytes", []string{short}, ""},
		{"one longer", []string{short, long}, "key 2 is longer than 64 bytes"},
		{"two longer", []string{long, short, long}, "keys 1, 3 are longer than 64 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var secrets [][]byte
			for _, k := range tc.keys {
				secrets = append(secrets, []byte(k))
			}
			k, err := verp.NewKeys(secrets...)
			require.NoError(t, err)
			got := k.EximWarning()
			if tc.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.want)
			}
			assert.NotContains(t, got, short, "a key is never shown")
		})
	}
}
