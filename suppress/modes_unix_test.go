//go:build unix

package suppress

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStateMode checks that a new state, its -wal and -shm files and its
// lock file are readable by their owner alone, whatever the umask: they
// hold the subscribers' addresses.
func TestStateMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "s.db")
	db := openTest(t, path)
	require.NoError(t, db.Lock())
	_, err := db.Record(context.Background(), &Message{Hash: Hash([]byte("m")), Date: time.Now(),
		Events: []Event{{Address: "a@example.net", Category: classify.CategoryHard}}})
	require.NoError(t, err)
	for _, f := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "mode of %s", filepath.Base(f))
	}
}

// TestListMode checks that a new list gets the mode the umask says (as a
// shell's > would), and a list that exists keeps its own.
func TestListMode(t *testing.T) {
	for _, tt := range []struct {
		umask int
		want  fs.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		old := syscall.Umask(tt.umask)
		path := filepath.Join(t.TempDir(), "list.csv")
		err := WriteFile(path, FormatGeneric, nil)
		syscall.Umask(old)
		require.NoError(t, err)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, tt.want, fi.Mode().Perm(), "umask %04o", tt.umask)
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(path, nil, 0o640))
	require.NoError(t, os.Chmod(path, 0o640))
	require.NoError(t, WriteFile(path, FormatGeneric, nil))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm(), "an existing list keeps its mode")
}

// TestLockFollowsSymlink checks that a state opened through a symlink and
// through its real path is one state: the second Lock fails.
func TestLockFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	link := filepath.Join(dir, "link.db")
	a := openTest(t, real)
	require.NoError(t, os.Symlink(real, link))
	b := openTest(t, link)
	require.NoError(t, a.Lock())
	err := b.Lock()
	assert.True(t, errors.Is(err, ErrLocked), "Lock through a symlink = %v, want ErrLocked", err)
}
