package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func verpRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"verp"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestVerpCommand(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	keyFile := filepath.Join(t.TempDir(), "verp.keys")
	require.NoError(t, os.WriteFile(keyFile, []byte("# bouncer keys\n"+secret+"\n"), 0o600))

	code, out, errOut := verpRun("--verp-key-file", keyFile, "--bounce-address", "bounce@lists.example.org", "dana@example.com", "o'brien@example.com")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, `^bounce\+[a-z2-7]{14}\+dana=example\.com@lists\.example\.org$`, lines[0])
	assert.Regexp(t, `^bounce\+[a-z2-7]{14}\+o\+27brien=example\.com@lists\.example\.org$`, lines[1])

	code, out, errOut = verpRun("--verp-key-file", keyFile, "--verify", lines[0])
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "\tverp\tdana@example.com\t")

	code, out, errOut = verpRun("--verp-key-file", keyFile, "--bounce-address", "bounce@lists.example.org", "--batv")
	require.Equal(t, exitOK, code, errOut)
	batv := strings.TrimSpace(out)
	assert.Regexp(t, `^prvs=[0-9]{4}[0-9a-f]{6}=bounce@lists\.example\.org$`, batv)
	code, out, _ = verpRun("--verp-key-file", keyFile, "--verify", batv)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "\tbatv\tbounce@lists.example.org\t")

	forged := "bounce+aaaaaaaaaaaaaa+dana=example.com@lists.example.org"
	code, _, errOut = verpRun("--verp-key-file", keyFile, "--verify", forged)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "does not verify")
	assert.Contains(t, errOut, "made with a key that is not in "+keyFile, "says why a tag fails")
	assert.NotContains(t, errOut, "verp: verp:", "the package's prefix once")
	assert.NotContains(t, errOut, secret)

	for name, args := range map[string][]string{
		"no key file":       {"--bounce-address", "bounce@lists.example.org", "dana@example.com"},
		"no bounce address": {"--verp-key-file", keyFile, "dana@example.com"},
		"no recipient":      {"--verp-key-file", keyFile, "--bounce-address", "bounce@lists.example.org"},
		"bad delimiter":     {"--verp-key-file", keyFile, "--bounce-address", "bounce@lists.example.org", "--delimiter", "++", "dana@example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := verpRun(args...)
			assert.Equal(t, exitUsage, code, errOut)
		})
	}
	code, _, errOut = verpRun("--verp-key-file", filepath.Join(t.TempDir(), "missing"), "--bounce-address", "bounce@lists.example.org", "dana@example.com")
	assert.Equal(t, exitError, code, errOut)
}

// TestVerpBATVLongKey: a BATV key longer than Exim's ${prvs} takes is
// warned of, and still used.
func TestVerpBATVLongKey(t *testing.T) {
	dir := t.TempDir()
	long := writeFile(t, filepath.Join(dir, "long"), strings.Repeat("a1", 40)+"\n")
	code, stdout, stderr := runBouncer(t, "verp", "--verp-key-file", long, "--bounce-address", "bounce@lists.example.org", "--batv")
	assert.Equal(t, exitOK, code, "%s", stderr)
	assert.Contains(t, stdout, "prvs=")
	assert.Contains(t, stderr, "warning: key 1 is longer than 64 bytes: Exim's ${prvs} refuses")
	short := writeFile(t, filepath.Join(dir, "short"), strings.Repeat("a1", 32)+"\n")
	_, _, stderr = runBouncer(t, "verp", "--verp-key-file", short, "--bounce-address", "bounce@lists.example.org", "--batv")
	assert.Empty(t, stderr)
}
