package mailsource

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaildirMoveNeverReplaces runs two passes, each over a different
// new/msg1 (two runs that each had their own), with --after move and with
// seen: the second message never replaces the first; it gets a new
// unique name, its flags kept.
func TestMaildirMoveNeverReplaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action Action
		folder string // where both messages end up
		file   string
	}{
		{"move", ActionMove, ".bounces-processed/new", "msg1"},
		{"move flags", ActionMove, ".bounces-processed/cur", "1700000001.M1.host:2,S"},
		{"unrecognized", ActionMove, ".bounces-unrecognized/new", "msg1"},
		{"seen", ActionSeen, "cur", "msg1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, sub := range []string{"new", "cur", "tmp"} {
				require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
			}
			sub := filepath.Base(tc.folder)
			if tc.action == ActionSeen {
				sub = "new"
			}
			prefix := "bounce"
			if strings.Contains(tc.folder, "unrecognized") {
				prefix = "other"
			}
			md, err := OpenMaildir(dir, &MaildirOptions{Action: tc.action, UnrecognizedFolder: "bounces-unrecognized"})
			require.NoError(t, err)
			bodies := []string{prefix + " first\n", prefix + " second\n"}
			for _, body := range bodies {
				require.NoError(t, os.WriteFile(filepath.Join(dir, sub, tc.file), []byte(body), 0o600))
				require.NoError(t, md.Pass(context.Background(), &recordingSink{}))
				assert.NoFileExists(t, filepath.Join(dir, sub, tc.file))
			}
			entries, err := os.ReadDir(filepath.Join(dir, tc.folder))
			require.NoError(t, err)
			var got []string
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, tc.folder, e.Name()))
				require.NoError(t, err)
				got = append(got, string(b))
				if _, flags, ok := strings.Cut(tc.file, ":2,"); ok {
					assert.True(t, strings.HasSuffix(e.Name(), ":2,"+flags), "%s lost its flags", e.Name())
				}
			}
			slices.Sort(got)
			assert.Equal(t, bodies, got, "both messages are kept in %s", tc.folder)
		})
	}
}
