package main

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The docs test runs the bouncer commands shown in README.md and docs/, so
// that the pages cannot drift from the program (docs/testing.md, "The docs
// test", says the convention to the pages' writers).

// docsRoot is the repository's root, seen from this package.
const docsRoot = "../.."

// docsCommandTimeout bounds one command of a page: a command that waits
// (for a server, for standard input) fails the test instead of hanging it.
const docsCommandTimeout = time.Minute

// minDocsCommands is the fewest commands the pages must show: fewer means
// the extraction broke, and a test that runs nothing cannot fail.
const minDocsCommands = 15

// Markers a page writes at the end of a command line.
const (
	// markNeedsServer skips the line: it needs a server, or files the
	// reader has and the test does not.
	markNeedsServer = "# needs a server"
	// markExits1 says the line is meant to fail with exit status 1.
	markExits1 = "# exits 1"
)

// docsSkipped are the parts of a command line that need a server or never
// end: a line holding one is skipped.
var docsSkipped = []string{"--imap", "--push", "postgres://", "--config", "--watch", "--metrics",
	"bouncer serve", "bouncer auth"}

// docCommand is one command of a page.
type docCommand struct {
	Line  int    // where it starts in the page
	Text  string // the command, continuation lines joined
	Skip  string // why it is not run ("" when it is)
	Want1 bool   // markExits1: exit status 1 is what it shows
}

// docCommands extracts the bouncer commands of a Markdown page: the lines
// of its fenced sh (bash, shell) blocks that start with "bouncer ", a
// line ending in a backslash joined with the next.
func docCommands(page string) []docCommand {
	var out []docCommand
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inSh, inOther := false, false
	var cur *docCommand
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if fence, ok := strings.CutPrefix(line, "```"); ok {
			switch {
			case inSh || inOther:
				inSh, inOther, cur = false, false, nil
			case fence == "sh" || fence == "bash" || fence == "shell":
				inSh = true
			default:
				inOther = true
			}
			continue
		}
		if !inSh {
			continue
		}
		if cur == nil {
			if !strings.HasPrefix(line, "bouncer ") {
				continue
			}
			out = append(out, docCommand{Line: n})
			cur = &out[len(out)-1]
		}
		text, cont := strings.CutSuffix(line, `\`)
		cur.Text = strings.TrimSpace(cur.Text + " " + strings.TrimSpace(text))
		if !cont {
			judgeDocCommand(cur)
			cur = nil
		}
	}
	return out
}

// judgeDocCommand sets why c is skipped, and whether it must exit 1.
func judgeDocCommand(c *docCommand) {
	if strings.HasSuffix(c.Text, markNeedsServer) {
		c.Skip = "marked " + markNeedsServer
		return
	}
	if s, ok := strings.CutSuffix(c.Text, markExits1); ok {
		c.Text, c.Want1 = strings.TrimSpace(s), true
	}
	for _, s := range docsSkipped {
		if strings.Contains(c.Text, s) {
			c.Skip = "needs " + s
			return
		}
	}
}

func TestDocCommands(t *testing.T) {
	page := "# x\n\n```sh\n" +
		"go run ./cmd/bouncer demo\n" +
		"bouncer parse --explain \\\n    bounce.eml\n" +
		"bouncer run --imap imaps://x@y/INBOX\n" +
		"bouncer export --state nowhere.db  # exits 1\n" +
		"bouncer verp --verify x  # needs a server\n" +
		"```\n\n```toml\nbouncer = 1\n```\n\n" +
		"   ```sh\n   bouncer help run\n   ```\n\nbouncer in prose\n"
	got := docCommands(page)
	want := []docCommand{
		{Line: 5, Text: "bouncer parse --explain bounce.eml"},
		{Line: 7, Text: "bouncer run --imap imaps://x@y/INBOX", Skip: "needs --imap"},
		{Line: 8, Text: "bouncer export --state nowhere.db", Want1: true},
		{Line: 9, Text: "bouncer verp --verify x  # needs a server", Skip: "marked # needs a server"},
		{Line: 17, Text: "bouncer help run"},
	}
	assert.Equal(t, want, got)
}

// docPages returns README.md and every page under docs/, relative to
// docsRoot.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(docsRoot, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(docsRoot, path)
			if err != nil {
				return err
			}
			pages = append(pages, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return pages
}

// docsFixture makes the folder the commands of a page run in, with the
// files docs/testing.md promises: bounce.eml, Maildir/, bouncer.db,
// verp.keys, rules.txt, pw.txt.
func docsFixture(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	eml, err := os.ReadFile(filepath.Join(docsRoot, "testdata", "lhost-sendmail-01.eml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bounce.eml"), eml, 0o644))
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "Maildir", sub), 0o700))
	}
	samples := demoSamples()
	names, err := fs.Glob(samples, "*.eml")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		b, err := fs.ReadFile(samples, name)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Maildir", "new", name), b, 0o600))
	}
	files := map[string]string{
		"verp.keys": "# the docs test's key\n0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		"rules.txt": "# comments and blank lines are ignored\nmailbox has been retired        suspend\n/quota (is )?exhausted/         mailboxfull\n",
		"pw.txt":    "not-a-password",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	cmd := exec.Command(bin, "run", "--maildir", "Maildir", "--state", "bouncer.db", "--after", "none")
	cmd.Dir, cmd.Env = dir, docsEnv(bin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the fixture's state: %s", out)
	return dir
}

// docsEnv is the environment of the commands: the test's bouncer first on
// PATH, and no BOUNCER_* variable of the caller's.
func docsEnv(bin string) []string {
	env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOUNCER_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command of the docs")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run the commands with")
	}
	bin := bouncerBinary(t)
	total := 0
	for _, page := range docPages(t) {
		text, err := os.ReadFile(filepath.Join(docsRoot, page))
		require.NoError(t, err)
		cmds := docCommands(string(text))
		total += len(cmds)
		t.Run(page, func(t *testing.T) {
			var dir string
			for _, c := range cmds {
				if c.Skip != "" {
					t.Logf("%s:%d: skipped (%s): %s", page, c.Line, c.Skip, c.Text)
					continue
				}
				if dir == "" {
					dir = docsFixture(t, bin)
				}
				runDocCommand(t, page, dir, bin, c)
			}
		})
	}
	assert.GreaterOrEqual(t, total, minDocsCommands, "bouncer commands found in README.md and docs/")
}

// runDocCommand runs one command of a page in dir and checks its exit
// status: 0, or 1 when it is marked so.
func runDocCommand(t *testing.T, page, dir, bin string, c docCommand) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), docsCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Text)
	cmd.Dir, cmd.Env = dir, docsEnv(bin)
	out, err := cmd.CombinedOutput()
	status := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
	case err != nil:
		require.NoError(t, err, "%s:%d: %s", page, c.Line, c.Text)
	}
	want := 0
	if c.Want1 {
		want = 1
	}
	require.NoError(t, ctx.Err(), "%s:%d: %s did not end within %v", page, c.Line, c.Text, docsCommandTimeout)
	assert.Equal(t, want, status, "%s:%d: %s\n%s", page, c.Line, c.Text, out)
}
