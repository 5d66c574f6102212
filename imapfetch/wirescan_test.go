package imapfetch

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testLimits are small caps, to pass them with short inputs.
var testLimits = wireLimits{greeting: 20, line: 50, literal: 10, body: 100}

const testGreeting = "* OK hi\r\n"

func TestScannerLimits(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name     string
		lim      wireLimits
		in       string
		want     *LimitError // nil: within the caps
		accepted int         // with want: the bytes within the caps
	}{
		{name: "greeting", in: testGreeting},
		{name: "greeting too long", in: "* OK " + x(30) + "\r\n", want: &LimitError{LimitGreeting, 20, -1}, accepted: 20},
		{name: "line at the cap", in: testGreeting + "* OK " + x(43) + "\r\n"},
		{name: "line too long", in: testGreeting + "* OK " + x(44) + "\r\n", want: &LimitError{LimitLine, 50, -1}, accepted: len(testGreeting) + 50},
		{name: "line without end", in: testGreeting + "* CAPABILITY " + x(100), want: &LimitError{LimitLine, 50, -1}, accepted: len(testGreeting) + 50},
		{name: "LIST literal within the caps", in: testGreeting + "* LIST () \"/\" {10}\r\nab\r\ncd\r\nef)\r\n* OK " + x(43) + "\r\n"},
		{name: "LIST literal too large", in: testGreeting + "* LIST () \"/\" {11}\r\n" + x(11) + "\r\n", want: &LimitError{LimitLiteral, 10, 11}, accepted: len(testGreeting) + 20},
		{name: "literals add up", in: testGreeting + "* 1 FETCH (A {10}\r\n" + x(10) + " B {10}\r\n" + x(10) + ")\r\n", want: &LimitError{LimitLine, 50, -1}, accepted: len(testGreeting) + 50},
		{name: "announced literal over the line cap", in: testGreeting + "* 1 FETCH (A {10}\r\n" + x(10) + " BBBBBBBBBBBB {10}\r\n" + x(10) + ")\r\n", want: &LimitError{LimitLine, 50, 10}, accepted: len(testGreeting) + 49},
		{name: "body at the cap", in: testGreeting + "* 1 FETCH (UID 7 BODY[]<0> {100}\r\n" + x(100) + ")\r\n"},
		{name: "body section", in: testGreeting + "* 12 fetch (body[HEADER.FIELDS (FROM)] {100}\r\n" + x(100) + ")\r\n"},
		{name: "body over the cap", in: testGreeting + "* 1 FETCH (UID 7 BODY[] {101}\r\n" + x(101) + ")\r\n", want: &LimitError{LimitBody, 100, 101}, accepted: len(testGreeting) + 31},
		{name: "body, no cap", lim: wireLimits{20, 50, 10, -1}, in: testGreeting + "* 1 FETCH (BODY[] {100000}\r\n" + x(100000) + ")\r\n"},
		{name: "BINARY is no body", in: testGreeting + "* 1 FETCH (BINARY[] ~{100}\r\n" + x(100), want: &LimitError{LimitLiteral, 10, 100}, accepted: len(testGreeting) + 28},
		{name: "X-BODY is no body", in: testGreeting + "* 1 FETCH (X-BODY[] {100}\r\n", want: &LimitError{LimitLiteral, 10, 100}, accepted: len(testGreeting) + 27},
		{name: "BODY outside FETCH", in: testGreeting + "* LIST () \"/\" BODY[] {100}\r\n", want: &LimitError{LimitLiteral, 10, 100}, accepted: len(testGreeting) + 28},
		{name: "status text is no literal", in: testGreeting + "* OK say {1000}\r\n* OK " + x(43) + "\r\n"},
		{name: "tagged status is no literal", in: testGreeting + "T1 NO [ALERT] {1000}\r\nT2 OK done\r\n"},
		{name: "continuation is no literal", in: testGreeting + "+ {1000}\r\n* OK " + x(43) + "\r\n"},
		{name: "endless literal size", in: testGreeting + "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", want: &LimitError{LimitBody, 100, math.MaxInt64}, accepted: len(testGreeting) + 45},
		{name: "empty literal", in: testGreeting + "* LIST () \"/\" {0}\r\n\r\n* OK " + x(43) + "\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (wireLimits{}) {
				lim = testLimits
			}
			s := newScanner(lim, false)
			n, err := s.feed([]byte(tc.in))
			if tc.want == nil {
				require.NoError(t, err, "feed(%q)", tc.in)
				assert.Equal(t, len(tc.in), n)
				assert.Zero(t, s.size, "the last response did not end")
				return
			}
			var le *LimitError
			require.ErrorAs(t, err, &le, "feed(%q)", tc.in)
			assert.Equal(t, *tc.want, *le)
			assert.Equal(t, tc.accepted, n, "bytes within the caps")
			_, again := s.feed([]byte("* OK\r\n"))
			assert.Equal(t, err, again, "the error is not sticky")
		})
	}
}

