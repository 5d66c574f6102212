//go:build unix

package suppress

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is an flock(2) lock on an open file.
type fileLock struct{ f *os.File }

func acquireLock(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, StateMode)
	if err != nil {
		return nil, fmt.Errorf("suppress: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock file %s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("suppress: lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) release() error {
	// Closing the file drops the flock. The lock file stays: removing it
	// would race with a process that has just opened it.
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("suppress: unlock: %w", err)
	}
	return nil
}
