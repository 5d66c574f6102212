package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runBouncer(t, arg)
			assert.Equal(t, exitOK, code)
			assert.Regexp(t, `^bouncer \S+.*, go1\.\d+`, stdout)
			assert.Equal(t, 1, strings.Count(stdout, "\n"), "one line")
			assert.Empty(t, stderr)
		})
	}
}

func TestUnknownFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--foo"}, "bouncer run: unknown flag --foo; see bouncer run -h\n"},
		{[]string{"run", "-foo=1"}, "bouncer run: unknown flag --foo; see bouncer run -h\n"},
		{[]string{"export", "--state"}, "bouncer export: --state needs a value; see bouncer export -h\n"},
		{[]string{"parse", "x", "--workers", "many"}, "bouncer parse: bad value \"many\" for --workers: parse error; see bouncer parse -h\n"},
		{[]string{"verp", "--batv=maybe"}, "bouncer verp: bad value \"maybe\" for --batv: parse error; see bouncer verp -h\n"},
		{[]string{"demo", "--nope"}, "bouncer demo: unknown flag --nope; see bouncer demo -h\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBouncer(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Equal(t, tc.want, stderr, "one line and a hint, not the usage")
			assert.Empty(t, stdout)
		})
	}
}

func TestHelpOnStdout(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, dashH, stderr := runBouncer(t, c.name, "-h")
			require.Equal(t, exitOK, code)
			assert.Empty(t, stderr)
			code, helpCmd, stderr := runBouncer(t, "help", c.name)
			require.Equal(t, exitOK, code)
			assert.Empty(t, stderr)
			assert.Equal(t, dashH, helpCmd, "%s -h and help %s differ", c.name, c.name)
			assert.Contains(t, dashH, "usage: bouncer "+c.name)
			if c.name == "ingest" {
				// An MTA's pipe reads 0 and 75 (EX_TEMPFAIL) only.
				assert.Contains(t, strings.ReplaceAll(dashH, "\n", " "), "Exit status: 0 recorded, 75 (EX_TEMPFAIL)")
				return
			}
			assert.Regexp(t, `Exit status: 0 [^\n]*, 1 [^\n]*`, strings.ReplaceAll(dashH, "\n", " "), "exit codes in the help")
			assert.Contains(t, strings.ReplaceAll(dashH, "\n", " "), "2 bad command line")
		})
	}
	code, stdout, _ := runBouncer(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "Exit status: 0 done, 1 failed")
}

func TestEnvNamedInErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("format", func(t *testing.T) {
		t.Setenv("BOUNCER_FORMAT", "xls")
		code, _, stderr := runBouncer(t, "run", "--maildir", dir)
		assert.Equal(t, exitUsage, code)
		assert.True(t, strings.HasPrefix(stderr, `bouncer run: BOUNCER_FORMAT=xls: unknown --format "xls"`), stderr)
	})
	t.Run("flag wins", func(t *testing.T) {
		t.Setenv("BOUNCER_FORMAT", "plain")
		code, _, stderr := runBouncer(t, "run", "--maildir", dir, "--format", "xls")
		assert.Equal(t, exitUsage, code)
		assert.True(t, strings.HasPrefix(stderr, `bouncer run: unknown --format "xls"`), stderr)
	})
	t.Run("state", func(t *testing.T) {
		bad := filepath.Join(writeFile(t, filepath.Join(dir, "file"), "x"), "bouncer.db")
		t.Setenv("BOUNCER_STATE", bad)
		code, _, stderr := runBouncer(t, "run", "--maildir", dir)
		assert.Equal(t, exitError, code)
		assert.True(t, strings.HasPrefix(stderr, "bouncer: BOUNCER_STATE="+bad+": "), stderr)
	})
	t.Run("export state", func(t *testing.T) {
		t.Setenv("BOUNCER_STATE", filepath.Join(dir, "missing.db"))
		code, _, stderr := runBouncer(t, "export")
		assert.Equal(t, exitError, code)
		assert.True(t, strings.HasPrefix(stderr, "bouncer export: BOUNCER_STATE="), stderr)
	})
	t.Run("history command state", func(t *testing.T) {
		t.Setenv("BOUNCER_STATE", filepath.Join(dir, "missing.db"))
		code, _, stderr := runBouncer(t, "why", "jane@example.com")
		assert.Equal(t, exitError, code)
		assert.True(t, strings.HasPrefix(stderr, "bouncer why: BOUNCER_STATE="), stderr)
	})
}
