package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/testmail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeJSONL is testmail.DecodeJSONL.
func decodeJSONL(t *testing.T, out string) []map[string]string { return testmail.DecodeJSONL(t, out) }

// write and mboxOf are the testmail helpers.
func write(t *testing.T, root string, files ...string) { testmail.Write(t, root, files...) }
func mboxOf(msgs ...string) string                     { return testmail.Mbox(msgs...) }

// TestParseCommand runs bouncer parse end to end, in process, with the real
// parser.
func TestParseCommand(t *testing.T) {
	root := t.TempDir()
	dsnSample, err := os.ReadFile("testdata/parse/dsn-user-unknown.eml")
	require.NoError(t, err)
	plain, err := os.ReadFile("testdata/parse/not-a-bounce.eml")
	require.NoError(t, err)
	write(t, root, "box.mbox="+mboxOf(string(plain), string(dsnSample)))

	t.Run("jsonl", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"parse", "testdata/parse", filepath.Join(root, "box.mbox"), "-"}, bytes.NewReader(dsnSample), &stdout, &stderr)
		require.Equal(t, exitOK, code, "stderr %q", stderr.String())
		require.Zero(t, stderr.Len(), "stderr %q", stderr.String())
		recs := decodeJSONL(t, stdout.String())
		var got []string
		for _, r := range recs {
			got = append(got, strings.TrimPrefix(r["source"], root+"/")+" "+r["kind"]+" "+r["recipient"]+" "+r["category"])
		}
		want := []string{
			"testdata/parse/dsn-user-unknown.eml dsn nobody@example.net hard",
			"testdata/parse/not-a-bounce.eml notbounce  none",
			"box.mbox#1 notbounce  none",
			"box.mbox#2 dsn nobody@example.net hard",
			"- dsn nobody@example.net hard",
		}
		assert.Equal(t, want, got, "records")
		r := recs[0]
		for k, v := range map[string]string{
			"status": "5.1.1", "action": "failed", "remote_mta": "mx.example.net", "reporting_mta": "mx.example.org",
			"original_message_id": "news-42@lists.example.com", "sender": "news@lists.example.com",
			"date": "2026-11-28T10:00:00Z", "error": "",
		} {
			assert.Equal(t, v, r[k], "%s", k)
		}
	})
	t.Run("rules", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"parse", "--rules", "testdata/site.rules", "--explain", "testdata/parse/dsn-user-unknown.eml"}, nil, &stdout, &stderr)
		require.Equal(t, exitOK, code, "exit status %d, stderr %q", code, stderr.String())
		recs := decodeJSONL(t, stdout.String())
		require.Len(t, recs, 1, "records")
		assert.Equal(t, "suspend", recs[0]["reason"], "records")
		assert.True(t, strings.HasPrefix(recs[0]["evidence"], "user"), "records")
	})
	t.Run("csv explain", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"parse", "-format", "csv", "--explain", "testdata/parse"}, nil, &stdout, &stderr)
		require.Equal(t, exitOK, code, "exit status %d, stderr %q", code, stderr.String())
		rows, err := csv.NewReader(&stdout).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 3, "rows")
		assert.Equal(t, "evidence", rows[0][len(rows[0])-1], "rows")
		assert.Equal(t, "nobody@example.net", rows[1][1], "rows")
	})
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		code        int
		out, errOut string // substrings
	}{
		{args: nil, code: exitUsage, errOut: "usage: bouncer"},
		{args: []string{"help"}, code: exitOK, out: "parse"},
		{args: []string{"help", "parse"}, code: exitOK, out: "--format"},
		{args: []string{"help", "nope"}, code: exitUsage, errOut: "unknown command"},
		{args: []string{"nope"}, code: exitUsage, errOut: "unknown command \"nope\""},
		{args: []string{"parse"}, code: exitUsage, errOut: "no PATH"},
		{args: []string{"parse", "-h"}, code: exitOK, out: "usage: bouncer parse"},
		{args: []string{"parse", "--format", "xml", "x"}, code: exitUsage, errOut: "unknown --format"},
		{args: []string{"parse", "--workers", "0", "x"}, code: exitUsage, errOut: "--workers"},
		{args: []string{"parse", "--bogus", "x"}, code: exitUsage, errOut: "bogus"},
		{args: []string{"parse", "-", "-"}, code: exitUsage, errOut: "only once"},
		{args: []string{"parse", "-", "--format", "csv"}, code: exitOK, out: "source,recipient,"},
		{args: []string{"parse", "--", "--format"}, code: exitError, out: `"source":"--format"`, errOut: "cannot read --format"},
		{args: []string{"parse", "--rules", "testdata/parse/nope.rules", "-"}, code: exitUsage, errOut: "rules"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, tc.code, code, "run(%q)", tc.args)
			assert.Contains(t, stdout.String(), tc.out, "run(%q): stdout", tc.args)
			assert.Contains(t, stderr.String(), tc.errOut, "run(%q): stderr", tc.args)
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	root := t.TempDir()
	for i := range 2000 {
		write(t, root, fmt.Sprintf("m%04d", i))
	}
	var stderr bytes.Buffer
	code := run([]string{"parse", root}, nil, failWriter{}, &stderr)
	assert.Equal(t, exitError, code, "stderr %q", stderr.String())
	assert.Contains(t, stderr.String(), "disk full", "stderr %q", stderr.String())
}

// TestParseExplainText prints a block per recipient with --format text (a
// terminal's default with --explain), and JSON Lines to anything else.
func TestParseExplainText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"parse", "--explain", "--format", "text", "testdata/parse/dsn-user-unknown.eml"}, nil, &stdout, &stderr)
	require.Equal(t, exitOK, code, "stderr %q", stderr.String())
	out := stdout.String()
	for _, want := range []string{
		"testdata/parse/dsn-user-unknown.eml\n  nobody@example.net\n",
		"    verdict     hard (userunknown)\n",
		"    read from   a delivery status field (RFC 3464)\n",
		"    evidence    ",
	} {
		assert.Contains(t, out, want)
	}

	stdout.Reset()
	code = run([]string{"parse", "--explain", "testdata/parse/dsn-user-unknown.eml"}, nil, &stdout, &stderr)
	require.Equal(t, exitOK, code, "stderr %q", stderr.String())
	recs := decodeJSONL(t, stdout.String())
	require.Len(t, recs, 1, "JSON Lines when the output is not a terminal")
	assert.NotEmpty(t, recs[0]["evidence"])

	code = run([]string{"parse", "--format", "yaml", "testdata/parse/dsn-user-unknown.eml"}, nil, &stdout, &stderr)
	assert.Equal(t, exitUsage, code)
}
