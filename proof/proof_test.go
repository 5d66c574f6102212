package proof_test

import (
	"bufio"
	"fmt"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/verp"
)

const (
	keyA    = "0123456789abcdef0123456789abcdef" // signs
	keyOld  = "fedcba9876543210fedcba9876543210" // verifies after a rotation
	keyGone = "this key was removed from the key file"
	bounce  = "bounce@lists.sender.example.org"
)

var (
	sent = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	now  = sent.Add(2 * 24 * time.Hour) // the bounce is checked two days later
)

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

// ours is the checker of the tests: the current key and the old one.
func ours(t testing.TB) *proof.Checker {
	return &proof.Checker{Signer: signer(t, keyA, keyOld), Now: now}
}

func returnPath(t testing.TB, key, rcpt string, at time.Time) string {
	t.Helper()
	rp, err := signer(t, key).ReturnPath(bounce, rcpt, at)
	require.NoError(t, err)
	return rp
}

// dsnMessage is a Postfix DSN for the failed recipients, delivered to
// deliveredTo, returning a message with messageID and from.
func dsnMessage(deliveredTo, messageID, from string, failed ...string) string {
	var blocks, notice strings.Builder
	for _, r := range failed {
		fmt.Fprintf(&notice, "<%s>: host mx.example.com[192.0.2.4] said: 550 5.1.1\n    <%s>: Recipient address rejected: User unknown (in reply to RCPT TO command)\n\n", r, r)
		fmt.Fprintf(&blocks, "\nFinal-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.com\nDiagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address\n    rejected: User unknown\n", r, r, r)
	}
	return fmt.Sprintf(`Return-Path: <>
X-Original-To: %[1]s
Delivered-To: %[1]s
Received: from relay.example.com (relay.example.com [192.0.2.90])
	by mx.sender.example.org (Postfix) with ESMTP id F0000FFFFF
	for <%[1]s>; Tue,  3 Mar 2026 08:05:00 +0000 (UTC)
Date: Tue,  3 Mar 2026 08:05:00 +0000 (UTC)
From: MAILER-DAEMON@relay.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: %[1]s
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B0UND/relay.example.com"
Message-Id: <20260303080500.0001@relay.example.com>

This is a MIME-encapsulated message.

--B0UND/relay.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

%[4]s
--B0UND/relay.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.com
X-Postfix-Queue-ID: F0000FFFFF
Arrival-Date: Tue,  3 Mar 2026 08:00:01 +0000 (UTC)
%[5]s
--B0UND/relay.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <%[1]s>
Message-ID: <%[2]s>
Date: Tue, 3 Mar 2026 08:00:00 +0000
From: Newsletter <%[3]s>
To: %[6]s
Subject: March news

--B0UND/relay.example.com--
`, deliveredTo, messageID, from, notice.String(), blocks.String(), strings.Join(failed, ", "))
}

// parse reads a message as the pipeline does: dsn.Parse for the report,
// and the top-level header of the bounce.
func parse(t testing.TB, msg string) (textproto.MIMEHeader, *dsn.Report) {
	t.Helper()
	rep, err := dsn.Parse(strings.NewReader(msg), nil)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Recipients)
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(msg))).ReadMIMEHeader()
	require.NoError(t, err)
	return h, rep
}

func TestSignedVERP(t *testing.T) {
	rp := returnPath(t, keyA, "dana@example.com", sent)
	h, rep := parse(t, dsnMessage(rp, "news-1@lists.sender.example.org", bounce, "dana@example.com"))
	vs := ours(t).Check(h, rep)
	require.Len(t, vs, 1)
	v := vs[0]
	assert.True(t, v.Proven, v.Err)
	assert.Equal(t, proof.MethodVERP, v.Method)
	assert.Equal(t, "dana@example.com", v.Recipient)
	assert.Equal(t, rp, v.Evidence)
	assert.Equal(t, proof.ReasonNone, v.Reason)
	assert.NoError(t, v.Err)
}

func TestRotatedKeyProves(t *testing.T) {
	rp := returnPath(t, keyOld, "dana@example.com", sent)
	h, rep := parse(t, dsnMessage(rp, "news-1@other.example.net", "news@other.example.net", "dana@example.com"))
	v := ours(t).Check(h, rep)[0]
	assert.True(t, v.Proven, v.Err)
	assert.Equal(t, proof.MethodVERP, v.Method)
}

