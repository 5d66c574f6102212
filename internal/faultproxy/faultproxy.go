// Package faultproxy is a loopback TCP proxy for tests that puts a network
// fault between a client and a real server: a server (or a middlebox) that
// goes silent in the middle of what it sends, the connection left open.
package faultproxy

import (
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
			stall := p.conns.Add(1) == 1
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
				if !stall {
					io.Copy(client, server)
					return
				}
				if n, _ := io.CopyN(client, server, after); n == after {
					p.stalled.Store(true)
				}
				<-clientGone // silent, but open
			}()
		}
	}()
	return p
}

// Stalled reports whether the first connection reached its stall.
func (p *Proxy) Stalled() bool { return p.stalled.Load() }

// Conns returns the number of connections accepted.
func (p *Proxy) Conns() int { return int(p.conns.Load()) }
