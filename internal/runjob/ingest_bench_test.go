//go:build unix

package runjob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest measures one ingest as an MTA's pipe runs it: open and
// lock the state, record one message of the corpus, rewrite the list,
// close. cpu-ms/msg is the CPU time per message (the floor: 50 ms); the
// start of the process itself is not counted.
func BenchmarkIngest(b *testing.B) {
	paths, err := filepath.Glob("../../testdata/*.eml")
	require.NoError(b, err)
	require.NotEmpty(b, paths)
	var msgs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(b, err)
		msgs = append(msgs, data)
	}
	dir := b.TempDir()
	cfg := &Config{State: filepath.Join(dir, "state.db"), Out: filepath.Join(dir, "list.csv")}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		// A header line makes each message new to the state.
		msg := append([]byte(fmt.Sprintf("X-Bench: %d\r\n", i)), msgs[i%len(msgs)]...)
		if code := Ingest(ctx, cfg, bytes.NewReader(msg), io.Discard); code != 0 {
			b.Fatalf("ingest %d: exit %d", i, code)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/msg")
}
