//go:build unix

package dryrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// sharedLock takes a shared flock(2) on the lock file path, if it exists
// (it is never created), and returns what releases it.
func sharedLock(path string) (func(), error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dryrun: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock file %s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("dryrun: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