func TestCaseFolded(t *testing.T) {
	// An MTA folded the address it delivered to; the DSN writes the
	// recipient's domain in capitals.
	rp := returnPath(t, keyA, "Dana@Example.com", sent)
	h, rep := parse(t, dsnMessage(strings.ToLower(rp), "n@x.example", "n@x.example", "dana@EXAMPLE.COM"))
	v := ours(t).Check(h, rep)[0]
	assert.True(t, v.Proven, v.Err)
}

// TestForged: bounces written by someone without our key never prove,
// whatever else they carry.
func TestForged(t *testing.T) {
	attacker := returnPath(t, keyA, "mallory@attacker.example", sent) // mallory is on the list
	genuine := returnPath(t, keyA, "dana@example.com", sent)
	i := strings.IndexByte(genuine, '+') + 1
	tampered := genuine[:i] + strings.Repeat("a", verp.TagLen) + genuine[i+verp.TagLen:]
	tests := []struct {
		name        string
		deliveredTo string
		want        proof.Reason
		wantErr     error
	}{
		{"no tag", bounce, proof.ReasonNoProof, proof.ErrNoProof},
		{"unsigned VERP", "bounce+dana=example.com@lists.sender.example.org", proof.ReasonNoProof, proof.ErrNoProof},
		{"a wrong tag", tampered, proof.ReasonBadTag, verp.ErrBadTag},
		{"a removed key", returnPath(t, keyGone, "dana@example.com", sent), proof.ReasonBadTag, verp.ErrBadTag},
		{"an expired tag", returnPath(t, keyA, "dana@example.com", sent.AddDate(0, 0, -40)), proof.ReasonExpired, verp.ErrExpired},
		// The report's own fields disagree with the tag (a forward that
		// keeps Original-Recipient): the tag does not cover dana. With
		// dana in both fields the VERP address is the list's (TestForward).
		{"a tag for another recipient", attacker, proof.ReasonWrongRecipient, verp.ErrWrongRecipient},
		{"a broken escape", "bounce+aaaaaaaaaaaaaa+dana+zz=example.com@lists.sender.example.org", proof.ReasonMalformed, verp.ErrMalformed},
		{"a forged BATV", "prvs=1234abcdef=" + bounce, proof.ReasonBadTag, verp.ErrBadTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The forger writes a Message-ID and From in our domain too.
			msg := dsnMessage(tt.deliveredTo, "news-1@lists.sender.example.org", bounce, "dana@example.com")
			if tt.wantErr == verp.ErrWrongRecipient {
				msg = strings.Replace(msg, "Final-Recipient: rfc822; dana@example.com", "Final-Recipient: rfc822; dana@forward.example", 1)
			}
			h, rep := parse(t, msg)
			c := ours(t)
			if tt.want != proof.ReasonNoProof {
				// Where a tag decides, our domain does not rescue it.
				c.OurDomains = []string{"sender.example.org"}
			}
			vs := c.Check(h, rep)
			require.Len(t, vs, 1)
			v := vs[0]
			assert.False(t, v.Proven)
			assert.Equal(t, proof.MethodNone, v.Method)
			assert.Equal(t, tt.want, v.Reason)
			assert.ErrorIs(t, v.Err, proof.ErrUnproven)
			assert.ErrorIs(t, v.Err, tt.wantErr)
			want := "dana@example.com"
			if tt.wantErr == verp.ErrWrongRecipient {
				want = "dana@forward.example" // an unproven verdict names the final recipient
			}
			assert.Equal(t, want, v.Recipient)
		})
	}
}

func TestPerRecipient(t *testing.T) {
	rp := returnPath(t, keyA, "dana@example.com", sent)
	h, rep := parse(t, dsnMessage(rp, "n@x.example", "n@x.example", "dana@example.com", "erin@example.net"))
	require.Len(t, rep.Recipients, 2)
	vs := ours(t).Check(h, rep)
	require.Len(t, vs, 2)
	assert.True(t, vs[0].Proven, vs[0].Err)
	assert.Equal(t, "dana@example.com", vs[0].Recipient)
	assert.False(t, vs[1].Proven, "a tag for dana proves nothing about erin")
	assert.Equal(t, "erin@example.net", vs[1].Recipient)
	assert.Equal(t, proof.ReasonWrongRecipient, vs[1].Reason)
}

