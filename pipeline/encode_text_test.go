package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTextEncoder(t *testing.T) {
	recs := []Record{
		{Source: "m.eml", Recipient: "gone@example.com", RecipientFrom: dsn.PositionDSN, Category: classify.CategoryHard,
			Reason: classify.ReasonUserUnknown, Status: "5.1.1", ReplyCode: "550", Action: dsn.ActionFailed,
			Diagnostic: "550 5.1.1 user unknown", Evidence: classify.Evidence{Rule: classify.RulePhrase, Match: "user unknown"},
			Date: time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)},
		{Source: "m.eml", Recipient: "guess@example.com", RecipientFrom: dsn.PositionText, Category: classify.CategoryHard,
			Reason: classify.ReasonUserUnknown, Note: NoteUnconfirmed},
		{Source: "m.eml", Recipient: "maybe@example.com", RecipientFrom: dsn.PositionDSN, Category: classify.CategorySoft,
			Reason: classify.ReasonUndefined, Status: "5.0.0", Permanent: true},
	}
	enc, err := NewEncoder(FormatText, true)
	require.NoError(t, err)
	got := string(enc.Encode(nil, recs))
	want := "m.eml\n" +
		"  gone@example.com\n" +
		"    verdict     hard (userunknown)\n" +
		"    read from   a delivery status field (RFC 3464)\n" +
		"    codes       status 5.1.1, reply 550, action failed\n" +
		"    diagnostic  550 5.1.1 user unknown\n" +
		"    evidence    phrase \"user unknown\"\n" +
		"    date        2026-01-04T04:00:00Z\n" +
		"  guess@example.com\n" +
		"    verdict     hard (userunknown)\n" +
		"    read from   the notice's running text (a guess: confirmed elsewhere, or it suppresses nothing)\n" +
		"    note        " + NoteUnconfirmed + "\n" +
		"  maybe@example.com\n" +
		"    verdict     soft (undefined), permanent\n" +
		"    read from   a delivery status field (RFC 3464)\n" +
		"    codes       status 5.0.0\n\n"
	assert.Equal(t, want, got)

	plain, err := NewEncoder(FormatText, false)
	require.NoError(t, err)
	assert.NotContains(t, string(plain.Encode(nil, recs)), "evidence", "the evidence is --explain's")
}

// TestTextEncoderHostile prints what a bounce says without letting it drive
// the terminal or flood it.
func TestTextEncoderHostile(t *testing.T) {
	rec := Record{Source: "evil\x1b]0;title\x07.eml", Recipient: "a@example.com\x1b[2J",
		Diagnostic: "550 \x1b[31mred\x1b[0m \u202egnirts\u202c\r\nInjected: line " + strings.Repeat("x", 10*MaxTextField),
		Err:        errors.New("dsn: bad\x00byte")}
	enc, err := NewEncoder(FormatText, true)
	require.NoError(t, err)
	out := string(enc.Encode(nil, []Record{rec}))
	for _, bad := range []string{"\x1b", "\x07", "\x00", "\u202e", "\r"} {
		assert.NotContains(t, out, bad)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		assert.LessOrEqual(t, len(l), MaxTextField+20, "a line is cut: %q", l)
	}
	assert.Contains(t, out, "Injected: line", "the folded line stays in its field")
	assert.NotContains(t, out, "\nInjected", "no line of the bounce's own")
}
