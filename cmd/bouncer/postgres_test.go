package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/suppress"
)

// TestRunPostgres runs bouncer over the demo samples with the state in
// PostgreSQL and in SQLite: the lists written by run and by export are
// the same bytes, and a second run reads nothing new.
func TestRunPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.Database(t)
	msgs := demoFiles(t)
	out := make(map[string][]byte)
	for _, state := range []string{filepath.Join(t.TempDir(), "s.db"), url} {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		// Undated mail is dated by its file: the same time for both runs.
		names, err := filepath.Glob(filepath.Join(md, "new", "*"))
		require.NoError(t, err)
		for _, n := range names {
			require.NoError(t, os.Chtimes(n, fileTime, fileTime))
		}
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", state, "--out", list)
		require.Equal(t, exitOK, code, "run --state %s\n%s%s", state, stdout, stderr)
		b, err := os.ReadFile(list)
		require.NoError(t, err)
		out["run "+kind(state)] = b
		for _, f := range suppress.Formats() {
			code, stdout, stderr := runBouncer(t, "export", "--state", state, "--format", string(f))
			require.Equal(t, exitOK, code, "export --state %s --format %s\n%s", state, f, stderr)
			out["export "+string(f)+" "+kind(state)] = []byte(stdout)
		}
		code, stdout, stderr = runBouncer(t, "run", "--maildir", md, "--state", state, "--out", list)
		require.Equal(t, exitOK, code, "second run\n%s%s", stdout, stderr)
		assert.Contains(t, stdout, "messages: 0 read")
	}
	assert.NotEmpty(t, out["run sqlite"])
	for k, v := range out {
		if other, ok := strings.CutSuffix(k, " sqlite"); ok {
			assert.Equal(t, string(v), string(out[other+" postgres"]), "%s", other)
		}
	}
}

// fileTime is the modification time of the samples' files.
var fileTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func kind(state string) string {
	if suppress.IsURL(state) {
		return "postgres"
	}
	return "sqlite"
}

// TestExportPostgresRedacts: an unreachable database is an error that does
// not show the password.
func TestExportPostgresRedacts(t *testing.T) {
	code, _, stderr := runBouncer(t, "export", "--state", "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "127.0.0.1")
	assert.NotContains(t, stderr, "s3cret")
}
