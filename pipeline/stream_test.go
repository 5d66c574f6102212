package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// variedReport returns an RFC 3464 report naming n recipients of several
// sorts: hard failures, forwards (an Original-Recipient), delays, a
// recipient that is not an address, and one named twice.
func variedReport(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: list-bounces@example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 02 Mar 2026 10:30:00 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n")
	for i := range n {
		switch {
		case i%13 == 5:
			fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; not-an-address-%d\r\nAction: failed\r\nStatus: 5.1.1\r\n", i)
		case i%11 == 3:
			fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; slow%06d@example.net\r\nAction: delayed\r\nStatus: 4.4.1\r\n", i)
		case i%7 == 1:
			fmt.Fprintf(&b, "\r\nOriginal-Recipient: rfc822; list%06d@example.org\r\nFinal-Recipient: rfc822; fwd%06d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n", i, i)
		default:
			fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; user%06d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n", i)
		}
	}
	b.WriteString("\r\nFinal-Recipient: rfc822; user000000@example.net\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full, and more\r\n")
	b.WriteString("\r\n--b--\r\n")
	return b.Bytes()
}

// TestStreamedSameEvents processes a report over StreamRecipients: the
// events it streams (Message.More, as often as asked) and its counts are
// those the held path makes of the same report, with and without a Proof.
func TestStreamedSameEvents(t *testing.T) {
	msg := variedReport(StreamRecipients + 2000)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no proof", Options{MaxSuppressPerMessage: -1}},
		{"proof", Options{Proof: &ProofChecker{Checker: proof.Checker{OurDomains: []string{"example.net"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProcessor(&tc.opts)
			src := &mailsource.Message{Name: "big", Body: bytes.NewReader(msg), Received: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)}
			res, err := p.Process(ctx, src)
			require.NoError(t, err)
			require.True(t, res.Streamed)
			assert.Nil(t, res.Records)
			assert.Empty(t, res.Message.Events)
			streamed := slices.Collect(res.Message.More)
			assert.Equal(t, streamed, slices.Collect(res.Message.More), "a second pass makes the same events")

			rep, perr := dsn.Parse(bytes.NewReader(msg), nil)
			held := &Result{Report: rep}
			held.Message.Date = res.Message.Date
			held.Records = Records(nil, src.Name, rep, perr, nil)
			p.events(ctx, held, src, msg)
			assert.Equal(t, held.Message.Events, streamed)
			assert.Equal(t, held.Unconfirmed, res.Unconfirmed)
			assert.Equal(t, held.Unverified, res.Unverified)
			assert.Len(t, res.Unproven, len(held.Unproven))
		})
	}
}
