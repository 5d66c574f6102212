package dsn

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStreamRecipients parses every sample of ../testdata twice, with and
// without Options.StreamRecipients: the reports are the same, the
// recipients (Report.All) the same and in the same order, and Len counts
// them.
func TestStreamRecipients(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.eml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".eml"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			whole, werr := Parse(bytes.NewReader(b), nil)
			streamed, serr := Parse(bytes.NewReader(b), &Options{StreamRecipients: true})
			assert.Equal(t, fmt.Sprint(werr), fmt.Sprint(serr))
			got := slices.Collect(streamed.All())
			assert.Equal(t, whole.Recipients, got)
			assert.Equal(t, len(whole.Recipients), streamed.Len())
			assert.Equal(t, slices.Collect(whole.All()), whole.Recipients)
			w, s := *whole, *streamed
			w.Recipients, s.Recipients, w.lazy, s.lazy = nil, nil, nil, nil
			assert.Equal(t, w, s)
		})
	}
}

// reportHead and reportTail frame the recipients of bigReport.
const (
	reportHead = "From: MAILER-DAEMON@mx.example.net\r\nTo: list-bounces@example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 02 Mar 2026 10:30:00 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n"
	reportTail = "\r\n--b--\r\n"
)

// bigReport returns, as it is read, an RFC 3464 report naming n failed
// recipients (about 80 bytes each, as the forged report of issue 22: a
// million in 79 MB), without holding it.
func bigReport(n int) io.Reader {
	return io.MultiReader(strings.NewReader(reportHead), &recipientsReader{n: n}, strings.NewReader(reportTail))
}

// recipientsReader writes n recipient blocks as it is read.
type recipientsReader struct {
	i, n int
	buf  []byte
}

func (r *recipientsReader) Read(b []byte) (int, error) {
	for len(r.buf) < len(b) && r.i < r.n {
		r.buf = fmt.Appendf(r.buf, "\r\nFinal-Recipient: rfc822; user%07d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n", r.i)
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return n, nil
}

// PeakHeap samples the heap in use while fn runs, every millisecond, and
// returns the most it saw above what was in use before.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
				peak.Store(m.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
		peak.Store(m.HeapInuse - base)
	}
	close(done)
	<-stopped
	return peak.Load()
}

// BenchmarkParseMillion parses a report naming 1,000,000 recipients (81
// MB, read as it is made) and reports the peak heap in use (peak-MiB,
// garbage not yet collected included) with and without
// Options.StreamRecipients, the recipients iterated to the last.
func BenchmarkParseMillion(b *testing.B) {
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				p := peakHeap(func() {
					rep, err := Parse(bigReport(1_000_000), &Options{StreamRecipients: stream})
					require.NoError(b, err)
					n := 0
					for range rep.All() {
						n++
					}
					require.Equal(b, 1_000_000, n)
				})
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// TestStreamMany checks a report naming 20,000 recipients, one of them
// twice, read both ways: the same recipients in the same order, the
// repeated one once, in its first place, with the block that says more.
func TestStreamMany(t *testing.T) {
	const n = 20000
	extra := "\r\nFinal-Recipient: rfc822; USER0000007@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such mailbox here\r\n"
	read := func(stream bool) *Report {
		r := io.MultiReader(strings.NewReader(reportHead), &recipientsReader{n: n}, strings.NewReader(extra+reportTail))
		rep, err := Parse(r, &Options{StreamRecipients: stream})
		require.NoError(t, err)
		return rep
	}
	whole, streamed := read(false), read(true)
	require.Len(t, whole.Recipients, n)
	assert.Equal(t, n, streamed.Len())
	assert.Empty(t, streamed.Recipients)
	got := slices.Collect(streamed.All())
	assert.Equal(t, whole.Recipients, got)
	assert.Equal(t, "550 5.1.1 no such mailbox here", got[7].Diagnostic)
	assert.Equal(t, "USER0000007@example.net", got[7].FinalRecipient, "the block that says more")
	assert.Equal(t, "user0000008@example.net", got[8].FinalRecipient)
}
