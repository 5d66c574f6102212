package imapfetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileBytes is what a hostile server sends of one endless greeting,
// line or literal: far more than any cap, generated on the fly.
const hostileBytes = 512 << 20

// hostileMemory is the most a connection to a hostile server may allocate.
const hostileMemory = 100 << 20

// hostileServer runs script on each connection to a loopback listener and
// counts the connections.
type hostileServer struct {
	addr  string
	conns atomic.Int32
}

func startHostile(t *testing.T, tlsConfig *tls.Config, script func(conn net.Conn, r *bufio.Reader)) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	h := &hostileServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			h.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				script(conn, bufio.NewReader(conn))
			}()
		}
	}()
	return h
}

// writeEndless writes prefix, then filler up to hostileBytes in all, or
// until the client hangs up. It returns the bytes written.
func writeEndless(w io.Writer, prefix string) int64 {
	n, err := io.WriteString(w, prefix)
	if err != nil {
		return int64(n)
	}
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	total := int64(n)
	for total < hostileBytes {
		n, err := w.Write(chunk[:min(int64(len(chunk)), hostileBytes-total)])
		total += int64(n)
		if err != nil {
			break
		}
	}
	return total
}

// loginThen greets, accepts LOGIN, and answers the next command with
// attack.
func loginThen(attack string) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, r *bufio.Reader) {
		io.WriteString(conn, "* OK [CAPABILITY IMAP4rev1] hostile server\r\n")
		serveLogin(conn, r, attack)
	}
}

// serveLogin answers CAPABILITY and LOGIN, and the next command with
// attack.
func serveLogin(conn net.Conn, r *bufio.Reader, attack string) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd = strings.ToUpper(cmd); {
		case cmd == "CAPABILITY":
			io.WriteString(conn, "* CAPABILITY IMAP4rev1\r\n"+tag+" OK done\r\n")
		case strings.HasPrefix(cmd, "LOGIN "):
			io.WriteString(conn, tag+" OK [CAPABILITY IMAP4rev1] logged in\r\n")
		default:
			writeEndless(conn, attack)
			return
		}
	}
}

// startTLSThen greets offering STARTTLS, accepts it, and goes on over
// TLS with serveLogin.
func startTLSThen(cfg *tls.Config, attack string) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, r *bufio.Reader) {
		io.WriteString(conn, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hostile server\r\n")
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(conn, tag+" OK begin TLS\r\n")
		tc := tls.Server(conn, cfg)
		defer tc.Close()
		serveLogin(tc, bufio.NewReader(tc), attack)
	}
}

// testCert returns a server configuration with a certificate for
// 127.0.0.1, and a CA file that trusts it.
func testCert(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hostile"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, caFile
}

// Issue 22 item 2: what a hostile server sends besides the bodies asked
// for is capped; past a cap the connection ends with ErrTooLarge (not
// retried), and the client's memory stays small while the server goes on
// writing hundreds of MiB.
func TestHostileServerCaps(t *testing.T) {
	serverTLS, caFile := testCert(t)
	tests := []struct {
		name      string
		script    func(net.Conn, *bufio.Reader)
		plaintext bool // InsecurePlaintext: the STARTTLS probe reads the greeting
		imaps     bool
		want      LimitError
	}{
		{
			name:   "512 MiB greeting, imaps",
			script: func(conn net.Conn, _ *bufio.Reader) { writeEndless(conn, "* OK ") },
			imaps:  true,
			want:   LimitError{Limit: LimitGreeting, Max: DefaultMaxGreeting, Size: -1},
		},
		{
			name:   "512 MiB literal in an untagged LIST, imaps",
			script: loginThen("* LIST () \"/\" {536870912}\r\n"),
			imaps:  true,
			want:   LimitError{Limit: LimitLiteral, Max: DefaultMaxLiteralBytes, Size: 536870912},
		},
		{
			name:   "512 MiB literal in an untagged LIST, after STARTTLS",
			script: startTLSThen(serverTLS, "* LIST () \"/\" {536870912}\r\n"),
			want:   LimitError{Limit: LimitLiteral, Max: DefaultMaxLiteralBytes, Size: 536870912},
		},
		{
			name:   "512 MiB line, after STARTTLS",
			script: startTLSThen(serverTLS, "* OK "),
			want:   LimitError{Limit: LimitLine, Max: DefaultMaxLineBytes, Size: -1},
		},
		{
			name:      "512 MiB greeting, probe",
			script:    func(conn net.Conn, _ *bufio.Reader) { writeEndless(conn, "* OK ") },
			plaintext: true,
			want:      LimitError{Limit: LimitGreeting, Max: maxProbeLine, Size: -1},
		},
		{
			name:   "512 MiB greeting, STARTTLS required",
			script: func(conn net.Conn, _ *bufio.Reader) { writeEndless(conn, "* OK ") },
			want:   LimitError{Limit: LimitGreeting, Max: maxProbeLine, Size: -1},
		},
		{
			name:      "512 MiB literal in an untagged LIST",
			script:    loginThen("* LIST () \"/\" {536870912}\r\n"),
			plaintext: true,
			want:      LimitError{Limit: LimitLiteral, Max: DefaultMaxLiteralBytes, Size: 536870912},
		},
		{
			name:      "512 MiB line",
			script:    loginThen("* OK "),
			plaintext: true,
			want:      LimitError{Limit: LimitLine, Max: DefaultMaxLineBytes, Size: -1},
		},
		{
			name:      "512 MiB CAPABILITY",
			script:    loginThen("* CAPABILITY IMAP4rev1 " + strings.Repeat("X-CAP ", 1000)),
			plaintext: true,
			want:      LimitError{Limit: LimitLine, Max: DefaultMaxLineBytes, Size: -1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var listenTLS *tls.Config
			url := "imap://" + testUser + "@"
			if tc.imaps {
				listenTLS, url = serverTLS, "imaps://"+testUser+"@"
			}
			srv := startHostile(t, listenTLS, tc.script)
			opts := testOptions(t, testPassword)
			opts.InsecurePlaintext = tc.plaintext
			opts.CAFile = caFile
			opts.CommandTimeout = 5 * time.Minute // the cap, not the watchdog, must end it (-race is slow)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Dial(context.Background(), url+srv.addr+"/INBOX", opts)
			runtime.ReadMemStats(&after)

			require.Error(t, err, "Dial() to a hostile server")
			assert.ErrorIs(t, err, ErrTooLarge)
			var le *LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.want, *le, "the cap passed")
			assert.Contains(t, err.Error(), "over a limit")
			assert.EqualValues(t, 1, srv.conns.Load(), "a cap passed is not retried")
			alloc := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, alloc, uint64(hostileMemory), "allocated %d MiB", alloc>>20)
			t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
		})
	}
}
