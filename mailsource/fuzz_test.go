package mailsource

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeMboxrd joins msgs into an mbox with mboxrd quoting.
func writeMboxrd(msgs []string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From sender@example.com Sat Nov 28 10:00:00 2026\n")
		for _, line := range strings.SplitAfter(m, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				b.WriteByte('>')
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// FuzzMbox checks that messages written as an mboxrd file are read back
// unchanged, and that any input is read to its end without a panic.
func FuzzMbox(f *testing.F) {
	f.Add([]byte("Subject: a\n\nFrom here\n>From there\n\x00Subject: b\n\nbody\n\n\n"))
	f.Add([]byte("From x\n\nFrom y Sat Nov 28 10:00:00 2026\n\x00\x00\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs []string
		for _, m := range strings.Split(string(data), "\x00") {
			if !strings.HasSuffix(m, "\n") {
				m += "\n"
			}
			msgs = append(msgs, m)
		}
		mbox := writeMboxrd(msgs)
		got := readAll(t, strings.NewReader(mbox))
		require.Equal(t, msgs, got, "read back %q, wrote %q", got, msgs)

		// Raw input: the messages together are never longer than it.
		mb := NewMbox(bytes.NewReader(append([]byte("From "), data...)))
		total := 0
		for {
			msg, err := mb.Next()
			if err != nil {
				break
			}
			n, _ := io.Copy(io.Discard, msg)
			total += int(n)
		}
		require.LessOrEqual(t, total, len(data)+5, "read %d bytes from %d", total, len(data)+5)
	})
}
