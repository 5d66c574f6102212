package secretfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheck refuses a secret file that the group or others can read, with
// the words of the password file's warning, and accepts one only its
// owner can read.
func TestCheck(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		bad  bool
	}{
		{0o600, false},
		{0o400, false},
		{0o700, false},
		{0o640, true},
		{0o604, true},
		{0o644, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "secret")
			require.NoError(t, os.WriteFile(p, []byte("s"), 0o600))
			require.NoError(t, os.Chmod(p, tt.mode))
			f, err := os.Open(p)
			require.NoError(t, err)
			defer f.Close()
			for _, err := range []error{Check(f, p), CheckPath(p)} {
				if !tt.bad {
					assert.NoError(t, err)
					continue
				}
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrReadable))
				assert.Equal(t, p+" is readable by others (mode "+octal(tt.mode)+"); chmod 600 it", err.Error())
			}
		})
	}
	assert.NoError(t, CheckPath(filepath.Join(t.TempDir(), "missing")), "a missing file is the reader's to report")
}

func octal(m fs.FileMode) string {
	return "0" + string('0'+byte(m>>6&7)) + string('0'+byte(m>>3&7)) + string('0'+byte(m&7))
}
