package verp_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/verp"
)

func Example() {
	// A key file: one key a line; the first signs, all verify.
	keys, err := verp.ParseKeys(strings.NewReader(`# made with: openssl rand -hex 32
6c1f0e8b2d5a4e7f9b3c1d0a8e6f4b2c7d9e1f3a5b7c9d0e2f4a6b8c0d1e3f5a
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := &verp.Signer{Keys: keys} // tags valid 30 days
	sent := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)

	rp, _ := s.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)
	fmt.Println(rp)

	// A week later the bounce comes back to that address.
	a, err := s.Verify(rp, sent.AddDate(0, 0, 7))
	fmt.Println(a.Recipient, err)

	// Two months later the tag has expired.
	_, err = s.Verify(rp, sent.AddDate(0, 2, 0))
	fmt.Println(errors.Is(err, verp.ErrExpired))

	// A tag for dana proves nothing about anyone else.
	err = s.VerifyRecipient(rp, "eve@example.com", sent)
	fmt.Println(errors.Is(err, verp.ErrWrongRecipient))
	// Output:
	// bounce+bdkirk6s24cxsg+dana=example.com@lists.example.org
	// dana@example.com <nil>
	// true
	// true
}
