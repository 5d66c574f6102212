package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnvEveryFlag gives, for every flag of every command that refuses
// some values (numbers, durations, switches), a bad value in its BOUNCER_
// variable: each command stops with exit 2 (ingest 75, as an MTA's pipe wants) and names the variable (a
// systemd Environment= line never does nothing silently).
func TestEnvEveryFlag(t *testing.T) {
	s := &streams{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	n := 0
	for _, c := range commands {
		c.flags(s).VisitAll(func(f *flag.Flag) {
			probe := c.flags(s)
			probe.SetOutput(io.Discard)
			if probe.Set(f.Name, "not-a-value") == nil {
				return // takes any text: see TestEnvStringFlags
			}
			n++
			variable := cli.EnvName(f.Name)
			t.Run(c.name+" "+variable, func(t *testing.T) {
				t.Setenv(variable, "not-a-value")
				code, stdout, stderr := runBouncer(t, c.name)
				want := exitUsage
				if c.name == "ingest" {
					want = runjob.ExitTempFail // an MTA keeps the message and tries again
				}
				assert.Equal(t, want, code, "%s%s", stdout, stderr)
				assert.Contains(t, stderr, variable+"=not-a-value")
			})
		})
	}
	assert.Greater(t, n, 20, "typed flags probed")
}

// TestEnvStringFlags checks that text flags outside the old list take
// their variable too: BOUNCER_CATEGORY for export, BOUNCER_FORMAT for
// parse, BOUNCER_MAX_SUPPRESS_PER_MESSAGE for run.
func TestEnvStringFlags(t *testing.T) {
	t.Run("export category", func(t *testing.T) {
		t.Setenv("BOUNCER_CATEGORY", "bogus")
		code, _, stderr := runBouncer(t, "export", "--state", filepath.Join(t.TempDir(), "s.db"))
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "BOUNCER_CATEGORY=bogus")
	})
	t.Run("parse format", func(t *testing.T) {
		t.Setenv("BOUNCER_FORMAT", "xml")
		code, _, stderr := runBouncer(t, "parse", "-")
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "BOUNCER_FORMAT=xml")
	})
	t.Run("run cap", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": deliveredDSN(1, "bounce@lists.example.org", floodRecipients(5)...)})
		t.Setenv("BOUNCER_MAX_SUPPRESS_PER_MESSAGE", "3")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"))
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Contains(t, stdout, "flooded: 1 messages")
		_, err := os.Stat(filepath.Join(md, ".bounces-unrecognized", "new", "1"))
		assert.NoError(t, err)
	})
}
