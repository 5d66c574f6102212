// Package golden compares test results with golden files, and rewrites the
// files when a test runs with -update.
package golden

import (
	"bytes"
	"os"
	"testing"
)

// Check compares got with the file at path; with update it writes got to
// path instead. hint says how to create or rewrite the file.
func Check(tb testing.TB, path string, got []byte, update bool, hint string) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (%s)", err, hint)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("result differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
