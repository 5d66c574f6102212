package dsn

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse checks that no input makes Parse panic or return a nil Report,
// and that a parse never reports more recipients than the limit.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(dsnMessage("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n")))
	opts := &Options{MaxRecipients: 50, MaxParts: 50, MaxDepth: 8}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, _ := parseNoRecover(bytes.NewReader(b), opts)
		require.NotNil(t, rep, "Parse returned a nil Report")
		require.LessOrEqual(t, len(rep.Recipients), opts.MaxRecipients, "Parse kept more recipients than the limit")
		// Streamed, the recipients are the same, in the same order.
		so := *opts
		so.StreamRecipients = true
		streamed, _ := parseNoRecover(bytes.NewReader(b), &so)
		require.Equal(t, rep.Recipients, slices.Collect(streamed.All()), "StreamRecipients changed the recipients")
		require.Equal(t, len(rep.Recipients), streamed.Len())
	})
}
