package dsn

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dsnMessage builds a multipart/report with the given recipient blocks.
func dsnMessage(blocks string) string {
	return "From: MAILER-DAEMON@mx.example.net\nTo: news@sender.example.org\n" +
		"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n" +
		"--B\nContent-Type: text/plain\n\nThe mail system\n\n" +
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		blocks + "\n--B\nContent-Type: text/rfc822-headers\n\nFrom: news@sender.example.org\n" +
		"To: a@example.com\nMessage-ID: <m1@sender.example.org>\n\n--B--\n"
}

func TestHostile(t *testing.T) {
	valid := dsnMessage("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n")
	deep := strings.Repeat("Content-Type: multipart/mixed; boundary=\"x\"\n\n--x\n", 5000) + "\nhello\n"
	tests := []struct {
		name     string
		msg      string
		wantRcpt string // first recipient expected, "" for none
		wantErr  error  // nil: no error expected; else errors.Is target
	}{
		{"empty", "", "", ErrMalformed},
		{"only-garbage", "\x00\x01\x02\xff\xfe", "", nil},
		{"truncated-mid-header", valid[:40], "", ErrNoRecipient},
		{"truncated-mid-report", valid[:strings.Index(valid, "Status: 5.1.1")+10], "a@example.com", nil},
		{"truncated-mid-field", valid[:strings.Index(valid, "; a@example.com")], "", ErrNoRecipient},
		{"nul-bytes", strings.ReplaceAll(valid, "The mail system", "The\x00mail\x00system"), "a@example.com", nil},
		// The report fields end up in the text part, where they are still read.
		{"broken-boundary", strings.ReplaceAll(valid, "--B\nContent-Type: message/delivery-status", "--Q\nContent-Type: message/delivery-status"), "a@example.com", nil},
		{"unknown-charset", strings.Replace(valid, "Content-Type: text/plain", "Content-Type: text/plain; charset=x-klingon", 1), "a@example.com", ErrCharset},
		{"megabyte-header-line", "X-Junk: " + strings.Repeat("a", 1<<20) + "\n" + valid, "", ErrLimit},
		{"megabyte-field-line", dsnMessage("Final-Recipient: rfc822; a@example.com\nX-Junk: " + strings.Repeat("b", 1<<20) + "\nAction: failed\nStatus: 5.1.1\n"), "a@example.com", nil},
		{"deep-nesting", "Subject: deep\n" + deep, "", ErrLimit},
		// No usable address in the report: the original's only recipient.
		{"bad-address", dsnMessage("Final-Recipient: rfc822; <not an address>\nAction: failed\nStatus: 5.1.1\n"), "a@example.com", nil},
		{"bad-address-two-recipients", strings.Replace(dsnMessage("Final-Recipient: rfc822; <not an address>\nAction: failed\n"), "To: a@example.com", "To: a@example.com, b@example.com", 1), "", ErrNoRecipient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Parse(strings.NewReader(tt.msg), nil)
			require.NotNil(t, rep, "Parse returned a nil Report (err %v)", err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			} else if err != nil {
				assert.ErrorIs(t, err, ErrMalformed, "want no error, or only ErrMalformed")
			}
			got := ""
			if len(rep.Recipients) > 0 {
				got = rep.Recipients[0].FinalRecipient
			}
			assert.Equal(t, tt.wantRcpt, got, "Parse() first recipient")
		})
	}
}

func TestManyRecipients(t *testing.T) {
	var b strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&b, "Final-Recipient: rfc822; user%d@example.com\nAction: failed\nStatus: 5.1.1\n\n", i)
	}
	msg := dsnMessage(b.String())
	rep, err := Parse(strings.NewReader(msg), &Options{MaxRecipients: 1000})
	assert.ErrorIs(t, err, ErrLimit)
	assert.True(t, rep.Truncated, "a report cut at the limit is Truncated")
	assert.Len(t, rep.Recipients, 1000)
	rep, err = Parse(strings.NewReader(msg), nil)
	require.NoError(t, err, "the default limit (%d) holds 200000 recipients", DefaultMaxRecipients)
	assert.Len(t, rep.Recipients, 200000)
	assert.False(t, rep.Truncated)
}

// hugeReader yields a report whose returned original carries size bytes of
// base64 attachment, generated as it is read.
func hugeReader(size int64, attachmentFirst bool) io.Reader {
	head := "From: MAILER-DAEMON@mx.example.net\nTo: news@sender.example.org\nSubject: Undelivered Mail\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
	notice := "--B\nContent-Type: text/plain\n\nThe mail system\n\n"
	status := "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Final-Recipient: rfc822; big@example.com\nAction: failed\nStatus: 5.2.2\n\n"
	orig := "--B\nContent-Type: message/rfc822\n\nFrom: news@sender.example.org\nTo: big@example.com\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"I\"\n\n--I\nContent-Type: application/octet-stream\n" +
		"Content-Transfer-Encoding: base64\n\n"
	line := strings.Repeat("QUJD", 19) + "\n"
	body := io.LimitReader(&repeatReader{s: line}, size)
	tail := strings.NewReader("\n--I--\n\n--B--\n")
	if attachmentFirst {
		att := "--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
		return io.MultiReader(strings.NewReader(head+notice+att), body, strings.NewReader("\n"+status+orig+"\n--I--\n"), tail)
	}
	return io.MultiReader(strings.NewReader(head+notice+status+orig), body, tail)
}

