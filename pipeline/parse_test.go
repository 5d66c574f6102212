package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/internal/testmail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoParse reads the whole message and reports it back in
// Original.MessageID (field original_message_id), so that tests see what
// each source was.
func echoParse(r io.Reader, _ *dsn.Options) (*dsn.Report, error) {
	b, err := io.ReadAll(r)
	return &dsn.Report{Kind: dsn.KindNotBounce, Original: dsn.Original{MessageID: string(b)}}, err
}

// digestParse is echoParse with a digest of the message, for large ones.
func digestParse(r io.Reader, _ *dsn.Options) (*dsn.Report, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	id := fmt.Sprintf("%d:%s", n, hex.EncodeToString(h.Sum(nil)))
	return &dsn.Report{Kind: dsn.KindNotBounce, Original: dsn.Original{MessageID: id}}, err
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%d:%s", len(s), hex.EncodeToString(h[:]))
}

// decodeJSONL is testmail.DecodeJSONL.
func decodeJSONL(t *testing.T, out string) []map[string]string { return testmail.DecodeJSONL(t, out) }

// runPipeline runs p over paths and returns the records as source → field.
func runPipeline(t *testing.T, p *parser, stdin string, paths ...string) (recs []map[string]string, stderr string, allRead bool) {
	t.Helper()
	var out, errb bytes.Buffer
	p.stdin = strings.NewReader(stdin)
	p.stderr = &errb
	allRead, err := p.run(paths, &out)
	require.NoError(t, err, "run")
	return decodeJSONL(t, out.String()), errb.String(), allRead
}

// write, msg and mboxOf are the testmail helpers.
func write(t *testing.T, root string, files ...string) { testmail.Write(t, root, files...) }
func msg(name string) string                           { return testmail.Msg(name) }
func mboxOf(msgs ...string) string                     { return testmail.Mbox(msgs...) }

// writeMbox writes the files of dir, times over, into an mbox at path and
// returns the number of messages.
func writeMbox(tb testing.TB, path, dir string, times int) int {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	var msgs []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(tb, err)
		msgs = append(msgs, string(b))
	}
	var all []string
	for range times {
		all = append(all, msgs...)
	}
	require.NoError(tb, os.WriteFile(path, []byte(mboxOf(all...)), 0o644))
	return len(all)
}

