package dsn

import (
	"bufio"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// transferDecoder undoes a Content-Transfer-Encoding (RFC 2045 section 6)
// leniently: quoted-printable with raw control bytes or stray "=" signs, and
// base64 with junk between its characters, still decode.
//
// QUIRK: Japanese notices put raw ISO-2022-JP escapes in quoted-printable
// bodies, which mime/quotedprintable refuses
// (testdata/synthetic-ja-qp-raw-iso2022jp.eml).
func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return &qpReader{br: bufio.NewReaderSize(r, 1024)}
	case "base64":
		return &base64Reader{br: bufio.NewReaderSize(r, 1024)}
	}
	return r
}

type qpReader struct {
	br *bufio.Reader
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (q *qpReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := q.br.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c != '=' {
			p[n] = c
			n++
			continue
		}
		b, _ := q.br.Peek(2)
		switch {
		case len(b) >= 1 && b[0] == '\n':
			q.br.Discard(1) // soft line break
		case len(b) == 2 && b[0] == '\r' && b[1] == '\n':
			q.br.Discard(2)
		case len(b) == 2:
			hi, ok1 := unhex(b[0])
			lo, ok2 := unhex(b[1])
			if ok1 && ok2 {
				q.br.Discard(2)
				p[n] = hi<<4 | lo
			} else {
				p[n] = '='
			}
			n++
		default:
			p[n] = '='
			n++
		}
	}
	return n, nil
}

// base64Reader decodes base64 leniently and the same way however its input
// arrives: characters outside the alphabet are skipped, and "=" ends the
// current quantum, whose whole bytes are kept, so that concatenated encoded
// chunks and stray padding still decode. It never fails on content, only
// on an error of the underlying reader.
type base64Reader struct {
	br   *bufio.Reader
	acc  uint32 // sextets of the current quantum
	nbit uint   // bits in acc
	out  [3]byte
	nout int // decoded bytes in out not yet returned
	off  int
}

func (b *base64Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if b.off < b.nout {
			c := copy(p[n:], b.out[b.off:b.nout])
			n += c
			b.off += c
			continue
		}
		c, err := b.br.ReadByte()
		if err != nil {
			b.flush()
			if b.nout > 0 {
				continue
			}
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		v, ok := sextet(c)
		switch {
		case ok:
			b.acc = b.acc<<6 | uint32(v)
			b.nbit += 6
			if b.nbit == 24 {
				b.flush()
			}
		case c == '=':
			b.flush()
		}
	}
	return n, nil
}

// flush moves the whole bytes of the current quantum to out.
func (b *base64Reader) flush() {
	k := int(b.nbit / 8)
	acc := b.acc >> (b.nbit % 8)
	for i := k - 1; i >= 0; i-- {
		b.out[i] = byte(acc)
		acc >>= 8
	}
	b.nout, b.off = k, 0
	b.acc, b.nbit = 0, 0
}

func sextet(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

// isUTF7 reports whether a charset name is UTF-7 (RFC 2152), which
// Exchange uses and golang.org/x/text does not decode.
func isUTF7(cs string) bool {
	switch strings.ToLower(cs) {
	case "utf-7", "utf7", "unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "csunicode11utf7":
		return true
	}
	return false
}

// decodeUTF7 decodes RFC 2152 UTF-7.
func decodeUTF7(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '+' {
			out = append(out, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '-' {
			out = append(out, '+')
			i++
			continue
		}
		j := i + 1
		for j < len(b) && isB64(b[j]) {
			j++
		}
		raw := b[i+1 : j]
		if len(raw)%4 == 1 {
			raw = raw[:len(raw)-1] // a lone sextet carries no whole byte
		}
		dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(raw)))
		n, _ := base64.RawStdEncoding.Decode(dec, raw)
		dec = dec[:n-n%2]
		u := make([]uint16, len(dec)/2)
		for k := range u {
			u[k] = uint16(dec[2*k])<<8 | uint16(dec[2*k+1])
		}
		for _, r := range utf16.Decode(u) {
			out = utf8.AppendRune(out, r)
		}
		if j < len(b) && b[j] == '-' {
			j++
		}
		i = j - 1
	}
	return out
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}
