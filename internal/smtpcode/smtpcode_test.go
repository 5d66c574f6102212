package smtpcode

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInContext(t *testing.T) {
	for _, tc := range []struct {
		text string // the code is the first digit after "|"
		want bool
	}{
		{"|5.1.1 user unknown", true},
		{"said: 550 |5.1.1 <a@b.example>: Recipient address rejected", true},
		{"550-|5.7.1 blocked", true},
		{"No such user (#|5.1.1)", true},
		{"Status: |5.2.2", true},
		{"smtp; |5.1.1", true},
		{"status code |4.4.7", true},
		{"transcript:\n|5.1.1 unknown", true},
		{"X-Mailer: QUALCOMM Windows Eudora Version |5.0.2", false},
		{"X-Mailman-Version: |2.1.12", false},
		{"Mailman v|2.0.13", false},
		{"made with wxPython |2.3.0 and love", false},
		{"it costs 1550 |5.1.1 units", false},
		{"we moved to building |5.2.1 last year", false},
	} {
		i := strings.IndexByte(tc.text, '|')
		s := tc.text[:i] + tc.text[i+1:]
		assert.Equal(t, tc.want, InContext(s, i), "%q", tc.text)
	}
}

func TestStatusAt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"5.1.1 user unknown", "5.1.1"},
		{"4.4.7", "4.4.7"},
		{"5.7.26)", "5.7.26"},
		{"2.0.0", "2.0.0"},
		{"3.1.1", ""},
		{"5.1.1000", ""},
		{"5.1.10.2", ""},
		{"5.1", ""},
		{"5..1", ""},
	} {
		got, n := StatusAt(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.Equal(t, len(tc.want), n, "%q", tc.in)
	}
}