func TestDiscovery(t *testing.T) {
	quoted := "Subject: quoted\n\nFrom the start of a line\n>From already quoted\n"
	for _, tc := range []struct {
		name  string
		files []string // created under a temp dir
		paths []string // relative to it, or "-"
		stdin string
		want  [][2]string // source (relative), message
	}{
		{
			name:  "message file",
			files: []string{"a.eml"},
			paths: []string{"a.eml"},
			want:  [][2]string{{"a.eml", msg("a.eml")}},
		},
		{
			name:  "nested folder in name order",
			files: []string{"dir/b/2", "dir/b/10", "dir/a", "dir/c/d/e", "dir/.DS_Store"},
			paths: []string{"dir"},
			want: [][2]string{
				{"dir/a", msg("dir/a")}, {"dir/b/10", msg("dir/b/10")},
				{"dir/b/2", msg("dir/b/2")}, {"dir/c/d/e", msg("dir/c/d/e")},
			},
		},
		{
			name:  "Maildir cur, new and tmp",
			files: []string{"md/new/2", "md/cur/1:2,S", "md/tmp/3", "md/dovecot-uidlist=3 V1 N1\n"},
			paths: []string{"md"},
			want: [][2]string{
				{"md/cur/1:2,S", msg("md/cur/1:2,S")}, {"md/new/2", msg("md/new/2")},
				{"md/tmp/3", msg("md/tmp/3")},
			},
		},
		{
			name:  "mbox with three messages and From lines",
			files: []string{"box.mbox=" + mboxOf(msg("one"), quoted, msg("three"))},
			paths: []string{"box.mbox"},
			want: [][2]string{
				{"box.mbox#1", msg("one")}, {"box.mbox#2", quoted}, {"box.mbox#3", msg("three")},
			},
		},
		{
			name:  "stdin message",
			paths: []string{"-"},
			stdin: msg("stdin"),
			want:  [][2]string{{"-", msg("stdin")}},
		},
		{
			name:  "stdin mbox",
			paths: []string{"-"},
			stdin: mboxOf(msg("one"), quoted),
			want:  [][2]string{{"-#1", msg("one")}, {"-#2", quoted}},
		},
		{
			name:  "paths in command-line order",
			files: []string{"z.eml", "a/x.eml", "m.mbox=" + mboxOf(msg("m1"), msg("m2"))},
			paths: []string{"z.eml", "m.mbox", "-", "a"},
			stdin: msg("stdin"),
			want: [][2]string{
				{"z.eml", msg("z.eml")}, {"m.mbox#1", msg("m1")}, {"m.mbox#2", msg("m2")},
				{"-", msg("stdin")}, {"a/x.eml", msg("a/x.eml")},
			},
		},
		{
			name:  "empty file",
			files: []string{"empty="},
			paths: []string{"empty"},
			want:  [][2]string{{"empty", ""}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, tc.files...)
			var paths []string
			for _, p := range tc.paths {
				if p != "-" {
					p = filepath.Join(root, p)
				}
				paths = append(paths, p)
			}
			recs, stderr, allRead := runPipeline(t, &parser{parse: echoParse, workers: 3}, tc.stdin, paths...)
			assert.True(t, allRead, "allRead")
			assert.Equal(t, "", stderr, "allRead")
			var got [][2]string
			for _, r := range recs {
				src := r["source"]
				if rel, err := filepath.Rel(root, src); err == nil && src != "-" && !strings.HasPrefix(src, "-#") {
					src = filepath.ToSlash(rel)
				}
				got = append(got, [2]string{src, r["original_message_id"]})
			}
			assert.Equal(t, tc.want, got, "parse %q", tc.paths)
		})
	}
}

// TestLargeMessages checks that messages larger than inlineMax are streamed
// whole to the parser, from files, mbox files and stdin, and that a parser
// that stops reading early does not disturb the next messages.
func TestLargeMessages(t *testing.T) {
	big := "Subject: big\n\n" + strings.Repeat("0123456789abcdef\n", 3*inlineMax/17) + ">From inside\n"
	bigUnquoted := strings.Replace(big, ">From inside", "From inside", 1)
	root := t.TempDir()
	write(t, root, "big.eml="+big, "box.mbox="+mboxOf(msg("one"), bigUnquoted, msg("three"), bigUnquoted))

	t.Run("read whole", func(t *testing.T) {
		p := &parser{parse: digestParse, workers: 2}
		recs, _, allRead := runPipeline(t, p, big, filepath.Join(root, "big.eml"), filepath.Join(root, "box.mbox"), "-")
		want := []string{digest(big), digest(msg("one")), digest(bigUnquoted), digest(msg("three")), digest(bigUnquoted), digest(big)}
		var got []string
		for _, r := range recs {
			got = append(got, r["original_message_id"])
		}
		assert.True(t, allRead, "digests")
		assert.Equal(t, want, got, "digests")
	})
	t.Run("parser stops early", func(t *testing.T) {
		head := func(r io.Reader, _ *dsn.Options) (*dsn.Report, error) {
			b := make([]byte, 12)
			n, _ := io.ReadFull(r, b)
			return &dsn.Report{Kind: dsn.KindNotBounce, Original: dsn.Original{MessageID: string(b[:n])}}, nil
		}
		p := &parser{parse: head, workers: 1}
		recs, _, _ := runPipeline(t, p, "", filepath.Join(root, "box.mbox"), filepath.Join(root, "big.eml"))
		var got []string
		for _, r := range recs {
			got = append(got, r["source"][len(root)+1:]+" "+r["original_message_id"])
		}
		want := []string{"box.mbox#1 Subject: one", "box.mbox#2 Subject: big", "box.mbox#3 Subject: thr", "box.mbox#4 Subject: big", "big.eml Subject: big"}
		assert.Equal(t, want, got, "records")
	})
}

