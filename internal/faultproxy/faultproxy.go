// Package faultproxy is a loopback TCP proxy for tests that puts a network
// fault between a client and a real server: a server (or a middlebox) that
// goes silent in the middle of what it sends, the connection left open
// (Stall), or a connection dropped in the middle (Cut).
package faultproxy

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards the connections made to Addr to the target.
type Proxy struct {
	// Addr is the proxy's host:port, on 127.0.0.1.
	Addr    string
	stalled atomic.Bool
	conns   atomic.Int32
}

// Stall starts a proxy to target. On its first connection, once the server
// has sent after bytes (counted on the wire, TLS included), it forwards
// nothing more from the server and holds both sides open until the client
// hangs up. Later connections are forwarded whole. The proxy stops at the
// end of the test.
func Stall(tb testing.TB, target string, after int64) *Proxy {
	tb.Helper()
	return start(tb, target, func(p *Proxy, client, server net.Conn, clientGone <-chan struct{}) {
		if n, _ := io.CopyN(client, server, after); n == after {
			p.stalled.Store(true)
		}
		<-clientGone // silent, but open
	})
}

// Cut starts a proxy to target. On its first connection it closes both
// sides right after the server sent marker: a connection dropped in the
// middle of what the server sends. Later connections are forwarded whole.
// The proxy stops at the end of the test.
func Cut(tb testing.TB, target string, marker []byte) *Proxy {
	tb.Helper()
	return start(tb, target, func(_ *Proxy, client, server net.Conn, _ <-chan struct{}) {
		copyUntil(client, server, marker)
	})
}

// start starts a proxy to target that forwards the client's bytes to the
// server, and the server's through first on the first connection (which
// returns to close both sides; clientGone is closed when the client hangs
// up), whole on the others.
func start(tb testing.TB, target string, first func(p *Proxy, client, server net.Conn, clientGone <-chan struct{})) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			isFirst := p.conns.Add(1) == 1
			wg.Add(2)
			clientGone := make(chan struct{})
			go func() {
				defer wg.Done()
				io.Copy(server, client)
				server.Close() // the client hung up: so does the server
				close(clientGone)
			}()
			go func() {
				defer wg.Done()
				defer client.Close()
				defer server.Close()
				if !isFirst {
					io.Copy(client, server)
					return
				}
				first(p, client, server, clientGone)
			}()
		}
	}()
	return p
}

// copyUntil copies src to dst up to and including the first marker.
func copyUntil(dst io.Writer, src io.Reader, marker []byte) {
	var seen []byte // tail of what was sent, to find a marker across reads
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		chunk := buf[:n]
		window := append(seen, chunk...)
		if i := bytes.Index(window, marker); i >= 0 {
			end := i + len(marker) - len(seen)
			dst.Write(chunk[:end])
			return
		}
		if _, werr := dst.Write(chunk); werr != nil || err != nil {
			return
		}
		if len(window) > len(marker) {
			window = window[len(window)-len(marker):]
		}
		seen = append(seen[:0], window...)
	}
}

// Stalled reports whether the first connection reached its stall.
func (p *Proxy) Stalled() bool { return p.stalled.Load() }

// Conns returns the number of connections accepted.
func (p *Proxy) Conns() int { return int(p.conns.Load()) }
