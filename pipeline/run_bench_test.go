package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"
)

// distinctBounces returns n distinct messages made from the bounce corpus
// (or, without it, the samples of testdata/): each a corpus message with a
// header field of its own, so that no two have the same hash.
func distinctBounces(tb testing.TB, n int) [][]byte {
	tb.Helper()
	dir := "../../shared/corpus/bounces"
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = "../testdata"
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	require.NoError(tb, err, "no messages in %s", dir)
	require.NotEmpty(tb, files, "no messages in %s", dir)
	var base [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(tb, err)
		if bytes.HasPrefix(b, []byte("From ")) { // an mbox separator line
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			}
		}
		base = append(base, b)
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = append([]byte(fmt.Sprintf("X-Bench-Copy: %d\r\n", i)), base[i%len(base)]...)
	}
	return out
}

// writeMaildir writes msgs into the new/ folder of a fresh Maildir at dir.
func writeMaildir(tb testing.TB, dir string, msgs [][]byte) {
	tb.Helper()
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(tb, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	for i, m := range msgs {
		name := fmt.Sprintf("%d.M%dP1.bench", 1772447400+i, i)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, "new", name), m, 0o600))
	}
}

// openState opens a fresh state in dir.
func openState(tb testing.TB, path string) *suppress.DB {
	tb.Helper()
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(tb, err)
	require.NoError(tb, db.Lock())
	return db
}

// BenchmarkRunMaildir runs the job over a Maildir of 6,000 distinct
// bounces: "first" is a first pass (parse, record, move every message
// into the Maildir++ folders), "second" a run with nothing new over the
// same 6,000 messages left in place (--after none): each is known by its
// hash before it is parsed.
func BenchmarkRunMaildir(b *testing.B) {
	const n = 6000
	msgs := distinctBounces(b, n)
	b.Run("first", func(b *testing.B) {
		var wall time.Duration
		cpu := time.Duration(0)
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
			writeMaildir(b, filepath.Join(dir, "Maildir"), msgs)
			db := openState(b, filepath.Join(dir, "s.db"))
			src, err := mailsource.OpenMaildir(filepath.Join(dir, "Maildir"), &mailsource.MaildirOptions{UnrecognizedFolder: "bounces-unrecognized"})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, c0 := time.Now(), cpuTime()
			st, err := Run(context.Background(), db, src, &Options{Source: "maildir"})
			wall += time.Since(start)
			cpu += cpuTime() - c0
			if err != nil || st.Messages != n {
				b.Fatalf("Run = %+v, %v; want %d messages", st, err, n)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/wall.Seconds(), "msgs/s")
		if cpu > 0 {
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/msg")
		}
	})
	b.Run("second", func(b *testing.B) {
		dir := b.TempDir()
		writeMaildir(b, filepath.Join(dir, "Maildir"), msgs)
		db := openState(b, filepath.Join(dir, "s.db"))
		defer db.Close()
		src, err := mailsource.OpenMaildir(filepath.Join(dir, "Maildir"), &mailsource.MaildirOptions{Action: mailsource.ActionNone})
		if err != nil {
			b.Fatal(err)
		}
		if st, err := Run(context.Background(), db, src, nil); err != nil || st.Messages != n || st.Already != 0 {
			b.Fatalf("first Run = %+v, %v", st, err)
		}
		cpu := cpuTime()
		for b.Loop() {
			st, err := Run(context.Background(), db, src, nil)
			if err != nil || st.Already != n {
				b.Fatalf("second Run = %+v, %v; want %d already recorded", st, err, n)
			}
		}
		if cpu := cpuTime() - cpu; cpu > 0 {
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		}
	})
}

// BenchmarkRunIMAP compares, on the same 5,000 distinct bounces in a local
// Dovecot over TLS, a plain go-imap UID FETCH 1:* BODY.PEEK[] that reads
// every body ("raw-fetch") with the whole job ("run": list, fetch, parse,
// classify, record in a fresh state; --after none, so that every
// iteration finds the same mailbox).
func BenchmarkRunIMAP(b *testing.B) {
	const n = 5000
	srv := dovecottest.Start(b)
	for _, m := range distinctBounces(b, n) {
		srv.Append(b, "INBOX", m)
	}
	tlsConfig, err := srv.TLSConfig()
	if err != nil {
		b.Fatal(err)
	}
	rawFetch := func() int {
		c, err := imapclient.DialTLS(srv.Addr, &imapclient.Options{TLSConfig: tlsConfig})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(srv.User, srv.Password).Wait(); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		cmd := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		got := 0
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				if body, ok := item.(imapclient.FetchItemDataBodySection); ok {
					if _, err := io.Copy(io.Discard, body.Literal); err != nil {
						b.Fatal(err)
					}
					got++
				}
			}
		}
		if err := cmd.Close(); err != nil {
			b.Fatal(err)
		}
		return got
	}
	// Warm up: Dovecot indexes the new Maildir files on first access.
	if got := rawFetch(); got != n {
		b.Fatalf("raw fetch read %d messages, want %d", got, n)
	}
	b.Run("raw-fetch", func(b *testing.B) {
		for b.Loop() {
			if got := rawFetch(); got != n {
				b.Fatalf("raw fetch read %d messages, want %d", got, n)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("run", func(b *testing.B) {
		var wall time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			db := openState(b, filepath.Join(b.TempDir(), fmt.Sprintf("s%d.db", i)))
			b.StartTimer()
			start := time.Now()
			f, err := imapfetch.Dial(context.Background(), srv.URL("INBOX"), &imapfetch.Options{
				SecretFile: srv.PasswordFile, CAFile: srv.CACertFile, BatchSize: 500,
			})
			if err != nil {
				b.Fatal(err)
			}
			st, err := Run(context.Background(), db, IMAP(f, db.SyncStateFor("bench")), &Options{Source: "imap"})
			f.Close()
			wall += time.Since(start)
			if err != nil || st.Messages != n {
				b.Fatalf("Run = %+v, %v; want %d messages", st, err, n)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/wall.Seconds(), "msgs/s")
	})
}
