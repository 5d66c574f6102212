//go:build unix

package mailsource

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ReadFileHead opens path and reads it into *buf up to max bytes.
// When the file is larger, rest is the open file, positioned after what was
// read, for the caller to read and close.
//
// It uses the system calls directly: os.Open registers every file with the
// runtime poller (two more system calls each for open and close), which is
// a third of the cost of reading a folder of small messages.
func ReadFileHead(path string, buf *[]byte, max int) (complete bool, rest *os.File, err error) {
	var fd int
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return false, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// Not a regular file (a pipe, a device): read it as os does.
		f := os.NewFile(uintptr(fd), path)
		complete, err := ReadHead(f, buf, max, 0)
		if complete || err != nil {
			f.Close()
			return complete, nil, err
		}
		return false, f, nil
	}
	complete, err = ReadHead(fdReader{fd: fd, path: path}, buf, max, st.Size)
	if complete || err != nil {
		syscall.Close(fd)
		return complete, nil, err
	}
	return false, os.NewFile(uintptr(fd), path), nil
}

// fdReader reads a file descriptor.
type fdReader struct {
	fd   int
	path string
}

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(r.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: r.path, Err: err}
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
