package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	// A tiny cap makes every message hit it: one log line each.
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"),
		"--max-bytes", "300", "--log-format", "json")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.NotEmpty(t, lines)
	for _, line := range lines {
		var rec map[string]any
		if assert.NoError(t, json.Unmarshal([]byte(line), &rec), "stderr line %q is not JSON", line) {
			assert.Contains(t, rec, "time")
			assert.Contains(t, rec, "level")
			assert.NotEmpty(t, rec["msg"])
		}
	}
	assert.Contains(t, stdout, "messages:", "the summary stays text on stdout")

	t.Run("bad", func(t *testing.T) {
		t.Setenv("BOUNCER_LOG_FORMAT", "xml")
		code, _, stderr := runBouncer(t, "run", "--maildir", md)
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, "bouncer run: BOUNCER_LOG_FORMAT=xml: unknown --log-format \"xml\": want text or json\n", stderr)
	})
}
