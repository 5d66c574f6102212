package dsn

import (
	"bytes"
	"io"
)

// lineEndReader turns CRLF and bare CR line endings into LF, so that the rest
// of the parser sees one form whatever the sender used
// (QUIRK: testdata/line-endings-cr.eml, old Mac and broken gateways).
type lineEndReader struct {
	r      io.Reader
	pendCR bool // the last byte of the previous read was CR (already written as LF)
}

func newLineEndReader(r io.Reader) *lineEndReader {
	return &lineEndReader{r: r}
}

func (l *lineEndReader) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		if n == 0 {
			if err != nil || len(p) == 0 {
				return 0, err
			}
			continue
		}
		if !l.pendCR && bytes.IndexByte(p[:n], '\r') < 0 {
			return n, err
		}
		w := 0
		for i := 0; i < n; i++ {
			c := p[i]
			if l.pendCR {
				l.pendCR = false
				if c == '\n' {
					// CRLF: the LF was already written for the CR.
					continue
				}
			}
			if c == '\r' {
				l.pendCR = true
				c = '\n'
			}
			p[w] = c
			w++
		}
		if w > 0 || err != nil {
			return w, err
		}
	}
}