// scanOutcome is what a scanner made of some bytes.
type scanOutcome struct {
	accepted      int
	err           string
	size, literal int64
	greeted, body bool
	segments      int
	head, tail    string
}

func scanOutcomeOf(s *scanner, accepted int, err error) scanOutcome {
	o := scanOutcome{accepted: accepted, size: s.size, literal: s.literal, greeted: s.greeted, body: s.body,
		segments: s.segments, head: string(s.head)}
	// Only the last scanTailLen bytes of the tail count.
	o.tail = string(s.tail[max(0, len(s.tail)-scanTailLen):])
	if err != nil {
		// Past a cap only the error and where it fell matter.
		return scanOutcome{accepted: accepted, err: err.Error()}
	}
	return o
}

// feedChunks feeds data cut at the offsets cuts gives (each byte a chunk
// length), as reads from a socket would deliver it.
func feedChunks(s *scanner, data, cuts []byte) (int, error) {
	done := 0
	for i := 0; done < len(data); i++ {
		n := len(data) - done
		if len(cuts) > 0 {
			n = min(n, int(cuts[i%len(cuts)])+1)
		}
		k, err := s.feed(data[done : done+n])
		done += k
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// FuzzScanner checks that the scanner gives the same answer however the
// bytes arrive: whole, or cut into any chunks. And that nothing past a cap
// is accepted.
func FuzzScanner(f *testing.F) {
	f.Add([]byte(testGreeting+"* LIST () \"/\" {10}\r\nab\r\ncd\r\nef)\r\n"), []byte{3, 1})
	f.Add([]byte(testGreeting+"* 1 FETCH (UID 7 BODY[]<0> {100}\r\n"+strings.Repeat("x\r\n", 40)+")\r\nT3 OK done\r\n"), []byte{0, 7, 200})
	f.Add([]byte(testGreeting+"* 1 FETCH (BODY[] {101}\r\n"), []byte{5})
	f.Add([]byte("* OK "+strings.Repeat("y", 30)), []byte{})
	f.Add([]byte(testGreeting+"* OK say {1000}\r\n+ {5}\r\nT1 OK\r\n"), []byte{1})
	f.Add([]byte(testGreeting+"* 1 FETCH (A {10}\r\n0123456789 B {10}\r\n0123456789)\r\n"), []byte{9})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		whole := newScanner(testLimits, false)
		n, err := whole.feed(data)
		want := scanOutcomeOf(whole, n, err)
		chunked := newScanner(testLimits, false)
		n2, err2 := feedChunks(chunked, data, cuts)
		got := scanOutcomeOf(chunked, n2, err2)
		if got != want {
			t.Fatalf("chunked %v: %+v, whole: %+v", cuts, got, want)
		}
		if err == nil && n != len(data) {
			t.Fatalf("accepted %d of %d bytes without an error", n, len(data))
		}
		if max := max(testLimits.greeting, testLimits.line); whole.size > max {
			t.Fatalf("response of %d bytes accepted, cap %d", whole.size, max)
		}
		if err != nil && fmt.Sprint(err) == "" {
			t.Fatal("empty error")
		}
	})
}

// BenchmarkScanner measures the accounting of a FETCH stream: bodies of
// 64 KiB between their response lines, read in 4 KiB chunks as go-imap's
// bufio.Reader does.
func BenchmarkScanner(b *testing.B) {
	var stream []byte
	stream = append(stream, testGreeting...)
	body := strings.Repeat("Received: from x\r\n", (64<<10)/18)
	for i := 1; i <= 100; i++ {
		stream = fmt.Appendf(stream, "* %d FETCH (UID %d BODY[]<0> {%d}\r\n%s)\r\n", i, i, len(body), body)
	}
	stream = append(stream, "T9 OK UID FETCH completed\r\n"...)
	lim := wireLimits{greeting: DefaultMaxGreeting, line: DefaultMaxLineBytes, literal: DefaultMaxLiteralBytes, body: DefaultMaxMessageBytes}
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		s := newScanner(lim, false)
		for off := 0; off < len(stream); off += 4096 {
			if _, err := s.feed(stream[off:min(off+4096, len(stream))]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
