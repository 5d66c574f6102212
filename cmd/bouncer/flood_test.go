package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodRecipients returns n addresses of a forged report.
func floodRecipients(n int) []string {
	rcpts := make([]string, n)
	for i := range rcpts {
		rcpts[i] = fmt.Sprintf("victim%04d@example.net", i)
	}
	return rcpts
}

// TestRunFlood runs bouncer run without proof over a Maildir holding a
// report that names 150 failed recipients (over the default cap of 100)
// and a genuine one naming one: the flood is recorded, suppresses no one,
// goes to the unrecognized folder and is named in the summary and the
// log; the genuine one suppresses as before; the run says once that no
// proof is configured and how to turn it on. --max-suppress-per-message
// raised over the count lets the report suppress.
func TestRunFlood(t *testing.T) {
	msgs := map[string][]byte{
		"flood.eml":   deliveredDSN(1, "bounce@lists.example.org", floodRecipients(150)...),
		"genuine.eml": deliveredDSN(2, "bounce@lists.example.org", "gone@example.com"),
	}
	t.Run("default", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list)
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		l := readList(t, list)
		assert.Contains(t, l, "gone@example.com")
		assert.Len(t, l, 1, "the flood suppressed: %v", l)
		assert.Equal(t, []string{"flood.eml"}, listDir(t, filepath.Join(md, ".bounces-unrecognized", "new")))
		assert.Equal(t, []string{"genuine.eml"}, listDir(t, filepath.Join(md, ".bounces-processed", "new")))
		assert.Contains(t, stdout, "flooded: 1 messages")
		assert.Contains(t, stdout, "flood.eml")
		assert.Contains(t, stderr, "names more failed addresses")
		assert.Equal(t, 1, strings.Count(stderr, "no proof configured"), "stderr:\n%s", stderr)
		assert.Contains(t, stderr, "--verp-key-file")
	})
	t.Run("raised", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list,
			"--max-suppress-per-message", "200")
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		assert.Len(t, readList(t, list), 151)
		assert.NotContains(t, stdout, "flooded")
	})
	t.Run("bad value", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "run", "--maildir", t.TempDir(), "--max-suppress-per-message", "0")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--max-suppress-per-message")
	})
	t.Run("proof configured", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"),
			"--our-domains", "example.org", "--require-proof=false")
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		assert.NotContains(t, stderr, "no proof configured")
		assert.NotContains(t, stdout, "flooded")
		_, err := os.Stat(filepath.Join(md, ".bounces-processed", "new", "flood.eml"))
		assert.NoError(t, err, "with proof, the report is judged recipient by recipient")
	})
}
