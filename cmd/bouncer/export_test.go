package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// exportState runs bouncer over a Maildir of the demo samples and returns
// the state it wrote.
func exportState(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	state := filepath.Join(dir, "s.db")
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", state)
	if code != exitOK {
		t.Fatalf("run = %d\n%s%s", code, stdout, stderr)
	}
	return state
}

// exportRows runs bouncer export with args and parses its generic CSV
// output: address to category.
func exportRows(t *testing.T, args ...string) map[string]string {
	t.Helper()
	code, stdout, stderr := runBouncer(t, append([]string{"export"}, args...)...)
	if code != exitOK {
		t.Fatalf("export %q = %d\n%s", args, code, stderr)
	}
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := os.WriteFile(path, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return readList(t, path)
}

func TestExport(t *testing.T) {
	state := exportState(t)

	all := exportRows(t, "--state", state)
	if all[complaintAddr] != "complaint" || all[userUnknownAddr] != "hard" {
		t.Errorf("export: %s = %q, %s = %q; want complaint and hard", complaintAddr, all[complaintAddr], userUnknownAddr, all[userUnknownAddr])
	}
	if _, ok := all[policyAddr]; ok {
		t.Errorf("export lists %s, which had only a policy block", policyAddr)
	}

	t.Run("category", func(t *testing.T) {
		got := exportRows(t, "--state", state, "--category", "complaint")
		if len(got) == 0 || got[complaintAddr] != "complaint" {
			t.Errorf("--category complaint: %v", got)
		}
		for a, c := range got {
			if c != "complaint" {
				t.Errorf("--category complaint lists %s (%s)", a, c)
			}
		}
		got = exportRows(t, "--state", state, "--category", "hard,complaint")
		for a, c := range got {
			if c != "hard" && c != "complaint" {
				t.Errorf("--category hard,complaint lists %s (%s)", a, c)
			}
			if all[a] != c {
				t.Errorf("--category hard,complaint: %s is %s, but %q in the whole list", a, c, all[a])
			}
		}
		// Every failure of the demo samples, each with its category, when one
		// soft bounce of any date is enough.
		got = exportRows(t, "--state", state, "--category", "hard,soft,policy,complaint", "--soft-threshold", "1", "--soft-days", "1", "--soft-window", "36500d")
		if !reflect.DeepEqual(got, demoWant) {
			t.Errorf("--category hard,soft,policy,complaint = %v, want %v", got, demoWant)
		}
		// Policy blocks are not suppressed, but asking for them lists them.
		got = exportRows(t, "--state", state, "--category", "policy")
		if got[policyAddr] != "policy" {
			t.Errorf("--category policy: %v, want %s", got, policyAddr)
		}
	})

	t.Run("since", func(t *testing.T) {
		// arf-01.eml is dated 2009, lhost-qmail-16.eml 2024.
		got := exportRows(t, "--state", state, "--since", "2020-01-01")
		if _, ok := got[complaintAddr]; ok {
			t.Errorf("--since 2020-01-01 keeps %s, whose bounce is from 2009", complaintAddr)
		}
		if _, ok := got[userUnknownAddr]; !ok {
			t.Errorf("--since 2020-01-01 drops %s, whose bounce is from 2024", userUnknownAddr)
		}
		if len(got) >= len(all) {
			t.Errorf("--since kept %d of %d addresses", len(got), len(all))
		}
		if got := exportRows(t, "--state", state, "--since", "2000-01-01T00:00:00Z"); len(got) != len(all) {
			t.Errorf("--since 2000: %d addresses, want all %d", len(got), len(all))
		}
		// A duration counts back from the latest bounce, not from the
		// clock: the history's newest bounce is always within a day of it.
		if got := exportRows(t, "--state", state, "--since", "1d"); len(got) == 0 || len(got) >= len(all) {
			t.Errorf("--since 1d: %d addresses of %d, want the latest ones only", len(got), len(all))
		}
	})

	t.Run("format and files", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "plain.txt")
		code, stdout, stderr := runBouncer(t, "export", "--state", state, "--format", "plain", "--out", out)
		if code != exitOK || stdout != "" {
			t.Fatalf("export --out = %d, stdout %q\n%s", code, stdout, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != len(all) {
			t.Errorf("plain list has %d lines, want %d:\n%s", len(lines), len(all), b)
		}
		code, _, stderr = runBouncer(t, "export", "--state", state, "--out-dir", filepath.Join(dir, "lists"))
		if code != exitOK {
			t.Fatalf("export --out-dir = %d\n%s", code, stderr)
		}
		hard := readList(t, filepath.Join(dir, "lists", "hard.csv"))
		if hard[userUnknownAddr] != "hard" {
			t.Errorf("hard.csv lacks %s", userUnknownAddr)
		}
		policy := readList(t, filepath.Join(dir, "lists", "policy.csv"))
		if policy[policyAddr] != "policy" {
			t.Errorf("policy.csv lacks %s", policyAddr)
		}
		// Exports of the same state are the same bytes.
		code, again, _ := runBouncer(t, "export", "--state", state)
		code2, again2, _ := runBouncer(t, "export", "--state", state)
		if code != exitOK || code2 != exitOK || again != again2 {
			t.Errorf("two exports differ")
		}
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
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("export %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		}
	})
}
