package mailsource

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kept")
	write := func(s string) *Copy {
		c, err := NewCopy(dir)
		require.NoError(t, err)
		_, err = c.Write([]byte(s))
		require.NoError(t, err)
		return c
	}
	tmpFiles := func() []os.DirEntry {
		e, err := os.ReadDir(filepath.Join(dir, "tmp"))
		require.NoError(t, err)
		return e
	}

	c := write("Subject: one\r\n\r\nbody\r\n")
	require.Len(t, tmpFiles(), 1, "written into tmp while it is read")
	first, err := c.Keep()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "new"), filepath.Dir(first))
	b, err := os.ReadFile(first)
	require.NoError(t, err)
	assert.Equal(t, "Subject: one\r\n\r\nbody\r\n", string(b))
	assert.Empty(t, tmpFiles())
	_, err = c.Keep()
	assert.Error(t, err, "kept once")
	c.Discard() // after Keep: nothing to do
	_, err = os.Stat(first)
	assert.NoError(t, err, "Discard after Keep leaves the kept copy")

	again, err := write("Subject: one\r\n\r\nbody\r\n").Keep()
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same bytes are one copy")

	read := filepath.Join(dir, "cur", filepath.Base(first)+":2,S")
	require.NoError(t, os.Rename(first, read))
	again, err = write("Subject: one\r\n\r\nbody\r\n").Keep()
	require.NoError(t, err)
	assert.Equal(t, read, again, "a copy a reader moved to cur is found there")

	other, err := write("Subject: two\r\n\r\n").Keep()
	require.NoError(t, err)
	assert.NotEqual(t, first, other)

	d := write("Subject: three\r\n\r\n")
	d.Discard()
	assert.Empty(t, tmpFiles(), "a discarded copy leaves nothing")
	news, err := os.ReadDir(filepath.Join(dir, "new"))
	require.NoError(t, err)
	assert.Len(t, news, 1, "only the second message is in new")
}
