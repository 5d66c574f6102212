//go:build !unix

package mailsource

import "os"

// ReadFileHead opens path and reads it into *buf up to max bytes.
// When the file is larger, rest is the open file, positioned after what was
// read, for the caller to read and close.
func ReadFileHead(path string, buf *[]byte, max int) (complete bool, rest *os.File, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, nil, err
	}
	var hint int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		hint = fi.Size()
	}
	complete, err = ReadHead(f, buf, max, hint)
	if complete || err != nil {
		f.Close()
		return complete, nil, err
	}
	return false, f, nil
}
