package proof_test

import (
	"bufio"
	"bytes"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/verp"
	"github.com/stretchr/testify/require"
)

// FuzzCheck feeds any message to dsn.Parse and Check with a key that
// signed nothing the fuzzer can see: Check never panics, returns one
// Verdict per recipient, and proves none of them (no key-less forgery).
//
//	go test ./proof -fuzz FuzzCheck
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.eml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(dsnMessage("bounce+aaaaaaaaaaaaaa+dana=example.com@lists.sender.example.org", "1@x.example", "n@x.example", "dana@example.com")))
	f.Add([]byte(dsnMessage("prvs=1234abcdef=bounce@lists.sender.example.org", "1@x.example", "n@x.example", "dana@example.com")))
	keys, err := verp.NewKeys([]byte("a key no seed was signed with, 32"))
	if err != nil {
		f.Fatal(err)
	}
	c := &proof.Checker{Signer: &verp.Signer{Keys: keys}, Now: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep, _ := dsn.Parse(bytes.NewReader(msg), nil)
		h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg))).ReadMIMEHeader()
		vs := c.Check(h, rep)
		require.Len(t, vs, len(rep.Recipients), "Check returned %d verdicts for %d recipients", len(vs), len(rep.Recipients))
		for _, v := range vs {
			require.False(t, v.Proven, "Check proved %q by %s (%s) without the key", v.Recipient, v.Method, v.Evidence)
			require.NotNil(t, v.Err, "unproven verdict without a reason: %+v", v)
			require.NotEqual(t, proof.ReasonNone, v.Reason, "unproven verdict without a reason: %+v", v)
		}
	})
}
