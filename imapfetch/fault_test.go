package imapfetch

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/internal/faultproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			proxy := faultproxy.Cut(t, srv.addr, []byte("CUT-HERE!!"))
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			opts.UnrecognizedMailbox = "done"
			f := dialTest(t, strings.Replace(srv.url("INBOX"), srv.addr, proxy.Addr, 1), opts)

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
			require.NoError(t, err, "Fetch()")
			assert.Equal(t, 2, proxy.Conns(), "connections")
			assert.Equal(t, 1, st.Reconnects, "Reconnects")
			if tc.readBody {
				rec.checkOnce(t, n)
			} else {
				// Message 3 was committed on its headers before the cut, then
				// again after the reconnection: harmless, and it is moved once.
				assert.Equal(t, 2, rec.committed["<m3@test>"], "commits")
				assert.Len(t, rec.committed, n, "commits")
			}
			got := srv.count(t, "INBOX")
			assert.Equal(t, 0, got, "INBOX holds %d", got)
			got = srv.count(t, "done")
			assert.Equal(t, n, got, "done holds %d", got)
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	srv := startMem(t, capsRev2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
			if f != nil {
				f.Close()
			}
			require.ErrorIs(t, err, tc.wantErr, "Dial()")
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "imapfetch: "), "error %q", msg)
			assert.NotContains(t, msg, "\n", "error %q", msg)
			assert.True(t, strings.HasSuffix(msg, tc.wantSuffix), "error %q", msg)
		})
	}
}

func TestContextCanceled(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0))
	f := dialTest(t, srv.url("INBOX"), testOptions(t, testPassword))
	ctx, cancel := context.WithCancel(context.Background())
	_, err := f.Fetch(ctx, &MemState{}, func(context.Context, *Message) (Outcome, error) {
		cancel()
		return OutcomeProcessed, nil
	})
	assert.ErrorIs(t, err, context.Canceled, "Fetch()")
}

// A server that greets and then never answers trips CommandTimeout.
func TestCommandTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
	assert.ErrorIs(t, err, ErrTimeout, "Dial()")
}

// A refused move is tried once more after LIST shows the destination
// exists, then reported as permanent at once (no reconnection), naming the
// command; the messages stay, the state moves past them, and the Handler
// is not called again for them.
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
	assert.ErrorIs(t, err, ErrRefused, "Fetch()")
	assert.Contains(t, err.Error(), `UID MOVE "INBOX"`, "Fetch()")
	assert.True(t, strings.HasSuffix(err.Error(), "(2 messages left in place)"), "Fetch() = %v", err)
	assert.Equal(t, 0, st.Reconnects, "Reconnects")
	assert.Equal(t, 2, st.LeftInPlace, "LeftInPlace")
	require.Len(t, rec.committed, 2, "commits")
	assert.Equal(t, 1, rec.committed["<m0@test>"], "commits")
	assert.Equal(t, 1, rec.committed["<m2@test>"], "commits")
	assert.Equal(t, 2, srv.count(t, "INBOX"), "INBOX holds %d", srv.count(t, "INBOX"))
	_, last, _ := state.Load(context.Background(), "INBOX")
	assert.EqualValues(t, 2, last, "last UID")
}
