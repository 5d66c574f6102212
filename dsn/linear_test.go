package dsn

import (
	"fmt"
	"strings"
	"testing"
)

// hostileLine returns a free-text bounce whose notice is one line of about
// size bytes of distinct address-like tokens, the shape that once made the
// recipient search quadratic.
func hostileLine(size int, sep string) string {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Content-Type: text/plain\r\n\r\nThe following addresses failed: ")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "user%d@example%d.com%s", i, i%97, sep)
	}
	b.WriteString("\r\n")
	return b.String()
}

// BenchmarkHostileLine parses one such message of 128 KiB, 512 KiB and
// 2 MiB: the time per byte must stay flat (linear cost).
func BenchmarkHostileLine(b *testing.B) {
	for _, sep := range []string{" ", "... User unknown; "} {
		for _, size := range benchSizes {
			msg := hostileLine(size, sep)
			b.Run(fmt.Sprintf("sep=%q/%dK", strings.TrimSpace(sep[:min(3, len(sep))]), size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(msg)))
				for b.Loop() {
					Parse(strings.NewReader(msg), &Options{MaxTextBytes: 4 << 20, MaxRecipients: 1 << 20})
				}
			})
		}
	}
}

var benchSizes = []int{128 << 10, 512 << 10, 2 << 20}
