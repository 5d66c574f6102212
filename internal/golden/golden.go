// Package golden compares test results with golden files, and rewrites the
// files when a test runs with -update.
package golden

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Check compares got with the file at path; with update it writes got to
// path instead. hint says how to create or rewrite the file. A difference
// is reported as a line diff of the two.
func Check(tb testing.TB, path string, got []byte, update bool, hint string) {
	tb.Helper()
	if update {
		require.NoError(tb, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, hint)
	assert.Equal(tb, string(want), string(got), "result differs from %s (%s)", path, hint)
}
