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
	b := (*buf)[:0]
	if cap(b) < want {
		b = make([]byte, 0, want)
	}
	for {
		if hint > 0 && int64(len(b)) == hint {
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
