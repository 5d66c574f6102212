//go:build !unix

package suppress

// fileLock is a no-op where flock(2) does not exist: Lock always succeeds,
// and two runs on one state are not kept apart (the SQLite transactions still
// keep the state consistent).
type fileLock struct{}

func acquireLock(path string) (*fileLock, error) { return &fileLock{}, nil }

func (l *fileLock) release() error { return nil }
