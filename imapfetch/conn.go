package imapfetch

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// guardConn is the connection as go-imap sees it. It puts a deadline on
// every read and write (Options.IOTimeout): while the session waits for
// the server (a command is in flight, a message body is being read), no
// byte for that long fails the read. Reads while nothing is expected (in
// IDLE, between commands) wait as long as they must. A write always has the
// deadline. It also accounts for what the server sends (scanner) and ends
// the connection past a cap. go-imap's own deadlines (SetReadDeadline…)
// still apply: the earlier of the two wins.
type guardConn struct {
	net.Conn
	timeout time.Duration

	mu        sync.Mutex
	waiting   bool      // the session expects bytes from the server
	readDL    time.Time // deadlines go-imap asked for
	writeDL   time.Time
	ourRead   bool // the read deadline in force is ours
	scan      *scanner
	stalled   atomic.Bool // a read or write hit our deadline
	limitErr  atomic.Pointer[LimitError]
	closeOnce sync.Once
}

// newGuardConn wraps conn. With scan nil, only the deadlines apply.
func newGuardConn(conn net.Conn, timeout time.Duration, scan *scanner) *guardConn {
	return &guardConn{Conn: conn, timeout: timeout, scan: scan}
}

// expect says whether the session now waits for the server: the read
// deadline applies at once, to a read already blocked too.
func (g *guardConn) expect(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting = on
	g.applyRead()
}

// applyRead sets the read deadline in force; g.mu is held.
func (g *guardConn) applyRead() {
	dl, ours := g.readDL, false
	if g.waiting {
		if t := time.Now().Add(g.timeout); dl.IsZero() || t.Before(dl) {
			dl, ours = t, true
		}
	}
	g.ourRead = ours
	g.Conn.SetReadDeadline(dl)
}

// Read reads from the server, within the deadline and the caps. Past a cap
// it returns the bytes within it and a *LimitError, and closes the
// connection.
func (g *guardConn) Read(p []byte) (int, error) {
	if e := g.limitErr.Load(); e != nil {
		return 0, e
	}
	g.mu.Lock()
	g.applyRead()
	g.mu.Unlock()
	n, err := g.Conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		g.mu.Lock()
		ours := g.ourRead
		g.mu.Unlock()
		if ours {
			g.stalled.Store(true)
		}
	}
	if g.scan == nil || n == 0 {
		return n, err
	}
	k, lerr := g.scan.feed(p[:n])
	if lerr != nil {
		var e *LimitError
		errors.As(lerr, &e)
		g.limitErr.Store(e)
		g.closeOnce.Do(func() { g.Conn.Close() })
		return k, lerr
	}
	return n, err
}

// Write writes to the server within the deadline.
func (g *guardConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	dl := time.Now().Add(g.timeout)
	ours := true
	if !g.writeDL.IsZero() && g.writeDL.Before(dl) {
		dl, ours = g.writeDL, false
	}
	g.Conn.SetWriteDeadline(dl)
	g.mu.Unlock()
	n, err := g.Conn.Write(p)
	if err != nil && ours && errors.Is(err, os.ErrDeadlineExceeded) {
		g.stalled.Store(true)
	}
	return n, err
}

// SetReadDeadline records go-imap's read deadline, combined with ours.
func (g *guardConn) SetReadDeadline(t time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readDL = t
	g.applyRead()
	return nil
}

// SetWriteDeadline records go-imap's write deadline, combined with ours at
// the next write.
func (g *guardConn) SetWriteDeadline(t time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeDL = t
	return nil
}

// SetDeadline sets both.
func (g *guardConn) SetDeadline(t time.Time) error {
	g.SetReadDeadline(t)
	return g.SetWriteDeadline(t)
}

// fault returns why the connection failed, when the guard failed it: a
// cap passed (a *LimitError), or a deadline hit (stalled).
func (g *guardConn) fault() (limit *LimitError, stalled bool) {
	return g.limitErr.Load(), g.stalled.Load()
}
