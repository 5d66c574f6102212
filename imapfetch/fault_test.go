package imapfetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cutProxy forwards to target. On its first connection it closes both
// sides right after the server sent marker: a connection dropped in the
// middle of a message.
type cutProxy struct {
	addr  string
	conns atomic.Int32
}

func startCutProxy(t *testing.T, target string, marker []byte) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
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
			cut := p.conns.Add(1) == 1
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(server, client)
				server.Close()
			}()
			go func() {
				defer wg.Done()
				defer client.Close()
				defer server.Close()
				if !cut {
					io.Copy(client, server)
					return
				}
				copyUntil(client, server, marker)
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

func TestConnectionDroppedMidMessage(t *testing.T) {
	tests := []struct {
		name     string
		caps     map[string]struct{}
		readBody bool // whether the handler reads the whole body
	}{
		{name: "handler reads all", readBody: true},
		{name: "handler reads headers only", readBody: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev2)
			const n = 6
			for i := 0; i < n; i++ {
				m := testMessage(i, 3000)
				if i == 3 {
					m = bytes.Replace(m, []byte("xxxxxxxxxx"), []byte("CUT-HERE!!"), 1)
				}
				srv.append(t, "INBOX", m)
			}
			proxy := startCutProxy(t, srv.addr, []byte("CUT-HERE!!"))
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			opts.UnrecognizedMailbox = "done"
			f := dialTest(t, strings.Replace(srv.url("INBOX"), srv.addr, proxy.addr, 1), opts)

			rec := newRecorder()
			partial := 0
			h := rec.handle
			if !tc.readBody {
				h = func(ctx context.Context, m *Message) (Outcome, error) {
					head := make([]byte, 40)
					if _, err := io.ReadFull(m.Body, head); err != nil {
						return 0, err
					}
					// Commit by Message-ID (first header line here).
					id := string(head[bytes.IndexByte(head, '<') : bytes.IndexByte(head, '>')+1])
					rec.mu.Lock()
					rec.committed[id]++
					rec.mu.Unlock()
					partial++
					return OutcomeProcessed, nil
				}
			}
			st, err := f.Fetch(context.Background(), &MemState{}, h)
			if err != nil {
				t.Fatalf("Fetch() = %v", err)
			}
			if proxy.conns.Load() != 2 || st.Reconnects != 1 {
				t.Errorf("connections = %d, Reconnects = %d; want 2 and 1", proxy.conns.Load(), st.Reconnects)
			}
			if tc.readBody {
				rec.checkOnce(t, n)
			} else {
				// Message 3 was committed on its headers before the cut, then
				// again after the reconnection: harmless, and it is moved once.
				if rec.committed["<m3@test>"] != 2 || len(rec.committed) != n {
					t.Errorf("commits = %v, want every message, m3 twice", rec.committed)
				}
			}
			if got := srv.count(t, "INBOX"); got != 0 {
				t.Errorf("INBOX holds %d, want 0", got)
			}
			if got := srv.count(t, "done"); got != n {
				t.Errorf("done holds %d, want %d (each moved once)", got, n)
			}
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	srv := startMem(t, capsRev2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name       string
		url        string
		plaintext  bool
		retries    int
		wantErr    error
		wantSuffix string
	}{
		{name: "unreachable, no retry", url: "imap://bounce@" + deadAddr + "/INBOX", plaintext: true, retries: -1, wantErr: ErrConnection},
		{name: "unreachable, two retries", url: "imap://bounce@" + deadAddr + "/INBOX", plaintext: true, retries: 2, wantErr: ErrConnection, wantSuffix: "(gave up after 3 attempts)"},
		{name: "STARTTLS required", url: srv.url("INBOX"), wantErr: ErrTLSRequired},
		{name: "missing mailbox", url: srv.url("Nope"), plaintext: true, wantErr: ErrMailbox},
		{name: "TLS to a plaintext server", url: "imaps://bounce@" + srv.addr + "/INBOX", wantErr: ErrConnection, retries: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, testPassword)
			opts.InsecurePlaintext = tc.plaintext
			opts.MaxRetries = tc.retries
			f, err := Dial(context.Background(), tc.url, opts)
			if !errors.Is(err, tc.wantErr) {
				if f != nil {
					f.Close()
				}
				t.Fatalf("Dial() = %v, want %v", err, tc.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "imapfetch: ") || strings.Contains(msg, "\n") || !strings.HasSuffix(msg, tc.wantSuffix) {
				t.Errorf("error %q: want one line starting with imapfetch: and ending with %q", msg, tc.wantSuffix)
			}
		})
	}
}

func TestContextCanceled(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0))
	f := dialTest(t, srv.url("INBOX"), testOptions(t, testPassword))
	ctx, cancel := context.WithCancel(context.Background())
	st, err := f.Fetch(ctx, &MemState{}, func(context.Context, *Message) (Outcome, error) {
		cancel()
		return OutcomeProcessed, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch() = %+v, %v; want context.Canceled", st, err)
	}
}

// A server that greets and then never answers trips CommandTimeout.
func TestCommandTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.Write([]byte("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] silent server\r\n"))
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	opts := testOptions(t, testPassword)
	opts.CommandTimeout = 100 * time.Millisecond
	opts.MaxRetries = -1
	_, err = Dial(context.Background(), "imap://bounce@"+ln.Addr().String()+"/INBOX", opts)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("Dial() = %v, want ErrTimeout", err)
	}
}

// A refused action is retried, then reported; the messages stay, and the
// Handler is not called again for them.
func TestActionRefused(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0))
	opts := testOptions(t, testPassword)
	opts.Action = ActionMove
	opts.ProcessedMailbox = "INBOX" // the server refuses to move into the source
	opts.MaxRetries = 1
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	state := &MemState{}
	st, err := f.Fetch(context.Background(), state, rec.handle)
	if !errors.Is(err, ErrServer) || !strings.HasSuffix(err.Error(), "(gave up after 2 attempts)") {
		t.Errorf("Fetch() = %v, want ErrServer after 2 attempts", err)
	}
	if st.Reconnects != 1 {
		t.Errorf("Reconnects = %d, want 1", st.Reconnects)
	}
	if len(rec.committed) != 2 || rec.committed["<m0@test>"] != 1 || rec.committed["<m2@test>"] != 1 {
		t.Errorf("commits = %v, want m0 and m2 once each", rec.committed)
	}
	if srv.count(t, "INBOX") != 2 {
		t.Errorf("INBOX holds %d, want both messages", srv.count(t, "INBOX"))
	}
	if _, last, _ := state.Load(context.Background(), "INBOX"); last != 0 {
		t.Errorf("last UID = %d, want 0: nothing was acted on", last)
	}
}
