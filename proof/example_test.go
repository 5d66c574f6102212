package proof_test

import (
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/verp"
)

func ExampleChecker_Check() {
	keys, _ := verp.ParseKeys(strings.NewReader("6c1f0e8b2d5a4e7f9b3c1d0a8e6f4b2c\n"))
	signer := &verp.Signer{Keys: keys}
	sent := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	// The list sent to dana with this return path.
	rp, _ := signer.ReturnPath("bounce@lists.example.org", "dana@example.com", sent)

	// A bounce came back to it, naming dana and erin.
	msg := "Delivered-To: " + rp + `
From: MAILER-DAEMON@mx.example.com
To: ` + rp + `
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; dana@example.com
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; erin@example.com
Action: failed
Status: 5.1.1
--B--
`
	rep, _ := dsn.Parse(strings.NewReader(msg), nil)
	h := textproto.MIMEHeader{"Delivered-To": {rp}}

	c := &proof.Checker{Signer: signer, Now: sent.Add(time.Hour)}
	for _, v := range c.Check(h, rep) {
		if v.Proven {
			fmt.Println(v.Recipient, "proven by", v.Method)
		} else {
			fmt.Println(v.Recipient, "not proven:", v.Reason)
		}
	}
	// Output:
	// dana@example.com proven by verp
	// erin@example.com not proven: wrong-recipient
}
