package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/stretchr/testify/require"
)

// writeBigReport writes an RFC 3464 report naming n failed recipients to
// path (as bigReport, about 80 bytes a recipient), without holding it.
func writeBigReport(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriter(f)
	head := bigReport(0)
	w.Write(head[:len(head)-len("\r\n--b--\r\n")])
	for i := range n {
		fmt.Fprintf(w, "\r\nFinal-Recipient: rfc822; user%07d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n", i)
	}
	w.WriteString("\r\n--b--\r\n")
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
}

// peakHeap samples the heap in use while fn runs, every millisecond, and
// returns the most it saw above what was in use before (garbage not yet
// collected included).
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
			peak.Store(m.HeapInuse - base)
		}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	sample()
	close(done)
	<-stopped
	return peak.Load()
}

// BenchmarkRunMillion runs the job over a Maildir holding one report that
// names 1,000,000 recipients (81 MB), the per-message cap lifted so that
// every one is recorded as a hard bounce, and reports the peak heap in use
// during the run (peak-MiB): parsed, judged and recorded as it streams.
func BenchmarkRunMillion(b *testing.B) {
	const n = 1_000_000
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		md := filepath.Join(dir, "Maildir")
		writeMaildir(b, md, nil)
		writeBigReport(b, filepath.Join(md, "new", "1772447400.M1P1.big"), n)
		db := openState(b, filepath.Join(dir, "s.db"))
		src, err := mailsource.OpenMaildir(md, nil)
		require.NoError(b, err)
		b.StartTimer()
		var st Stats
		p := peakHeap(func() {
			st, err = Run(context.Background(), db, src, &Options{MaxSuppressPerMessage: -1})
		})
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, n, st.Events[classify.CategoryHard])
		db.Close()
		peak = max(peak, p)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}
