package verp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/verp"
)

// FuzzReturnPath checks that the address parser never panics on any
// input, and that Parse (and Verify) recover exactly the recipient that
// ReturnPath encoded, whatever its bytes.
//
//	go test ./verp -fuzz FuzzReturnPath
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{
		"dana@example.com",
		"o'brien+news@Example.com",
		"a=b+c@d=e",
		"x..y.@example.com.",
		"\"q @ q\"@example.com",
		"ünï@bücher.de",
		"bounce+aaaaaaaaaaaaaa+dana=example.com@lists.example.org",
		"bounce+dana=example.com@lists.example.org",
		"prvs=1234abcdef=bounce@lists.example.org",
		"bounce+aaaaaaaaaaaaaa+d+4=x@y",
		"+@=",
		"",
	} {
		f.Add(s)
	}
	s := signer(f, keyA, keyB)
	now := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, x string) {
		// Never panics, whatever x is.
		_, _ = s.Parse(x)
		_, _ = s.Verify(x, now)
		_, _ = verp.ParseBATV(x)
		_, _ = s.VerifyBATV(x, now)

		rp, err := s.ReturnPath("bounce@lists.example.org", x, now)
		if err != nil {
			return
		}
		a, err := s.Parse(rp)
		require.NoError(t, err, rp)
		assert.Equal(t, x, a.Recipient, rp)
		v, err := s.Verify(rp, now)
		require.NoError(t, err, rp)
		assert.Equal(t, x, v.Recipient)
		assert.NoError(t, s.VerifyRecipient(rp, x, now))
	})
}
