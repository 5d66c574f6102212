package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "unknown flag --nope"},
		{[]string{"-n", "x"}, `bad value "x" for --n: parse error`},
		{[]string{"--b=maybe"}, `bad value "maybe" for --b: parse error`},
		{[]string{"--s"}, "--s needs a value"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Int("n", 0, "")
			fs.Bool("b", false, "")
			fs.String("s", "", "")
			err := Parse(fs, func() error { return fs.Parse(tc.args) })
			var ue *UsageError
			require.True(t, errors.As(err, &ue), "Parse(%q) = %v, want a *UsageError", tc.args, err)
			assert.Equal(t, tc.want, ue.Msg)
		})
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	assert.ErrorIs(t, Parse(fs, func() error { return fs.Parse([]string{"-h"}) }), flag.ErrHelp)
}

func TestEnv(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("out-dir", "", "")
	fs.String("out", "", "")
	fs.Int("workers", 1, "")
	t.Setenv("BOUNCER_OUT_DIR", "/lists")
	t.Setenv("BOUNCER_OUT", "")
	env, err := ApplyEnv(fs, []string{"out-dir", "out"})
	require.NoError(t, err)
	assert.Equal(t, Env{"out-dir": "BOUNCER_OUT_DIR=/lists"}, env)
	assert.Equal(t, "/lists", fs.Lookup("out-dir").Value.String())
	assert.Equal(t, "BOUNCER_OUT_DIR=/lists: bad --out-dir", env.Explain("bad --out-dir"))
	assert.Equal(t, "bad --out", env.Explain("bad --out"), "--out is not --out-dir")
	assert.Equal(t, "bad --outer", env.Explain("bad --outer"))

	t.Setenv("BOUNCER_WORKERS", "many")
	_, err = ApplyEnv(fs, []string{"workers"})
	var ue *UsageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Msg, "BOUNCER_WORKERS=many: ")
}

func TestVersion(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		version string
		vcs     []debug.BuildSetting
		want    string
	}{
		{"release with its commit", "v1.4.0", vcs, "bouncer v1.4.0 (revision 0123456789ab of 2026-12-03T10:00:00Z, modified), go1.26.8"},
		{"go build of a checkout", "v0.0.0-20261203100000-0123456789ab+dirty", vcs,
			"bouncer v0.0.0-20261203100000-0123456789ab+dirty (revision 0123456789ab of 2026-12-03T10:00:00Z, modified), go1.26.8"},
		{"go run: no version, a commit", "(devel)", vcs[:1], "bouncer devel (revision 0123456789ab), go1.26.8"},
		{"go run: nothing stamped", "(devel)", nil, "bouncer devel, go1.26.8"},
		{"no main version at all", "", nil, "bouncer devel, go1.26.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: tt.version}, Settings: tt.vcs}
			assert.Equal(t, tt.want, versionOf("bouncer", bi))
		})
	}
}

// TestInfo writes an informational line as a record of level INFO in JSON
// (not ERROR, as other lines), and as itself in text.
func TestInfo(t *testing.T) {
	var b bytes.Buffer
	_, w := NewLogger(&b, LogJSON, nil)
	Info(w, "bouncer: metrics at http://127.0.0.1:9090/metrics")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &rec), "%s", b.String())
	assert.Equal(t, "INFO", rec["level"])
	assert.Equal(t, "bouncer: metrics at http://127.0.0.1:9090/metrics", rec["msg"])

	b.Reset()
	_, w = NewLogger(&b, LogText, slog.NewTextHandler(io.Discard, nil))
	Info(w, "bouncer: metrics at http://127.0.0.1:9090/metrics")
	assert.Equal(t, "bouncer: metrics at http://127.0.0.1:9090/metrics\n", b.String())
}

// TestApplyEnvAll sets every flag of a set from its variable when names is
// nil, and names the variable of a value the flag refuses.
func TestApplyEnvAll(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("soft-threshold", 3, "")
	s := fs.String("category", "", "")
	require.NoError(t, fs.Parse(nil))
	t.Setenv("BOUNCER_SOFT_THRESHOLD", "5")
	t.Setenv("BOUNCER_CATEGORY", "policy")
	env, err := ApplyEnv(fs, nil)
	require.NoError(t, err)
	assert.Equal(t, 5, *n)
	assert.Equal(t, "policy", *s)
	assert.Equal(t, Env{"soft-threshold": "BOUNCER_SOFT_THRESHOLD=5", "category": "BOUNCER_CATEGORY=policy"}, env)

	t.Setenv("BOUNCER_SOFT_THRESHOLD", "abc")
	fs2 := flag.NewFlagSet("x", flag.ContinueOnError)
	fs2.Int("soft-threshold", 3, "")
	_, err = ApplyEnv(fs2, nil)
	var ue *UsageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Msg, "BOUNCER_SOFT_THRESHOLD=abc")
}
