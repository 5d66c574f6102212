package pipeline

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
)

// corpusDir returns the shared bounce corpus, or skips b without it.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	for _, dir := range []string{"../../shared/corpus/bounces"} {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	tb.Skip("no bounce corpus (../../shared/corpus/bounces)")
	return ""
}

// stubParse reads the whole message, as a parser must, and reports nothing:
// it measures the pipeline without the parser.
func stubParse(r io.Reader, _ *dsn.Options) (*dsn.Report, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	return &dsn.Report{Kind: dsn.KindNotBounce}, nil
}

// BenchmarkParseCorpus runs bouncer parse over the corpus read ten times
// (4,210 messages) with output to io.Discard, and reports messages per
// second: "dsn" with the real parser, "pipeline" with a parser that only
// reads, for the overhead of walking, reading, ordering and encoding.
func BenchmarkParseCorpus(b *testing.B) {
	dir := corpusDir(b)
	var paths []string
	for range 10 {
		paths = append(paths, dir)
	}
	msgs := 0
	for _, p := range paths {
		if err := mailsource.Walk(p, func(string, error) error { msgs++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name   string
		parse  func(io.Reader, *dsn.Options) (*dsn.Report, error)
		format Format
	}{
		{"dsn", nil, FormatJSONL},
		{"pipeline", stubParse, FormatJSONL},
		{"dsn-csv", nil, FormatCSV},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &parser{format: bc.format, parse: bc.parse, stderr: io.Discard}
			cpu := cpuTime()
			for b.Loop() {
				ok, err := p.run(paths, io.Discard)
				if !ok || err != nil {
					b.Fatalf("run: ok %v, err %v", ok, err)
				}
			}
			reportRate(b, msgs*b.N, cpuTime()-cpu)
		})
	}
}

// BenchmarkMbox measures the mbox splitter over the corpus joined into one
// mbox file.
func BenchmarkMbox(b *testing.B) {
	dir := corpusDir(b)
	mbox := filepath.Join(b.TempDir(), "corpus.mbox")
	n := writeMbox(b, mbox, dir, 10)
	p := &parser{parse: stubParse, stderr: io.Discard}
	cpu := cpuTime()
	for b.Loop() {
		ok, err := p.run([]string{mbox}, io.Discard)
		if !ok || err != nil {
			b.Fatalf("run: ok %v, err %v", ok, err)
		}
	}
	reportRate(b, n*b.N, cpuTime()-cpu)
}

// reportRate reports messages per second of wall time, and the CPU time
// per message, which a busy machine disturbs less. On a machine with P free
// cores the throughput is P / cpu-µs/msg.
func reportRate(b *testing.B, msgs int, cpu time.Duration) {
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(msgs), "cpu-µs/msg")
	}
}

// benchRecords are typical records: a DSN recipient and a record without one.
var benchRecords = []Record{
	{Source: "/var/mail/bounces/cur/1732780800.M1P2.mx:2,S", Recipient: "nobody@example.net",
		Category: "hard", Reason: "userunknown", Status: "5.1.1", ReplyCode: "550", Action: "failed",
		Diagnostic: "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
		RemoteMTA:  "mx.example.net", ReportingMTA: "mx.example.org", Kind: dsn.KindDSN,
		OriginalMessageID: "news-42@lists.example.com", Sender: "news@lists.example.com",
		Date: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)},
	{Source: "/var/mail/bounces/cur/1732780801.M1P3.mx:2,S", Category: "none", Reason: "notbounce", Kind: dsn.KindNotBounce},
}

// BenchmarkEncodeJSON compares the append-based encoder with encoding/json
// on the same records.
func BenchmarkEncodeJSON(b *testing.B) {
	b.Run("append", func(b *testing.B) {
		enc, _ := NewEncoder(FormatJSONL, false)
		var out []byte
		for b.Loop() {
			out = enc.Encode(out[:0], benchRecords)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		type jsonRecord struct {
			Source            string `json:"source"`
			Recipient         string `json:"recipient"`
			Category          string `json:"category"`
			Reason            string `json:"reason"`
			Status            string `json:"status"`
			ReplyCode         string `json:"reply_code"`
			Action            string `json:"action"`
			Diagnostic        string `json:"diagnostic"`
			RemoteMTA         string `json:"remote_mta"`
			ReportingMTA      string `json:"reporting_mta"`
			Kind              string `json:"kind"`
			OriginalMessageID string `json:"original_message_id"`
			Sender            string `json:"sender"`
			Date              string `json:"date"`
			Error             string `json:"error"`
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			for i := range benchRecords {
				r := &benchRecords[i]
				var v [len(FieldNames) + 1]string
				r.values(&v, false)
				enc.Encode(jsonRecord{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]})
			}
		}
	})
}
