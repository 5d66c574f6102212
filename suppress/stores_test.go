package suppress

import (
	"path/filepath"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stores are the two backends the shared tests run against: each makes a
// fresh, empty state and returns what Open takes.
var stores = []struct {
	name     string
	newState func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.Shared(t).Database(t) }},
}

// forEachStore runs f once per store, as a subtest named for it.
func forEachStore(t *testing.T, f func(t *testing.T, newState func(*testing.T) string)) {
	t.Helper()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { f(t, s.newState) })
	}
}