func TestUnreadablePaths(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.eml", "dir/b.eml", "dir/d.eml")
	if err := os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(root, "dir", "c.eml")); err != nil {
		t.Skip("no symlinks:", err)
	}
	paths := []string{filepath.Join(root, "a.eml"), filepath.Join(root, "missing.eml"), filepath.Join(root, "dir")}
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		paths = append(paths, "/proc/self/mem") // opens, but reading offset 0 fails
	}
	var stdout, stderr bytes.Buffer
	allRead, err := Parse(paths, &stdout, &ParseOptions{Options: Options{Workers: 4}, Stderr: &stderr})
	assert.False(t, allRead, "Parse")
	assert.NoError(t, err, "Parse")
	recs := decodeJSONL(t, stdout.String())
	var got []string
	for _, r := range recs {
		got = append(got, strings.TrimPrefix(r["source"], root+"/")+" error="+boolString(r["error"] != "")+" category="+r["category"])
	}
	want := []string{
		"a.eml error=false category=none",
		"missing.eml error=true category=none",
		"dir/b.eml error=false category=none",
		"dir/c.eml error=true category=none",
		"dir/d.eml error=false category=none",
	}
	if len(paths) == 4 {
		want = append(want, "/proc/self/mem error=true category=none")
	}
	assert.Equal(t, want, got, "records")
	for _, name := range []string{"missing.eml", "c.eml"} {
		assert.Contains(t, stderr.String(), "bouncer: cannot read ", "stderr")
		assert.Contains(t, stderr.String(), name, "stderr")
	}
	n := strings.Count(stderr.String(), "\n")
	assert.Equal(t, len(want)-3, n, "stderr has %d lines", n)
}

func boolString(b bool) string { return fmt.Sprint(b) }

func TestJSONFields(t *testing.T) {
	want := []string{"source", "recipient", "category", "reason", "status", "reply_code",
		"action", "diagnostic", "remote_mta", "reporting_mta", "kind",
		"original_message_id", "sender", "date", "error", "final_recipient", "recipient_from", "note"}
	rec := Record{
		Source: "s", Recipient: "r@example.com", Category: classify.CategoryHard,
		Reason: classify.ReasonUserUnknown, Status: "5.1.1", ReplyCode: "550", Action: "failed",
		Diagnostic: "550 5.1.1 \"no\" such\tuser\n\x00\xff\u2028 ok ✓", RemoteMTA: "mx", ReportingMTA: "rmx",
		Kind: dsn.KindDSN, OriginalMessageID: "id@x", Sender: "s@x",
		Date:     time.Date(2026, 11, 28, 10, 0, 0, 0, time.FixedZone("", 3600)),
		Evidence: classify.Evidence{Rule: "status", Match: "5.1.1"},
		Err:      errors.New("dsn: odd <field>"),
	}
	for _, explain := range []bool{false, true} {
		t.Run(fmt.Sprint("explain=", explain), func(t *testing.T) {
			enc, _ := NewEncoder(FormatJSONL, explain)
			out := enc.Encode(nil, []Record{rec})
			require.True(t, bytes.HasSuffix(out, []byte("}\n")), "output %q is not one line", out)
			require.Equal(t, 1, bytes.Count(out, []byte("\n")), "output %q is not one line", out)
			// Field order as documented.
			var keys []string
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				var v string
				dec.Decode(&v)
				keys = append(keys, k.(string))
			}
			wantKeys := want
			if explain {
				wantKeys = append(slices.Clone(want), "evidence")
			}
			assert.Equal(t, wantKeys, keys, "keys")
			var m map[string]string
			require.NoError(t, json.Unmarshal(out, &m))
			wantValues := map[string]string{
				"diagnostic": "550 5.1.1 \"no\" such\tuser\n\x00\uFFFD\u2028 ok ✓",
				"date":       "2026-11-28T10:00:00+01:00",
				"error":      "dsn: odd <field>",
				"kind":       "dsn",
				"category":   "hard",
				"reply_code": "550",
			}
			if explain {
				wantValues["evidence"] = `status "5.1.1"`
			}
			for k, v := range wantValues {
				assert.Equal(t, v, m[k], "%s", k)
			}
			// The same bytes as encoding/json for the escaped string.
			std, _ := json.Marshal(rec.Diagnostic)
			assert.Equal(t, bytes.ReplaceAll(std, []byte(`\u003c`), []byte("<")), appendJSONString(nil, rec.Diagnostic), "appendJSONString")
		})
	}
}