type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

func TestHugeAttachmentStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 300 MB")
	}
	for _, first := range []bool{false, true} {
		t.Run(fmt.Sprintf("attachmentFirst=%v", first), func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			rep, err := Parse(hugeReader(300<<20, first), nil)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			require.NoError(t, err, "Parse(300 MB)")
			require.Len(t, rep.Recipients, 1, "Parse(300 MB) recipients")
			assert.Equal(t, "big@example.com", rep.Recipients[0].FinalRecipient, "Parse(300 MB) recipient")
			// Total allocation, not just the live heap: nothing may buffer
			// the attachment even briefly.
			alloc := after.TotalAlloc - before.TotalAlloc
			assert.LessOrEqual(t, alloc, uint64(100<<20), "Parse(300 MB) allocated %d MiB, want under 100 MiB", alloc>>20)
		})
	}
}

func TestLineEndingsAgree(t *testing.T) {
	raw, err := os.ReadFile("../testdata/synthetic-dsn-lenient.eml")
	require.NoError(t, err)
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	variants := map[string][]byte{
		"LF":   lf,
		"CRLF": bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")),
		"CR":   bytes.ReplaceAll(lf, []byte("\n"), []byte("\r")),
	}
	want, _ := Parse(bytes.NewReader(lf), nil)
	for name, b := range variants {
		got, err := Parse(bytes.NewReader(b), nil)
		assert.NoError(t, err, name)
		assert.Equal(t, toGolden(want, nil), toGolden(got, nil), name)
	}
}

// errAfterReader returns its data, then err instead of EOF.
type errAfterReader struct {
	r   io.Reader
	err error
}

func (e *errAfterReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestRegressions(t *testing.T) {
	t.Run("continuation-lines-are-joined-once", func(t *testing.T) {
		// 50,000 continuation lines: joining each to the value would copy
		// gigabytes.
		long := "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n" + strings.Repeat("  more text on a folded line\n", 50000)
		rep, _ := Parse(strings.NewReader(dsnMessage("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"+long)), nil)
		require.Len(t, rep.Recipients, 1, "Parse(folded field)")
		diag := rep.Recipients[0].Diagnostic
		assert.True(t, strings.HasPrefix(diag, "550 5.1.1 user unknown more text"), "Parse(folded field) diagnostic = %.80q", diag)
	})
	t.Run("feedback-report-recipients-are-capped", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: fbl@example.net\nContent-Type: multipart/report; report-type=feedback-report; boundary=F\n\n--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n")
		for i := range 30 {
			fmt.Fprintf(&b, "Original-Rcpt-To: user%d@example.com\n", i)
		}
		b.WriteString("--F--\n")
		rep, err := Parse(strings.NewReader(b.String()), &Options{MaxRecipients: 10})
		assert.Len(t, rep.Recipients, 10, "Parse(30 complained recipients, MaxRecipients 10)")
		assert.ErrorIs(t, err, ErrLimit, "Parse(30 complained recipients, MaxRecipients 10)")
	})
	t.Run("small-header-limit-is-no-false-alarm", func(t *testing.T) {
		msg := dsnMessage("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n")
		rep, err := Parse(strings.NewReader(msg), &Options{MaxHeaderBytes: 1000})
		assert.NoError(t, err, "Parse(300-byte header, MaxHeaderBytes 1000)")
		assert.False(t, rep.Truncated, "Parse(300-byte header, MaxHeaderBytes 1000) Truncated")
	})
	t.Run("a-failing-reader-is-an-error", func(t *testing.T) {
		msg := dsnMessage("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n")
		r := &errAfterReader{r: strings.NewReader(msg[:len(msg)/2]), err: io.ErrUnexpectedEOF}
		_, err := Parse(r, nil)
		assert.ErrorIs(t, err, ErrRead, "Parse(connection cut)")
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "Parse(connection cut) wraps the reader's error")
	})
	t.Run("many-recipients-in-free-text", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\nThe following address(es) failed:\n\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "  user%d@example.com\n    550 5.1.1 user unknown\n", i)
		}
		rep, _ := Parse(strings.NewReader(b.String()), nil)
		assert.Len(t, rep.Recipients, 5000, "Parse(5,000 free-text recipients)")
	})
}
