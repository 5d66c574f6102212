//go:build !unix

package dryrun

// sharedLock does nothing where flock(2) is missing.
func sharedLock(string) (func(), error) { return func() {}, nil }
