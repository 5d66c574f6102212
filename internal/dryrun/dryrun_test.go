package dryrun

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "bouncer.db")
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(t, err)
	require.NoError(t, db.SaveState(ctx, "imaps://u@h/INBOX", 7, 42))

	t.Run("locked", func(t *testing.T) {
		require.NoError(t, db.Lock())
		defer db.Unlock()
		_, err := CopyState(path, t.TempDir())
		assert.ErrorIs(t, err, ErrLocked)
	})
	// Open, with a write-ahead log: the copy holds what was committed.
	copyPath, err := CopyState(path, t.TempDir())
	require.NoError(t, err)
	require.NoError(t, db.Close())
	c, err := suppress.Open(ctx, copyPath, nil)
	require.NoError(t, err)
	defer c.Close()
	v, last, err := c.LoadState(ctx, "imaps://u@h/INBOX")
	require.NoError(t, err)
	assert.Equal(t, [2]uint32{7, 42}, [2]uint32{v, last})

	t.Run("missing", func(t *testing.T) {
		tmp := t.TempDir()
		p, err := CopyState(filepath.Join(dir, "none", "x.db"), tmp)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(tmp, "x.db"), p)
		assert.NoDirExists(t, filepath.Join(dir, "none"))
		_, err = os.Stat(p)
		assert.True(t, os.IsNotExist(err))
	})
}