func TestOurDomains(t *testing.T) {
	tests := []struct {
		name, messageID, from string
		proven                bool
	}{
		{"Message-ID in our domain", "20260303.1@sender.example.org", "news@elsewhere.example", true},
		{"Message-ID in a subdomain", "20260303.1@mail.lists.sender.example.org", "news@elsewhere.example", true},
		{"From in our domain", "abc@mailer.example.net", "news@SENDER.example.org", true},
		{"neither", "abc@mailer.example.net", "news@elsewhere.example", false},
		{"a look-alike domain", "abc@evilsender.example.org", "news@sender.example.org.evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rep := parse(t, dsnMessage(bounce, tt.messageID, tt.from, "dana@example.com"))
			c := &proof.Checker{OurDomains: []string{"sender.example.org"}, Now: now}
			v := c.Check(h, rep)[0]
			assert.Equal(t, tt.proven, v.Proven, v.Err)
			if tt.proven {
				assert.Equal(t, proof.MethodDomain, v.Method)
				return
			}
			assert.Equal(t, proof.ReasonNoProof, v.Reason)
			assert.ErrorIs(t, v.Err, proof.ErrNoProof)
		})
	}
	// No domains configured: nothing is proven by a domain.
	h, rep := parse(t, dsnMessage(bounce, "1@sender.example.org", bounce, "dana@example.com"))
	assert.False(t, (&proof.Checker{}).Check(h, rep)[0].Proven)
}

func TestBATV(t *testing.T) {
	s := signer(t, keyA)
	prvs, err := s.BATV(bounce, sent)
	require.NoError(t, err)
	h, rep := parse(t, dsnMessage(prvs, "n@x.example", "n@x.example", "dana@example.com", "erin@example.net"))
	vs := ours(t).Check(h, rep)
	require.Len(t, vs, 2)
	for _, v := range vs {
		assert.True(t, v.Proven, v.Err)
		assert.Equal(t, proof.MethodBATV, v.Method)
		assert.Equal(t, prvs, v.Evidence)
	}

	late := &proof.Checker{Signer: signer(t, keyA), Now: sent.AddDate(0, 0, 45)}
	v := late.Check(h, rep)[0]
	assert.False(t, v.Proven)
	assert.Equal(t, proof.ReasonExpired, v.Reason)
}

// TestVERPWithoutRecipient: a notice that names no one; dsn reads the
// recipient from the address the bounce was delivered to.
func TestVERPWithoutRecipient(t *testing.T) {
	rp := returnPath(t, keyA, "dana@example.com", sent)
	msg := `Return-Path: <>
Delivered-To: ` + rp + `
From: postmaster@relay.example.com
To: ` + rp + `
Subject: Mail delivery failed
Date: Tue, 3 Mar 2026 08:00:00 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered. This is a permanent error.
550 5.1.1 Mailbox does not exist
`
	h, rep := parse(t, msg)
	require.Len(t, rep.Recipients, 1)
	require.Equal(t, dsn.PositionVERP, rep.Recipients[0].Position)
	v := ours(t).Check(h, rep)[0]
	assert.True(t, v.Proven, v.Err)
	assert.Equal(t, "dana@example.com", v.Recipient, "the recipient the tag was made for")

	// The same notice to mallory's signed address, with a forged
	// Delivered-To naming dana unsigned: dana is not proven.
	mallory := returnPath(t, keyA, "mallory@attacker.example", sent)
	forged := strings.Replace(msg, "Delivered-To: "+rp, "Delivered-To: bounce+dana=example.com@lists.sender.example.org\nDelivered-To: "+mallory, 1)
	forged = strings.Replace(forged, "To: "+rp, "To: "+bounce, 1)
	h, rep = parse(t, forged)
	require.Len(t, rep.Recipients, 1)
	for _, v := range ours(t).Check(h, rep) {
		// dsn may read either address; whichever it reads, the only
		// recipient that can be proven is mallory, who holds the tag.
		if v.Proven {
			assert.Equal(t, "mallory@attacker.example", v.Recipient)
		}
	}
}

// TestReturnPathInOriginal: the bounce went to the plain bounce address
// (a forwarder rewrote it), but the returned header keeps the signed
// return path.
func TestReturnPathInOriginal(t *testing.T) {
	rp := returnPath(t, keyA, "dana@example.com", sent)
	msg := dsnMessage(rp, "n@x.example", "n@x.example", "dana@example.com")
	msg = strings.Replace(msg, "X-Original-To: "+rp, "X-Original-To: "+bounce, 1)
	msg = strings.Replace(msg, "Delivered-To: "+rp, "Delivered-To: "+bounce, 1)
	msg = strings.Replace(msg, "To: "+rp+"\n", "To: "+bounce+"\n", 1)
	msg = strings.Replace(msg, "for <"+rp+">", "for <"+bounce+">", 1)
	h, rep := parse(t, msg)
	require.NotContains(t, h.Get("Delivered-To"), "+")
	v := ours(t).Check(h, rep)[0]
	assert.True(t, v.Proven, v.Err)
	assert.Equal(t, proof.MethodVERP, v.Method)
}

