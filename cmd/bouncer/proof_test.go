package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/verp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proofArrival is when the test Maildir received its messages: the time
// its file names give (1772447400.M…).
var proofArrival = time.Unix(1772447400, 0).UTC()

// deliveredDSN returns an RFC 3464 report delivered to deliveredTo (its
// Delivered-To, as the bounce mailbox's server writes it) naming rcpts as
// failed (5.1.1). Its Date lies far in the future, which no proof may use.
func deliveredDSN(i int, deliveredTo string, rcpts ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Delivered-To: %s\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: %s\n", deliveredTo, deliveredTo)
	fmt.Fprintf(&b, "Subject: Undelivered Mail Returned to Sender\nDate: Fri, 01 Jan 2100 00:00:00 +0000\nMessage-ID: <proof-%d@mx.example.net>\n", i)
	b.WriteString("MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n")
	b.WriteString("--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n")
	for _, r := range rcpts {
		fmt.Fprintf(&b, "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 No such user\n", r)
	}
	b.WriteString("\n--B--\n")
	return []byte(b.String())
}

// TestRunProof runs bouncer run --verp-key-file over forged bounces (no
// tag, a wrong tag, a tag of a retired key, an expired tag, a tag for
// another recipient) and genuine ones: only the genuine suppress, the
// forged are in unverified.csv, and a report that proves one recipient
// and not another suppresses the one. A report about one address that
// came back to the signed VERP address of another is a forward
// (docs/taxonomy.md): the tagged address, the list's, is suppressed, not
// the one the report names.
func TestRunProof(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, filepath.Join(dir, "verp.keys"), "# current key\n6c1f0e8b2d5a4e7f9b3c1d0a8e6f4b2c\n")
	keys, err := verp.LoadKeys(keyFile)
	require.NoError(t, err)
	retired, err := verp.NewKeys([]byte("an-old-key-that-was-rotated-out"))
	require.NoError(t, err)
	signer, old := &verp.Signer{Keys: keys}, &verp.Signer{Keys: retired}
	const bounce = "bounce@lists.example.org"
	rp := func(s *verp.Signer, rcpt string, sent time.Time) string {
		a, err := s.ReturnPath(bounce, rcpt, sent)
		require.NoError(t, err)
		return a
	}
	sent := proofArrival.Add(-24 * time.Hour)
	wrongTag := rp(signer, "wrongtag@example.net", sent)
	i := strings.Index(wrongTag, "+") + 1 + verp.DayChars // the first character of the MAC
	wrongTag = wrongTag[:i] + map[bool]string{true: "b", false: "a"}[wrongTag[i] == 'a'] + wrongTag[i+1:]

	msgs := map[string][]byte{
		"1772447400.M1P1.test": deliveredDSN(1, bounce, "notag@example.net"),
		"1772447400.M2P1.test": deliveredDSN(2, wrongTag, "wrongtag@example.net"),
		"1772447400.M3P1.test": deliveredDSN(3, rp(old, "retired@example.net", sent), "retired@example.net"),
		"1772447400.M4P1.test": deliveredDSN(4, rp(signer, "expired@example.net", proofArrival.AddDate(0, 0, -40)), "expired@example.net"),
		"1772447400.M5P1.test": deliveredDSN(5, rp(signer, "dana@example.com", sent), "other@example.net"),
		"1772447400.M6P1.test": deliveredDSN(6, rp(signer, "gone@example.net", sent), "gone@example.net"),
		"1772447400.M7P1.test": deliveredDSN(7, rp(signer, "erin@example.com", sent), "erin@example.com", "frank@example.com"),
	}
	md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	out := filepath.Join(dir, "lists")
	args := []string{"run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out-dir", out, "--verp-key-file", keyFile}
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)

	assert.Equal(t, map[string]string{"gone@example.net": "hard", "erin@example.com": "hard", "dana@example.com": "hard"},
		readList(t, filepath.Join(out, "hard.csv")), "only the genuine bounces suppress")
	want := map[string]string{
		"notag@example.net":    "no-proof",
		"wrongtag@example.net": "bad-tag",
		"retired@example.net":  "bad-tag",
		"expired@example.net":  "expired",
		"frank@example.com":    "wrong-recipient",
	}
	assert.Equal(t, want, readList(t, filepath.Join(out, pipeline.UnverifiedName)))
	assert.Contains(t, stdout, "unverified: 5 failures without proof")
	assert.Contains(t, stdout, "wrote "+filepath.Join(out, pipeline.UnverifiedName))
	assert.Len(t, listDir(t, filepath.Join(md, ".bounces-processed", "new")), 3, "the genuine bounces are processed")

	// Nothing new: the file keeps what it has.
	code, stdout, stderr = runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Equal(t, want, readList(t, filepath.Join(out, pipeline.UnverifiedName)))

	t.Run("report only", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list,
			"--verp-key-file", keyFile, "--require-proof=false")
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Len(t, readList(t, list), 8, "every failure suppresses")
		assert.Contains(t, stdout, "unproven: 5 failures")
		assert.Equal(t, want, readList(t, filepath.Join(dir, pipeline.UnverifiedName)))
	})
	t.Run("validity and delimiter", func(t *testing.T) {
		dir := t.TempDir()
		qmail := &verp.Signer{Keys: keys, Delimiter: verp.DelimiterMinus}
		md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{
			"1772447400.M1P1.test": deliveredDSN(1, rp(qmail, "q@example.net", sent), "q@example.net"),
			"1772447400.M2P1.test": deliveredDSN(2, rp(qmail, "old@example.net", proofArrival.AddDate(0, 0, -40)), "old@example.net"),
		})
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list,
			"--verp-key-file", keyFile, "--delimiter", "-", "--validity-days", "60")
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Equal(t, map[string]string{"q@example.net": "hard", "old@example.net": "hard"}, readList(t, list))
	})
	t.Run("our domains", func(t *testing.T) {
		// seedDSN returns an original whose Message-ID is @example.org.
		for domains, want := range map[string]int{"example.org": 1, "other.org, example.com": 0} {
			dir := t.TempDir()
			md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, "seed@example.net", "5.1.1", "550 5.1.1 No such user")})
			list := filepath.Join(dir, "list.csv")
			code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list, "--our-domains", domains)
			require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
			assert.Len(t, readList(t, list), want, "--our-domains %s", domains)
		}
	})
	t.Run("flags", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "run", "--maildir", md, "--require-proof")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--require-proof needs --verp-key-file or --our-domains")
		code, _, stderr = runBouncer(t, "run", "--maildir", md, "--verp-key-file", filepath.Join(dir, "none"))
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "verp:")
		code, _, stderr = runBouncer(t, "run", "--maildir", md, "--verp-key-file", keyFile, "--delimiter", "=")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "VERP delimiter")
	})
}
