package mailsource

import "io"

// ReadHead reads r into *buf until the end or max bytes. complete
// tells whether the end was reached. hint is the size of a regular file, if
// known: once that much is read the end is taken as reached, which saves a
// read call per file (a file that grows meanwhile is read as it was).
func ReadHead(r io.Reader, buf *[]byte, max int, hint int64) (complete bool, err error) {
	want := max
	if hint > 0 && hint < int64(max) {
		want = int(hint)
	}
	return readUpTo(r, buf, max, want, hint)
}

// ReadSized reads r into *buf until its end or max bytes; complete tells
// whether the end was reached. size, if known, sizes the buffer, but only
// the end of r ends the read: unlike ReadHead's hint, a size a server
// declares is no promise.
func ReadSized(r io.Reader, buf *[]byte, max int, size int64) (complete bool, err error) {
	want := 0
	if size > 0 && size <= int64(max) {
		want = int(size) + 1
	}
	return readUpTo(r, buf, max, want, 0)
}

// readUpTo reads r into *buf, grown to a capacity of want first, until the
// end or max bytes. end, if positive, is taken as the end once that much is
// read.
func readUpTo(r io.Reader, buf *[]byte, max, want int, end int64) (complete bool, err error) {
	b := (*buf)[:0]
	if cap(b) < want {
		b = make([]byte, 0, want)
	}
	for {
		if end > 0 && int64(len(b)) == end {
			*buf = b
			return true, nil
		}
		if len(b) >= max {
			*buf = b
			return false, nil
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := r.Read(b[len(b):min(cap(b), max)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return true, nil
		}
		if err != nil {
			*buf = b
			return false, err
		}
	}
}