func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "\"\\/", "\x00\x01\x1f\x7f", "é中😀", "\xff\xfe", "a\u2029b", "\xe2\x80", "<&>"} {
		got := appendJSONString(nil, s)
		var back string
		if !assert.NoError(t, json.Unmarshal(got, &back), "appendJSONString(%q) = %s: invalid JSON", s, got) {
			continue
		}
		var want string
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		assert.Equal(t, want, back, "appendJSONString(%q) decodes to %q, encoding/json's to %q", s, back, want)
	}
}

func TestCSV(t *testing.T) {
	recs := []Record{
		{Source: "-#1", Recipient: "=HYPERLINK(\"http://x\")", Diagnostic: "550 a, \"quoted\"\nsecond line",
			Status: "+5.1.1", Action: "-failed", RemoteMTA: "@mx", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
			Evidence: classify.Evidence{Rule: "phrase", Match: "=1+1"}},
		{Source: "dir/a.eml", Sender: "\tx", OriginalMessageID: "\rid", Err: errors.New("-boom")},
	}
	for _, explain := range []bool{false, true} {
		t.Run(fmt.Sprint("explain=", explain), func(t *testing.T) {
			enc, _ := NewEncoder(FormatCSV, explain)
			out := append(enc.Header(), enc.Encode(nil, recs)...)
			rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			require.NoError(t, err, "output is not CSV: %v\n%s", err, out)
			header := append([]string(nil), FieldNames[:]...)
			if explain {
				header = append(header, "evidence")
			}
			assert.Equal(t, header, rows[0], "header")
			require.Len(t, rows, 3, "%d rows", len(rows))
			get := func(row int, field string) string {
				return rows[row][slices.Index(header, field)]
			}
			for _, c := range []struct {
				row         int
				field, want string
			}{
				{1, "source", "-#1"}, // local, not neutralised
				{1, "recipient", "'=HYPERLINK(\"http://x\")"},
				{1, "diagnostic", "550 a, \"quoted\"\nsecond line"},
				{1, "status", "'+5.1.1"},
				{1, "action", "'-failed"},
				{1, "remote_mta", "'@mx"},
				{1, "category", "hard"},
				{2, "sender", "'\tx"},
				{2, "original_message_id", "'\rid"},
				{2, "error", "'-boom"},
				{2, "category", ""},
			} {
				assert.Equal(t, c.want, get(c.row, c.field), "row %d %s", c.row, c.field)
			}
			if explain {
				assert.Equal(t, `phrase "=1+1"`, get(1, "evidence"), "evidence")
			}
		})
	}
}