func TestNilAndEmpty(t *testing.T) {
	c := ours(t)
	assert.Nil(t, c.Check(nil, nil))
	assert.Nil(t, c.Check(nil, &dsn.Report{}))
	rp := returnPath(t, keyA, "dana@example.com", sent)
	rep := &dsn.Report{To: rp, Recipients: []dsn.Recipient{{FinalRecipient: "dana@example.com"}}}
	v := c.Check(nil, rep)
	require.Len(t, v, 1)
	assert.True(t, v[0].Proven, "rep.To alone, with no header")
	var zero proof.Verdict
	assert.False(t, zero.Proven, "the zero Verdict is not proven")
	var none proof.Checker
	v = none.Check(nil, rep)
	assert.False(t, v[0].Proven, "the zero Checker proves nothing")
	assert.ErrorIs(t, v[0].Err, proof.ErrNoProof)
}

// TestManyAddresses: a bounce with thousands of Delivered-To fields is
// checked against MaxAddresses of them.
func TestManyAddresses(t *testing.T) {
	rp := returnPath(t, keyA, "dana@example.com", sent)
	h := textproto.MIMEHeader{}
	for i := 0; i < 5000; i++ {
		h.Add("Delivered-To", fmt.Sprintf("bounce+aaaaaaaaaaaaaa+x%d=example.com@lists.sender.example.org", i))
	}
	h.Add("Delivered-To", rp)
	rep := &dsn.Report{Recipients: []dsn.Recipient{{FinalRecipient: "dana@example.com"}}}
	start := time.Now()
	v := ours(t).Check(h, rep)[0]
	assert.False(t, v.Proven, "the genuine address is past the cap")
	assert.Equal(t, proof.ReasonBadTag, v.Reason)
	t.Logf("5000 Delivered-To fields: %v", time.Since(start))
}

// TestForward: a tag covers the address it was made for, and no other
// address of a forward.
func TestForward(t *testing.T) {
	tests := []struct {
		name, tagged, final, original string
		want                          string // the address proven, "" for none
	}{
		{"forwarded from the list address", "dana@example.com", "dana@forward.example", "dana@example.com", "dana@example.com"},
		{"mallory's tag, dana as the original", "mallory@attacker.example", "mallory@attacker.example", "dana@example.com", "mallory@attacker.example"},
		{"mallory's tag, dana as the final", "mallory@attacker.example", "dana@example.com", "mallory@attacker.example", "mallory@attacker.example"},
		// The report names only dana: the VERP address is the one the list
		// sent to (docs/taxonomy.md, "VERP over a forward"), so the record
		// is mallory's, and dana is never the address acted on.
		{"mallory's tag, dana alone", "mallory@attacker.example", "dana@example.com", "", "mallory@attacker.example"},
		{"mallory's tag, dana in both fields", "mallory@attacker.example", "dana@example.com", "dana@example.com", "mallory@attacker.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := returnPath(t, keyA, tt.tagged, sent)
			msg := dsnMessage(rp, "n@x.example", "n@x.example", tt.final)
			if tt.original != "" {
				msg = strings.Replace(msg, "Original-Recipient: rfc822;"+tt.final, "Original-Recipient: rfc822;"+tt.original, 1)
			} else {
				msg = strings.Replace(msg, "Original-Recipient: rfc822;"+tt.final+"\n", "", 1)
			}
			h, rep := parse(t, msg)
			require.Len(t, rep.Recipients, 1)
			wantOriginal := tt.original
			if tt.original == "" || tt.original == tt.final {
				wantOriginal = tt.tagged // VERP over a forward
			}
			require.Equal(t, wantOriginal, rep.Recipients[0].OriginalRecipient)
			v := ours(t).Check(h, rep)[0]
			if tt.want == "" {
				assert.False(t, v.Proven)
				assert.Equal(t, proof.ReasonWrongRecipient, v.Reason)
				return
			}
			assert.True(t, v.Proven, v.Err)
			assert.Equal(t, tt.want, v.Recipient, "the address to act on")
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	rp := returnPath(b, keyA, "dana@example.com", sent)
	h, rep := parse(b, dsnMessage(rp, "n@x.example", "n@x.example", "dana@example.com", "erin@example.net"))
	c := ours(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Check(h, rep)
	}
}
