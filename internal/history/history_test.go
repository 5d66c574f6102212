package history

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

func sampleHistory() []suppress.AddressHistory {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return []suppress.AddressHistory{{
		Address: "Gone@example.com", Normalized: "gone@example.com", Known: true, Suppressed: true,
		Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown, Rule: suppress.RuleHard,
		RuleText: "a hard bounce suppresses at once, for good", Since: at, LastBounce: at, Bounces: 1, Now: at,
		Events: []suppress.HistoryEvent{{
			Date: at, Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown, Status: "5.1.1",
			Diagnostic: "550 \x1b[2J\x1b]0;owned\x07user\r\nunknown " + strings.Repeat("x", 1000),
			Evidence:   `phrase "user unknown"`, RecipientFrom: "dsn", Counted: true,
			BounceMessageID: "<b@mx>", OriginalMessageID: "<o@list>",
			Source: suppress.EventSource{Detector: "postfix", Origin: "maildir:/m", Location: "/m/new/1.eml", Placed: "processed"},
		}},
	}, {Address: "x@example.com", Normalized: "x@example.com"}}
}

// TestWriteWhyText: the text form says what matters, on one line per
// field, with the remote text stripped of control characters and cut.
func TestWriteWhyText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteWhy(&b, sampleHistory(), FormatText))
	out := b.String()
	assert.Contains(t, out, "gone@example.com: suppressed (hard, userunknown) since 2026-03-02T10:00:00Z\n")
	assert.Contains(t, out, "rule: hard: a hard bounce suppresses at once, for good\n")
	assert.Contains(t, out, `evidence: phrase "user unknown"; recipient from: dsn`)
	assert.Contains(t, out, "read by postfix from maildir:/m /m/new/1.eml, then processed (--after)")
	assert.Contains(t, out, "x@example.com: not in this state")
	for _, c := range out {
		if c < ' ' && c != '\n' {
			t.Fatalf("control character %q in the text form:\n%q", c, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		assert.LessOrEqual(t, len(line), MaxTextBytes+40, "line %q", line)
	}
}

// TestWriteWhyJSON: the JSON form keeps the text whole and says
// suppressed for every address, known or not.
func TestWriteWhyJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteWhy(&b, sampleHistory(), FormatJSON))
	var got []map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	require.Len(t, got, 2)
	assert.Equal(t, true, got[0]["suppressed"])
	assert.Equal(t, false, got[1]["suppressed"])
	assert.Equal(t, false, got[1]["known"])
	assert.Equal(t, sampleHistory()[0].Events[0].Diagnostic, got[0]["events"].([]any)[0].(map[string]any)["diagnostic"])

	b.Reset()
	require.NoError(t, WriteWhy(&b, nil, FormatJSON))
	assert.Equal(t, "[]\n", b.String())
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatText, "TEXT": FormatText, "json": FormatJSON} {
		got, err := ParseFormat(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseFormat("yaml")
	assert.Error(t, err)
}
