package classify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPhrasesFile checks the embedded phrase rules: every line is a rule
// of the rules-file format or a comment, every token a reason of the
// taxonomy or a pseudo reason, and every phrase written as it is matched
// (lower case, single spaces), once.
func TestPhrasesFile(t *testing.T) {
	table, err := parsePhraseTable(phrasesFile)
	require.NoError(t, err)
	require.NotEmpty(t, table[ReasonUserUnknown])
	seen := map[string]Reason{}
	for r, list := range table {
		for _, p := range list {
			assert.Equal(t, strings.ToLower(p), p, "%s: phrase %q is not lower case", r, p)
			assert.NotContains(t, p, "  ", "%s: phrase %q has a run of spaces", r, p)
			if prev, ok := seen[p]; ok {
				assert.Fail(t, "phrase listed twice", "%q under %s and %s", p, prev, r)
			}
			seen[p] = r
		}
	}
	_, err = parsePhraseTable("user unknown nosuchreason\n")
	assert.ErrorIs(t, err, ErrBadRule)
	_, err = parsePhraseTable("lonelyword\n")
	assert.ErrorIs(t, err, ErrBadRule)
}
