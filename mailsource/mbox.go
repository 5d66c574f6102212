package mailsource

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// mboxBufSize is the size of the line buffer of an Mbox. Lines longer than
// it are passed through in pieces; only their first bytes are looked at.
const mboxBufSize = 16 << 10

var (
	fromLine = []byte("From ")
	crlf     = []byte("\r\n")
)

// IsMbox reports whether head, the first bytes of a file, starts like an
// mbox file: with a "From " separator line (RFC 4155). A message cannot
// start so, as a header field name is followed by a colon.
func IsMbox(head []byte) bool {
	return bytes.HasPrefix(head, fromLine)
}

// Mbox reads the messages of an mbox file (RFC 4155) one after the other,
// streaming: no message is held in memory, however large.
//
// A message starts after a line that begins with "From " and that is the
// first line of the file or follows an empty line and carries a time of day
// (the date of the separator line; see isSeparator). The empty line before a
// separator, and the one at the end of the file, belong to the mbox framing
// and are not part of the message. Lines that start with ">From ", ">>From "
// and so on lose one ">" (mboxrd quoting; mboxo files only quote "From ", so
// this also reads them, at the price of the rare body line that really
// started with ">From ").
//
// Divergences: Content-Length headers (mboxcl) are ignored. A file whose
// first line ends with a bare CR is read as if every CR were LF, so its
// messages are given with LF line ends.
type Mbox struct {
	br  *bufio.Reader
	cur *mboxMessage
	n   int
	err error // sticky read error

	// atSeparator is set once the "From " line of the next message has
	// been read (partialSep: only its first piece).
	atSeparator bool
	partialSep  bool
	started     bool
}

// NewMbox returns an Mbox reading from r, which starts with the first
// separator line.
func NewMbox(r io.Reader) *Mbox {
	br := bufio.NewReaderSize(r, mboxBufSize)
	if bareCR(br) {
		// QUIRK: a file with bare-CR line ends (the Mac OS 9 convention;
		// the "bare CR line ends" case of TestMbox in mailsource_test.go)
		// would be one line. Read it with LF line ends.
		br = bufio.NewReaderSize(crToLF{br}, mboxBufSize)
	}
	return &Mbox{br: br}
}

// bareCR reports whether the first line of br ends with a bare CR. It reads
// no further than needed to tell, so that a stream is not held up.
func bareCR(br *bufio.Reader) bool {
	for n := 1; ; {
		_, err := br.Peek(n)
		head, _ := br.Peek(br.Buffered()) // all that has been read
		i := bytes.IndexAny(head, "\r\n")
		if i >= 0 && i+1 < len(head) || err != nil || len(head) >= mboxBufSize {
			return i >= 0 && head[i] == '\r' && (i+1 == len(head) || head[i+1] != '\n')
		}
		n = len(head) + 1
	}
}

// crToLF turns every CR into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// Next skips what is left of the current message and returns a reader for
// the next one. It returns io.EOF when there are no more messages, and a
// read error of the underlying reader as is. The previous reader must not be
// used after Next.
func (m *Mbox) Next() (io.Reader, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.started {
		m.started = true
		line, err := m.br.ReadSlice('\n')
		if len(line) == 0 && err != nil {
			return nil, m.fail(err)
		}
		if !bytes.HasPrefix(line, fromLine) {
			return nil, m.fail(errors.New("mailsource: mbox does not start with a \"From \" line"))
		}
		m.atSeparator = true
		m.partialSep = errors.Is(err, bufio.ErrBufferFull)
	}
	if m.cur != nil {
		if err := m.cur.skip(); err != nil {
			return nil, m.fail(err)
		}
		m.cur = nil
	}
	if !m.atSeparator {
		return nil, m.fail(io.EOF)
	}
	if m.partialSep {
		// Skip the rest of an overlong separator line.
		for {
			_, err := m.br.ReadSlice('\n')
			if err == nil {
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				if err == io.EOF {
					break
				}
				return nil, m.fail(err)
			}
		}
	}
	m.atSeparator, m.partialSep = false, false
	m.n++
	m.cur = &mboxMessage{m: m, lineStart: true}
	return m.cur, nil
}

