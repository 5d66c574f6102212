package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportState runs bouncer over a Maildir of the demo samples and returns
// the state it wrote.
func exportState(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	state := filepath.Join(dir, "s.db")
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", state)
	require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
	return state
}

// exportRows runs bouncer export with args and parses its generic CSV
// output: address to category.
func exportRows(t *testing.T, args ...string) map[string]string {
	t.Helper()
	code, stdout, stderr := runBouncer(t, append([]string{"export"}, args...)...)
	require.Equal(t, exitOK, code, "export %q\n%s", args, stderr)
	path := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, os.WriteFile(path, []byte(stdout), 0o600))
	return readList(t, path)
}

func TestExport(t *testing.T) {
	state := exportState(t)

	all := exportRows(t, "--state", state)
	assert.Equal(t, "complaint", all[complaintAddr], "export: %s", complaintAddr)
	assert.Equal(t, "hard", all[userUnknownAddr], "export: %s", userUnknownAddr)
	assert.NotContains(t, all, policyAddr, "export lists %s, which had only a policy block", policyAddr)

	t.Run("category", func(t *testing.T) {
		got := exportRows(t, "--state", state, "--category", "complaint")
		assert.NotEmpty(t, got, "--category complaint: %v", got)
		assert.Equal(t, "complaint", got[complaintAddr], "--category complaint: %v", got)
		for a, c := range got {
			assert.Equal(t, "complaint", c, "--category complaint lists %s (%s)", a, c)
		}
		got = exportRows(t, "--state", state, "--category", "hard,complaint")
		for a, c := range got {
			assert.Contains(t, []string{"hard", "complaint"}, c, "--category hard,complaint lists %s", a)
			assert.Equal(t, c, all[a], "--category hard,complaint: %s is %s, but %q in the whole list", a, c, all[a])
		}
		// Every failure of the demo samples, each with its category, when one
		// soft bounce of any date is enough.
		got = exportRows(t, "--state", state, "--category", "hard,soft,policy,complaint", "--soft-threshold", "1", "--soft-days", "1", "--soft-window", "36500d")
		assert.Equal(t, demoWant, got, "--category hard,soft,policy,complaint")
		// Policy blocks are not suppressed, but asking for them lists them.
		got = exportRows(t, "--state", state, "--category", "policy")
		assert.Equal(t, "policy", got[policyAddr], "--category policy: %v", got)
	})

	t.Run("since", func(t *testing.T) {
		// arf-01.eml is dated 2009, lhost-qmail-16.eml 2024.
		got := exportRows(t, "--state", state, "--since", "2020-01-01")
		assert.NotContains(t, got, complaintAddr, "--since 2020-01-01 keeps %s, whose bounce is from 2009", complaintAddr)
		assert.Contains(t, got, userUnknownAddr, "--since 2020-01-01 drops %s, whose bounce is from 2024", userUnknownAddr)
		assert.Less(t, len(got), len(all), "--since kept %d of %d addresses", len(got), len(all))
		got = exportRows(t, "--state", state, "--since", "2000-01-01T00:00:00Z")
		assert.Len(t, got, len(all), "--since 2000: %d addresses", len(got))
		// A duration counts back from the latest bounce, not from the
		// clock: the history's newest bounce is always within a day of it.
		got = exportRows(t, "--state", state, "--since", "1d")
		assert.NotEmpty(t, got, "--since 1d: %d addresses of %d", len(got), len(all))
		assert.Less(t, len(got), len(all), "--since 1d: %d addresses of %d", len(got), len(all))
	})

	t.Run("format and files", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "plain.txt")
		code, stdout, stderr := runBouncer(t, "export", "--state", state, "--format", "plain", "--out", out)
		require.Equal(t, exitOK, code, "export --out\n%s", stderr)
		require.Equal(t, "", stdout, "export --out\n%s", stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		assert.Len(t, lines, len(all), "plain list has %d lines", len(lines))
		code, _, stderr = runBouncer(t, "export", "--state", state, "--out-dir", filepath.Join(dir, "lists"))
		require.Equal(t, exitOK, code, "export --out-dir\n%s", stderr)
		hard := readList(t, filepath.Join(dir, "lists", "hard.csv"))
		assert.Equal(t, "hard", hard[userUnknownAddr], "hard.csv lacks %s", userUnknownAddr)
		policy := readList(t, filepath.Join(dir, "lists", "policy.csv"))
		assert.Equal(t, "policy", policy[policyAddr], "policy.csv lacks %s", policyAddr)
		// Exports of the same state are the same bytes.
		code, again, _ := runBouncer(t, "export", "--state", state)
		code2, again2, _ := runBouncer(t, "export", "--state", state)
		assert.Equal(t, exitOK, code, "two exports differ")
		assert.Equal(t, exitOK, code2, "two exports differ")
		assert.Equal(t, again2, again, "two exports differ")
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--state", state, "--category", "spam"}, exitUsage, "unknown --category"},
			{[]string{"--state", state, "--since", "last week"}, exitUsage, "bad --since"},
			{[]string{"--state", state, "--format", "xls"}, exitUsage, "unknown --format"},
			{[]string{"--state", filepath.Join(t.TempDir(), "missing.db")}, exitError, "no state"},
		} {
			code, _, stderr := runBouncer(t, append([]string{"export"}, tc.args...)...)
			assert.Equal(t, tc.code, code, "export %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			assert.Contains(t, stderr, tc.want, "export %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	})
}
