package imapfetch

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProbeSTARTTLS runs the probe against scripted servers: the greeting
// carries the capabilities, or the probe must ask for them; either way
// go-imap then reads the greeting again.
func TestProbeSTARTTLS(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		caps     string // answer to CAPABILITY; empty: not asked
		want     bool
	}{
		{name: "in the greeting", greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n", want: true},
		{name: "not in the greeting", greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n", want: false},
		{name: "asked, offered", greeting: "* OK ready\r\n", caps: "* CAPABILITY IMAP4rev1 starttls\r\n", want: true},
		{name: "asked, not offered", greeting: "* OK ready\r\n", caps: "* CAPABILITY IMAP4rev1 LOGINDISABLED\r\n", want: false},
		{name: "preauth", greeting: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			go func() {
				defer server.Close()
				io.WriteString(server, tc.greeting)
				if tc.caps == "" {
					return
				}
				line, err := bufio.NewReader(server).ReadString('\n')
				if err != nil || line != probeTag+" CAPABILITY\r\n" {
					return
				}
				io.WriteString(server, tc.caps+probeTag+" OK done\r\n")
			}()
			conn, offered, err := probeSTARTTLS(client)
			require.NoError(t, err)
			assert.Equal(t, tc.want, offered)
			replayed, err := bufio.NewReader(conn).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, tc.greeting, replayed, "the greeting is replayed")
		})
	}

	t.Run("not IMAP", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			io.WriteString(server, "SSH-2.0-OpenSSH_9.2\r\n")
		}()
		_, _, err := probeSTARTTLS(client)
		assert.ErrorContains(t, err, "not an IMAP greeting")
	})
	t.Run("endless line", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			io.WriteString(server, "* OK "+strings.Repeat("x", maxProbeLine+10))
		}()
		_, _, err := probeSTARTTLS(client)
		assert.ErrorContains(t, err, "longer than")
	})
}

// FuzzProbeSTARTTLS feeds the probe arbitrary server bytes: it must not
// panic, and whatever it accepts it replays from the first byte.
func FuzzProbeSTARTTLS(f *testing.F) {
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"))
	f.Add([]byte("* OK hi\r\n* CAPABILITY STARTTLS\r\n" + probeTag + " OK\r\n"))
	f.Add([]byte("* PREAUTH\r\n"))
	f.Add([]byte("* OK [CAPABILITY\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			go io.Copy(io.Discard, server) // the probe's CAPABILITY
			server.Write(data)
		}()
		conn, _, err := probeSTARTTLS(client)
		if err != nil {
			return
		}
		first, _, _ := strings.Cut(string(data), "\n")
		got, err := bufio.NewReader(conn).ReadString('\n')
		require.NoError(t, err, "replayed %q, %v;", got, err)
		require.Equal(t, first+"\n", got, "replayed %q, %v;", got, err)
	})
}