// Count returns the 1-based number of the message last returned by Next.
func (m *Mbox) Count() int { return m.n }

func (m *Mbox) fail(err error) error {
	if m.err == nil {
		m.err = err
	}
	return m.err
}

// mboxMessage reads one message of an Mbox.
type mboxMessage struct {
	m         *Mbox
	pending   []byte // bytes read but not yet returned; may alias the bufio buffer
	lineStart bool   // the next bytes read start a line
	held      []byte // an empty line held back: mbox framing if a separator follows
	after     []byte // line to return after held; may alias the bufio buffer
	done      bool
	err       error
}

func (r *mboxMessage) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) > 0 {
			c := copy(p[n:], r.pending)
			r.pending = r.pending[c:]
			n += c
			continue
		}
		if len(r.after) > 0 {
			r.pending, r.after = r.after, nil
			continue
		}
		if r.done {
			break
		}
		r.fill()
		if n > 0 && len(r.pending) == 0 {
			// Do not block reading more once something can be returned.
			break
		}
	}
	if n == 0 && len(r.pending) == 0 && len(r.after) == 0 && r.done {
		return 0, r.err
	}
	return n, nil
}

// skip reads and discards the rest of the message.
func (r *mboxMessage) skip() error {
	for !r.done {
		r.pending, r.after = nil, nil
		r.fill()
	}
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// fill reads the next piece of the message into pending (and after), or
// sets done and err.
func (r *mboxMessage) fill() {
	m := r.m
	line, err := m.br.ReadSlice('\n')
	switch {
	case err == nil || errors.Is(err, bufio.ErrBufferFull):
	case err == io.EOF:
		r.done, r.err = true, io.EOF
	default:
		r.done, r.err = true, m.fail(err)
		r.pending, r.after, r.held = nil, nil, nil
		return
	}
	full := err == nil
	if !r.lineStart {
		// The continuation of an overlong line.
		r.pending = line
		r.lineStart = full
		return
	}
	r.lineStart = full
	switch {
	case len(line) == 0:
		// End of file: an empty line held back is the final framing.
		r.held = nil
	case full && isEmptyLine(line):
		r.flushHeld()
		r.held = crlf[2-len(line):]
	case r.held != nil && isSeparator(line):
		// A separator: the message ends before the held empty line.
		r.held = nil
		r.done, r.err = true, io.EOF
		m.atSeparator = true
		m.partialSep = errors.Is(err, bufio.ErrBufferFull)
	default:
		if isQuotedFrom(line) {
			line = line[1:]
		}
		r.flushHeld()
		if len(r.pending) > 0 {
			r.after = line
		} else {
			r.pending = line
		}
	}
}

// flushHeld moves a held empty line into pending.
func (r *mboxMessage) flushHeld() {
	if r.held == nil {
		return
	}
	if len(r.pending) > 0 {
		r.after = r.pending
	}
	r.pending, r.held = r.held, nil
}

// isSeparator reports whether line, which follows an empty line, starts a
// new message: "From ", the envelope sender, and a date in the format of
// ctime(3) ("From MAILER-DAEMON Sat Nov 28 10:00:00 2026"). Only "From "
// and a time of day ("10:00") are checked, so that a body line of a message
// that an mboxo writer did not quote ("From the start, …") is rarely taken
// for a separator.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, fromLine) {
		return false
	}
	for i := len(fromLine); i+3 < len(line); i++ {
		if line[i] == ':' && isDigit(line[i-1]) && isDigit(line[i+1]) && isDigit(line[i+2]) {
			return true
		}
	}
	return false
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isEmptyLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// isQuotedFrom reports whether line matches ">+From ".
func isQuotedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], fromLine)
}
