package imapfetch

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// maxProbeLine caps each line read on imap:// before go-imap takes over
// (the greeting, the probe's CAPABILITY response, the answer to
// STARTTLS), whatever Options.MaxGreetingBytes: a longer line fails the
// connection with a *LimitError.
const maxProbeLine = 8 << 10

// maxProbeLines caps the lines read while waiting for the answer to the
// probe's CAPABILITY command.
const maxProbeLines = 64

// probeTag is the tag of the probe's CAPABILITY command; go-imap's own tags
// ("T1", "T2"…) never collide with it.
const probeTag = "bouncer-probe"

// startTLSTag is the tag of the STARTTLS command; go-imap's own tags
// ("T1", "T2"…) never collide with it.
const startTLSTag = "bouncer-tls"

// tlsGreeting is the greeting go-imap reads once STARTTLS is done: it
// carries no capabilities, so go-imap asks for them anew, as RFC 3501
// section 6.2.1 requires after STARTTLS.
const tlsGreeting = "* OK TLS established\r\n"

// startTLS reads the greeting from c and runs STARTTLS (RFC 3501 section
// 6.2.1), then the TLS handshake over raw, the socket under c. It is done
// here rather than by go-imap so that the connection guard sees the
// plaintext after TLS too (go-imap would put TLS on top of the guard). A
// server that sends anything after its OK and before the handshake is
// refused: those bytes would come from before TLS (a command injection).
func (s *session) startTLS(c, raw net.Conn, o *Options, cfg *tls.Config) (net.Conn, error) {
	br := bufio.NewReaderSize(c, maxProbeLine)
	greeting, err := readProbeLine(br, LimitGreeting)
	if err != nil {
		return nil, err
	}
	line := string(greeting)
	switch {
	case strings.HasPrefix(line, "* OK"):
	case strings.HasPrefix(line, "* PREAUTH"):
		return nil, s.tlsRefused(errors.New("server greets with PREAUTH: STARTTLS is not possible"))
	case strings.HasPrefix(line, "* BYE"):
		return nil, fmt.Errorf("server refuses the connection: %.200q", line)
	default:
		return nil, fmt.Errorf("not an IMAP greeting: %.80q", line)
	}
	if _, err := io.WriteString(c, startTLSTag+" STARTTLS\r\n"); err != nil {
		return nil, err
	}
	if err := s.startTLSAnswer(br); err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		return nil, s.tlsRefused(errors.New("server sent data after its STARTTLS answer, before TLS (refused: it could be injected)"))
	}
	tc := tls.Client(raw, cfg)
	raw.SetDeadline(time.Now().Add(o.IOTimeout))
	err = tc.Handshake()
	raw.SetDeadline(time.Time{})
	if err != nil {
		return nil, err
	}
	return tc, nil
}

// startTLSAnswer reads the lines up to the answer to STARTTLS: nil for OK,
// an ErrTLSRequired error wrapping the server's *imap.Error for NO or BAD.
func (s *session) startTLSAnswer(br *bufio.Reader) error {
	for i := 0; i < maxProbeLines; i++ {
		b, err := readProbeLine(br, LimitLine)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(string(b), startTLSTag+" ")
		if !ok {
			continue // untagged data
		}
		status, text, _ := strings.Cut(strings.TrimRight(rest, "\r\n"), " ")
		switch typ := imap.StatusResponseType(strings.ToUpper(status)); typ {
		case imap.StatusResponseTypeOK:
			return nil
		case imap.StatusResponseTypeNo, imap.StatusResponseTypeBad:
			return s.tlsRefused(&imap.Error{Type: typ, Text: text})
		}
		return fmt.Errorf("bad answer to STARTTLS: %.80q", b)
	}
	return errors.New("no answer to STARTTLS")
}

func (s *session) tlsRefused(err error) error {
	return &Error{Kind: KindTLSRequired, Addr: s.addr, Op: "STARTTLS", Err: err}
}

// replayConn is a net.Conn whose reads return the bytes the probe read,
// then the rest of the connection.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// probeSTARTTLS reads the greeting of a plaintext IMAP connection and
// reports whether the server offers STARTTLS (RFC 3501 section 6.2.1), from
// the greeting's CAPABILITY response code (section 7.1) or, without one,
// from the answer to a CAPABILITY command. The returned connection replays
// the greeting, so that go-imap reads it as if nothing happened. The
// caller's watchdog bounds the time (the server may never answer).
func probeSTARTTLS(conn net.Conn) (net.Conn, bool, error) {
	br := bufio.NewReaderSize(conn, maxProbeLine)
	greeting, err := readProbeLine(br, LimitGreeting)
	if err != nil {
		return conn, false, err
	}
	replay := &replayConn{Conn: conn, r: io.MultiReader(bytes.NewReader(greeting), br)}
	line := string(greeting)
	switch {
	case strings.HasPrefix(line, "* OK"):
	case strings.HasPrefix(line, "* PREAUTH"), strings.HasPrefix(line, "* BYE"):
		// PREAUTH: already authenticated, STARTTLS is no longer allowed;
		// BYE: go-imap reports the refusal.
		return replay, false, nil
	default:
		return conn, false, fmt.Errorf("not an IMAP greeting: %.80q", line)
	}
	if caps, ok := greetingCaps(line); ok {
		return replay, hasCap(caps, "STARTTLS"), nil
	}
	if _, err := io.WriteString(conn, probeTag+" CAPABILITY\r\n"); err != nil {
		return conn, false, err
	}
	var caps []string
	for i := 0; ; i++ {
		if i == maxProbeLines {
			return conn, false, errors.New("no answer to CAPABILITY")
		}
		b, err := readProbeLine(br, LimitLine)
		if err != nil {
			return conn, false, err
		}
		l := string(b)
		if rest, ok := cutPrefixFold(l, "* CAPABILITY "); ok {
			caps = append(caps, strings.Fields(rest)...)
		}
		if strings.HasPrefix(l, probeTag+" ") {
			// Replay only the greeting: what came after it was ours.
			return &replayConn{Conn: conn, r: io.MultiReader(bytes.NewReader(greeting), br)}, hasCap(caps, "STARTTLS"), nil
		}
	}
}

// readProbeLine reads one CRLF-terminated line, at most maxProbeLine
// bytes; a longer one is a *LimitError for limit.
func readProbeLine(br *bufio.Reader, limit Limit) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &LimitError{Limit: limit, Max: maxProbeLine, Size: -1}
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// greetingCaps returns the capabilities of a "* OK [CAPABILITY …]"
// greeting.
func greetingCaps(line string) ([]string, bool) {
	rest, ok := cutPrefixFold(strings.TrimSpace(strings.TrimPrefix(line, "* OK")), "[CAPABILITY ")
	if !ok {
		return nil, false
	}
	list, _, ok := strings.Cut(rest, "]")
	if !ok {
		return nil, false
	}
	return strings.Fields(list), true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}
