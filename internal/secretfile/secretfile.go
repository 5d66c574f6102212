// Package secretfile is the one check of a file that holds a secret (an
// IMAP password, VERP keys, push credentials, OAuth credentials, a
// console token): a file other users can read is refused (or, for the
// IMAP password file, warned about), always with the same words.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// ErrReadable is wrapped by the error of a secret file that users other
// than its owner may read.
var ErrReadable = errors.New("readable by others")

// othersRead are the permission bits that let others than the owner read.
const othersRead fs.FileMode = 0o044

// ModeError is a secret file that others may read.
type ModeError struct {
	Path string
	Mode fs.FileMode // its permission bits
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("%s is readable by others (mode %04o); chmod 600 it", e.Path, e.Mode)
}

func (e *ModeError) Unwrap() error { return ErrReadable }

// Check returns a *ModeError when the open file f (named name) can be read
// by its group or by others. Where file modes mean nothing (Windows) it
// returns nil, as it does when f cannot be stat'ed (reading it will say
// why).
func Check(f *os.File, name string) error {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	return checkMode(fi.Mode(), name)
}

// CheckPath is Check for a file not open yet; a missing file is nil (the
// reader will say so).
func CheckPath(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return nil
	}
	return checkMode(fi.Mode(), name)
}

func checkMode(m fs.FileMode, name string) error {
	if runtime.GOOS == "windows" || !m.IsRegular() {
		return nil
	}
	if p := m.Perm(); p&othersRead != 0 {
		return &ModeError{Path: name, Mode: p}
	}
	return nil
}
