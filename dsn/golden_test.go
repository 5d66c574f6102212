package dsn

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata")

// goldenReport is the part of a Report that the golden files pin down.
type goldenReport struct {
	Kind         Kind
	Vendor       Vendor
	ReportingMTA string `json:",omitempty"`
	Truncated    bool   `json:",omitempty"`
	Error        string `json:",omitempty"`
	Original     struct {
		MessageID, From, To, Subject, ListID string `json:",omitempty"`
	}
	Recipients []goldenRecipient
}

type goldenRecipient struct {
	FinalRecipient    string
	OriginalRecipient string   `json:",omitempty"`
	Position          Position `json:",omitempty"`
	Action            Action   `json:",omitempty"`
	Status            string   `json:",omitempty"`
	ReplyCode         string   `json:",omitempty"`
	DiagnosticType    string   `json:",omitempty"`
	Diagnostic        string   `json:",omitempty"`
	RemoteMTA         string   `json:",omitempty"`
	Command           Command  `json:",omitempty"`
	FeedbackType      string   `json:",omitempty"`
}

func toGolden(rep *Report, err error) goldenReport {
	var g goldenReport
	g.Kind, g.Vendor, g.ReportingMTA, g.Truncated = rep.Kind, rep.Vendor, rep.ReportingMTA, rep.Truncated
	if err != nil {
		g.Error = err.Error()
	}
	o := rep.Original
	g.Original.MessageID, g.Original.From, g.Original.To, g.Original.Subject, g.Original.ListID =
		o.MessageID, o.From, o.To, o.Subject, o.ListID
	g.Recipients = []goldenRecipient{}
	for _, r := range rep.Recipients {
		g.Recipients = append(g.Recipients, goldenRecipient{
			FinalRecipient: r.FinalRecipient, OriginalRecipient: r.OriginalRecipient, Position: r.Position, Action: r.Action,
			Status: r.Status, ReplyCode: r.ReplyCode, DiagnosticType: r.DiagnosticType,
			Diagnostic: r.Diagnostic, RemoteMTA: r.RemoteMTA, Command: r.Command, FeedbackType: r.FeedbackType,
		})
	}
	return g
}

// TestGolden parses every sample in ../testdata and compares the result
// with NAME.dsn.json beside it. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.eml")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no samples in ../testdata")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			fh, err := os.Open(f)
			require.NoError(t, err)
			defer fh.Close()
			rep, perr := Parse(fh, nil)
			got, err := json.MarshalIndent(toGolden(rep, perr), "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			golden.Check(t, strings.TrimSuffix(f, ".eml")+".dsn.json", got, *update, "run go test ./dsn -update")
		})
	}
}

// TestQuirksNameSamples checks the promise of the package doc: every
// QUIRK comment names the sample in ../testdata that needs it, and the
// sample exists.
func TestQuirksNameSamples(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if !strings.Contains(l, "QUIRK:") {
				continue
			}
			// The comment runs on until a line that is not a comment.
			var c strings.Builder
			for j := i; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "//"); j++ {
				c.WriteString(lines[j])
			}
			text := c.String()
			if !assert.Contains(t, text, ".eml", "%s:%d: QUIRK names no sample", f, i+1) {
				continue
			}
			k := strings.Index(text, ".eml")
			start := strings.LastIndexAny(text[:k], " (/\t") + 1
			name := text[start : k+4]
			_, err := os.Stat(filepath.Join("../testdata", name))
			assert.NoError(t, err, "%s:%d: QUIRK names %s, which is not in ../testdata", f, i+1, name)
		}
	}
}
