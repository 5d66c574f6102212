package pipeline

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// FormatText is for a person at a terminal: a block per message, and in
// it a block per recipient (the address, its category and reason, where
// the address was read, and what decided). Text from the message is
// folded onto one line, stripped of control characters (a bounce must not
// drive the terminal) and cut to MaxTextField bytes.
const FormatText Format = "text"

// MaxTextField is the most bytes of one field FormatText prints.
const MaxTextField = 300

// positionWords says in words where an address was read, for FormatText.
var positionWords = map[dsn.Position]string{
	dsn.PositionDSN:               "a delivery status field (RFC 3464)",
	dsn.PositionFeedback:          "a feedback report (RFC 5965)",
	dsn.PositionSES:               "an Amazon SES notification",
	dsn.PositionXFailedRecipients: "the X-Failed-Recipients field",
	dsn.PositionVERP:              "the VERP address the bounce was sent to",
	dsn.PositionTemplate:          "the place the mail system's notice puts it",
	dsn.PositionTranscript:        "the RCPT TO of an SMTP transcript",
	dsn.PositionText:              "the notice's running text (a guess: confirmed elsewhere, or it suppresses nothing)",
	dsn.PositionOriginal:          "the returned original's only recipient",
	dsn.PositionAutoReply:         "the author of an automatic reply",
}

// textEncoder writes FormatText.
type textEncoder struct {
	explain bool
}

func (textEncoder) Header() []byte { return nil }

// Encode appends the block of the message whose records recs are (a
// message's records share their source).
func (e textEncoder) Encode(dst []byte, recs []Record) []byte {
	var b strings.Builder
	source := ""
	for i := range recs {
		r := &recs[i]
		if i == 0 || r.Source != source {
			source = r.Source
			fmt.Fprintf(&b, "%s\n", terminalText(r.Source))
		}
		e.block(&b, r)
	}
	if len(recs) > 0 {
		b.WriteByte('\n')
	}
	return append(dst, b.String()...)
}

// block writes the lines of one record.
func (e textEncoder) block(b *strings.Builder, r *Record) {
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(b, "    %-11s %s\n", label, value)
		}
	}
	who := r.Recipient
	if who == "" {
		who = "(no recipient)"
	}
	fmt.Fprintf(b, "  %s\n", terminalText(who))
	verdict := string(r.Category)
	if r.Reason != "" {
		verdict += " (" + string(r.Reason) + ")"
	}
	if r.Permanent {
		// Reported as permanent with no reason told (docs/taxonomy.md):
		// soft, counted more strictly by the policy.
		verdict += ", permanent"
	}
	line("verdict", verdict)
	line("forwarded", terminalText(r.FinalRecipient))
	if r.RecipientFrom != "" {
		where := positionWords[r.RecipientFrom]
		if where == "" {
			where = string(r.RecipientFrom)
		}
		line("read from", where)
	}
	var codes []string
	for _, c := range [][2]string{{"status", r.Status}, {"reply", r.ReplyCode}, {"action", string(r.Action)}} {
		if c[1] != "" {
			codes = append(codes, c[0]+" "+terminalText(c[1]))
		}
	}
	line("codes", strings.Join(codes, ", "))
	line("diagnostic", terminalText(r.Diagnostic))
	if e.explain {
		line("evidence", terminalText(evidenceString(r)))
	}
	line("remote mta", terminalText(r.RemoteMTA))
	if !r.Date.IsZero() {
		line("date", r.Date.Format(time.RFC3339))
	}
	line("note", terminalText(r.Note))
	if r.Err != nil {
		line("error", terminalText(r.Err.Error()))
	}
}

// terminalText is s made safe to print on a terminal: on one line, without
// control characters (dropping the ESC of an escape sequence defuses it)
// or invisible formatting characters, cut to MaxTextField bytes.
func terminalText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		if unicode.Is(unicode.Cf, r) {
			return -1 // bidirectional overrides and other invisible formatting
		}
		return r
	}, s)
	return textcut.Ellipsis(textcut.OneLine(s), MaxTextField)
}