// TestOrdering checks that the output order is that of the inputs whatever
// the number of workers and the time each message takes.
func TestOrdering(t *testing.T) {
	root := t.TempDir()
	var files, want []string
	for i := range 300 {
		name := fmt.Sprintf("m%03d", i)
		files = append(files, name)
		want = append(want, filepath.Join(root, name))
	}
	write(t, root, files...)
	write(t, root, "z.mbox="+mboxOf(msg("1"), msg("2"), msg("3")))
	want = append(want, filepath.Join(root, "z.mbox#1"), filepath.Join(root, "z.mbox#2"), filepath.Join(root, "z.mbox#3"))
	slow := func(r io.Reader, o *dsn.Options) (*dsn.Report, error) {
		rep, err := echoParse(r, o)
		if strings.Contains(rep.Original.MessageID, "m0") || strings.Contains(rep.Original.MessageID, "Subject: 2") {
			time.Sleep(time.Millisecond) // the early ones finish last
		}
		runtime.Gosched()
		return rep, err
	}
	for _, workers := range []int{1, 2, 8, 32} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			recs, _, _ := runPipeline(t, &parser{parse: slow, workers: workers}, "", root)
			var got []string
			for _, r := range recs {
				got = append(got, r["source"])
			}
			assert.Equal(t, want, got, "order differs with %d workers", workers)
		})
	}
}

func TestRecordsFor(t *testing.T) {
	date := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	readErr := errors.New("read x: input/output error")
	for _, tc := range []struct {
		name string
		rep  *dsn.Report
		err  error
		want []Record
	}{
		{
			name: "no report",
			err:  readErr,
			want: []Record{{Source: "s", Category: classify.CategoryNone, Err: readErr}},
		},
		{
			name: "not a bounce",
			rep:  &dsn.Report{Kind: dsn.KindNotBounce, To: "bounce@example.com", Date: date},
			want: []Record{{Source: "s", Category: classify.CategoryNone, Reason: classify.ReasonNotBounce,
				Kind: dsn.KindNotBounce, Date: date, Evidence: classify.Evidence{Rule: "status"}}},
		},
		{
			name: "two recipients, partial result with error",
			rep: &dsn.Report{Kind: dsn.KindDSN, Vendor: "rfc3464", ReportingMTA: "mx.example.org", To: "bounce+x@example.com",
				Original: dsn.Original{MessageID: "m@x"}, ArrivalDate: date,
				Recipients: []dsn.Recipient{
					{FinalRecipient: "a@example.net", Status: "5.1.1", ReplyCode: "550", Action: "failed", Diagnostic: "no such user", RemoteMTA: "mx.example.net"},
					{OriginalRecipient: "b@example.net", Status: "4.2.2", Action: "delayed", LastAttempt: date.Add(time.Hour)},
				}},
			err: readErr,
			want: []Record{
				{Source: "s", Recipient: "a@example.net", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
					Status: "5.1.1", ReplyCode: "550", Action: "failed", Diagnostic: "no such user", RemoteMTA: "mx.example.net",
					ReportingMTA: "mx.example.org", Kind: dsn.KindDSN, OriginalMessageID: "m@x", Sender: "bounce+x@example.com", Date: date, Err: readErr},
				{Source: "s", Recipient: "b@example.net", Status: "4.2.2", Action: "delayed",
					ReportingMTA: "mx.example.org", Kind: dsn.KindDSN, OriginalMessageID: "m@x", Sender: "bounce+x@example.com", Date: date.Add(time.Hour), Err: readErr},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Records(nil, "s", tc.rep, tc.err, nil)
			require.Len(t, got, len(tc.want), "recordsFor")
			for i := range got {
				// Classification is classify's business: compare only that
				// it was done by classify.Classify.
				if tc.rep != nil && len(tc.rep.Recipients) > 0 {
					r := tc.rep.Recipients[i]
					res := classify.Classify(classify.Input{Kind: tc.rep.Kind, Status: r.Status, ReplyCode: r.ReplyCode,
						Diagnostic: r.Diagnostic, Action: r.Action, RemoteMTA: r.RemoteMTA, Vendor: tc.rep.Vendor})
					tc.want[i].Category, tc.want[i].Reason, tc.want[i].Evidence = res.Category, res.Reason, res.Evidence
				} else if tc.rep != nil {
					tc.want[i].Evidence = got[i].Evidence
				}
				assert.Equal(t, tc.want[i], got[i], "record %d", i)
			}
		})
	}
}
