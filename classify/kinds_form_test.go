package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKindsForm checks the reason of a notice in the form Outlook's
// AutoCorrect leaves it (curly quotes around the address, windows-1252):
// Exchange 2007 and later's words for DSN 5.1.1.
func TestKindsForm(t *testing.T) {
	msg := "From: postmaster@corp.example\r\nTo: news@lists.example.org\r\nSubject: Undeliverable: December news\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n" +
		"Delivery has failed to these recipients or groups:\r\n\r\n\x93ann@corp.example\x94\r\n" +
		"The e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message.\r\n"
	rep, _ := dsn.Parse(strings.NewReader(msg), nil)
	require.Len(t, rep.Recipients, 1)
	assert.Equal(t, "ann@corp.example", rep.Recipients[0].FinalRecipient)
	r := rep.Recipients[0]
	in := inputOf(rep, r)
	got := Classify(in)
	assert.Equal(t, ReasonUserUnknown, got.Reason, "Classify(%+v) = %s (%s)", in, got.Reason, got.Evidence)
	assert.Equal(t, CategoryHard, got.Category)
}
