package imapfetch

import (
	"bytes"
	"fmt"
	"math"
)

// Limit names one of the caps on what the server sends.
type Limit string

// The caps on what the server sends (see Options).
const (
	// LimitGreeting: the greeting, the first response of the connection
	// (Options.MaxGreetingBytes).
	LimitGreeting Limit = "greeting"
	// LimitLine: one response, its literals included, message bodies
	// left out (Options.MaxLineBytes).
	LimitLine Limit = "response"
	// LimitLiteral: one literal other than a fetched message body
	// (Options.MaxLiteralBytes).
	LimitLiteral Limit = "literal"
	// LimitBody: a fetched message body larger than the
	// Options.MaxMessageBytes asked for.
	LimitBody Limit = "message body"
)

// LimitError is the cause of a KindTooLarge error: the server sent more
// than a cap allows, and the connection was closed.
type LimitError struct {
	Limit Limit
	// Max is the cap, in bytes.
	Max int64
	// Size is the size the server announced for a literal; -1 when the cap
	// was passed while reading (a line that does not end).
	Size int64
}

func (e *LimitError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("server's %s longer than %d bytes", e.Limit, e.Max)
	}
	return fmt.Sprintf("server announced a %s of %d bytes, over the cap of %d", e.Limit, e.Size, e.Max)
}

// Sizes the scanner keeps of what it reads.
const (
	// scanHeadLen is the number of bytes kept of a response's start:
	// room for "* 4294967295 FETCH (" and a status response's tag and word.
	scanHeadLen = 32
	// scanTailLen is the number of bytes kept of a segment's end: room for
	// "BODY[section]<origin> {size}" before a literal.
	scanTailLen = 512
)

// wireLimits are the caps the scanner enforces; body < 0: no cap.
type wireLimits struct {
	greeting, line, literal, body int64
}

// scanner accounts for the bytes a server sends (RFC 3501 section 4.3 and
// 9, RFC 9051 section 4.3): where each response ends, and which bytes are
// literals. It enforces wireLimits whatever the chunks the bytes arrive in.
// Its zero value is not usable: see newScanner.
type scanner struct {
	lim      wireLimits
	greeted  bool   // the greeting has ended
	size     int64  // bytes of the current response, fetched bodies left out
	literal  int64  // bytes left of the literal being read
	body     bool   // the literal being read is a fetched body
	segments int    // segments of the current response that ended
	head     []byte // the start of the current response
	tail     []byte // the end of the current segment
	err      *LimitError
}

func newScanner(lim wireLimits, greeted bool) *scanner {
	return &scanner{lim: lim, greeted: greeted, head: make([]byte, 0, scanHeadLen), tail: make([]byte, 0, 2*scanTailLen)}
}

// feed accounts for p, the next bytes from the server. It returns how many
// of them are within the caps, and a *LimitError once a cap is passed
// (then again on every call).
func (s *scanner) feed(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	done := 0
	for done < len(p) {
		if s.literal > 0 {
			n := min(int64(len(p)-done), s.literal)
			if !s.body {
				if k, err := s.grow(n); err != nil {
					return done + int(k), err
				}
			}
			s.literal -= n
			done += int(n)
			continue
		}
		run := p[done:]
		end := bytes.IndexByte(run, '\n')
		if end >= 0 {
			run = run[:end+1]
		}
		if k, err := s.grow(int64(len(run))); err != nil {
			return done + int(k), err
		}
		s.keep(run)
		done += len(run)
		if end >= 0 {
			if err := s.endSegment(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// limit returns the cap of the current response.
func (s *scanner) limit() (Limit, int64) {
	if !s.greeted {
		return LimitGreeting, s.lim.greeting
	}
	return LimitLine, s.lim.line
}

// grow counts n more bytes of the current response. Past the cap it
// returns how many fit and the error.
func (s *scanner) grow(n int64) (int64, error) {
	name, max := s.limit()
	if n > max-s.size {
		k := max - s.size
		s.size = max
		s.err = &LimitError{Limit: name, Max: max, Size: -1}
		return k, s.err
	}
	s.size += n
	return n, nil
}

// keep records run, bytes of a segment, in head (the first segment's
// start) and tail (the segment's end).
func (s *scanner) keep(run []byte) {
	if s.segments == 0 && len(s.head) < scanHeadLen {
		s.head = append(s.head, run[:min(len(run), scanHeadLen-len(s.head))]...)
	}
	if len(run) >= scanTailLen {
		s.tail = append(s.tail[:0], run[len(run)-scanTailLen:]...)
		return
	}
	if len(s.tail)+len(run) > cap(s.tail) {
		keep := scanTailLen - len(run)
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-keep:]...)
	}
	s.tail = append(s.tail, run...)
}

// endSegment handles the end of a line: either a literal follows (the
// line ends with "{N}"), or the response ends.
func (s *scanner) endSegment() error {
	seg := s.tail[max(0, len(s.tail)-scanTailLen):] // the same, however the bytes came
	s.tail = s.tail[:0]
	size, ok := literalAnnounced(seg)
	if !ok || statusResponse(s.head) {
		s.endResponse()
		return nil
	}
	s.segments++
	s.body = fetchResponse(s.head) && bodySection(seg)
	switch name, max := s.limit(); {
	case s.body:
		if s.lim.body >= 0 && size > s.lim.body {
			s.err = &LimitError{Limit: LimitBody, Max: s.lim.body, Size: size}
		}
	case size > s.lim.literal:
		s.err = &LimitError{Limit: LimitLiteral, Max: s.lim.literal, Size: size}
	case size > max-s.size:
		s.err = &LimitError{Limit: name, Max: max, Size: size}
	}
	if s.err != nil {
		return s.err
	}
	s.literal = size
	return nil
}

func (s *scanner) endResponse() {
	s.greeted = true
	s.size, s.segments, s.body = 0, 0, false
	s.head = s.head[:0]
}

// literalAnnounced reports whether seg, a line with its line end, ends
// with a literal's announcement: "{N}", "{N+}" (RFC 7888) or "~{N}"
// (RFC 3516), and returns N, saturated at math.MaxInt64.
func literalAnnounced(seg []byte) (int64, bool) {
	seg = bytes.TrimSuffix(bytes.TrimSuffix(seg, []byte("\n")), []byte("\r"))
	seg, ok := bytes.CutSuffix(seg, []byte("}"))
	if !ok {
		return 0, false
	}
	seg = bytes.TrimSuffix(seg, []byte("+"))
	open := bytes.LastIndexByte(seg, '{')
	digits := seg[open+1:]
	if open < 0 || len(digits) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-9)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// bodySection reports whether seg announces the literal of a body section:
// "BODY[section]<origin> {N}" (RFC 3501 section 7.4.2), the item a
// BODY.PEEK[]<0.N> fetch gets back.
func bodySection(seg []byte) bool {
	open := bytes.LastIndexByte(seg, '{')
	if open < 2 || seg[open-1] != ' ' {
		return false
	}
	item := seg[:open-1]
	if rest, ok := bytes.CutSuffix(item, []byte(">")); ok {
		lt := bytes.LastIndexByte(rest, '<')
		if lt < 0 || !allDigits(rest[lt+1:]) {
			return false
		}
		item = rest[:lt]
	}
	item, ok := bytes.CutSuffix(item, []byte("]"))
	if !ok {
		return false
	}
	lb := bytes.LastIndexByte(item, '[')
	if lb < 0 || bytes.IndexByte(item[lb:], ']') >= 0 {
		return false
	}
	name := item[:lb]
	if len(name) < 4 || !bytes.EqualFold(name[len(name)-4:], []byte("BODY")) {
		return false
	}
	name = name[:len(name)-4]
	return len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '(')
}

// fetchResponse reports whether head starts "* N FETCH (" (RFC 3501
// section 7.4.2).
func fetchResponse(head []byte) bool {
	rest, ok := bytes.CutPrefix(head, []byte("* "))
	if !ok {
		return false
	}
	num, rest, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(num) == 0 || !allDigits(num) {
		return false
	}
	return len(rest) >= len("FETCH (") && bytes.EqualFold(rest[:len("FETCH (")], []byte("FETCH ("))
}

// statusResponse reports whether head starts a status response or a
// continuation request (RFC 3501 sections 7.1 and 7.5), which never
// carry a literal: a "{N}" at their end is text.
func statusResponse(head []byte) bool {
	if bytes.HasPrefix(head, []byte("+")) {
		return true
	}
	fields := bytes.FieldsFunc(head, func(r rune) bool { return r == ' ' || r == '\r' || r == '\n' })
	if len(fields) < 2 || (len(fields) == 2 && len(head) == scanHeadLen) {
		return false // the word may be cut
	}
	word := string(bytes.ToUpper(fields[1]))
	switch word {
	case "OK", "NO", "BAD":
		return true
	case "BYE", "PREAUTH":
		return string(fields[0]) == "*"
	}
	return false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
