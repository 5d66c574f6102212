package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
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

// treeHash returns the names, modes and bytes of every file under root.
func treeHash(t *testing.T, root string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel] = fi.Mode().String()
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = fi.Mode().String() + " " + hex.EncodeToString(sum[:])
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestDryRunMaildir(t *testing.T) {
	dir := t.TempDir()
	files := demoFiles(t)
	first, later := map[string][]byte{}, map[string][]byte{}
	names := slices.Sorted(maps.Keys(files))
	for i, name := range names {
		if i%2 == 0 {
			first[name] = files[name]
		} else {
			later[name] = files[name]
		}
	}
	md := newMaildir(t, filepath.Join(dir, "Maildir"), first)
	state := filepath.Join(dir, "var", "bouncer.db")
	args := []string{"run", "--maildir", md, "--state", state, "--out", filepath.Join(dir, "list.csv"),
		"--out-dir", filepath.Join(dir, "lists")}
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	for name, b := range later {
		require.NoError(t, os.WriteFile(filepath.Join(md, "new", name), b, 0o600))
	}

	before := treeHash(t, dir)
	code, stdout, stderr = runBouncer(t, append(args, "--dry-run")...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Equal(t, before, treeHash(t, dir), "the Maildir, the state and the lists byte for byte as they were")
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(later)))
	assert.Regexp(t, `dry run: would move [1-9]\d* bounces to bounces-processed, move \d+ others to bounces-unrecognized`, stdout)
	assert.Contains(t, stdout, "dry run: would write "+filepath.Join(dir, "list.csv"))
	assert.Contains(t, stdout, "dry run: nothing was changed")
	assert.NotContains(t, stdout, "\nwrote ")

	// The real run afterwards finds the same work to do.
	code, real, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", real, stderr)
	assert.Contains(t, real, fmt.Sprintf("messages: %d read", len(later)))

	t.Run("no state yet", func(t *testing.T) {
		fresh := filepath.Join(dir, "new", "bouncer.db")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", fresh, "--dry-run")
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.NoDirExists(t, filepath.Dir(fresh), "no state, no folder created")
	})
	t.Run("not with watch", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "run", "--maildir", md, "--dry-run", "--watch")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--dry-run makes one pass")
	})
}

// mailboxSnapshot returns the mailboxes of srv's user and, for each, the
// UID, flags (but the session flag \Recent) and GUID of each message.
func mailboxSnapshot(t *testing.T, srv *dovecottest.Server) string {
	t.Helper()
	boxes := strings.Fields(srv.Doveadm(t, "mailbox", "list", "-u", srv.User))
	sort.Strings(boxes)
	var b strings.Builder
	for _, box := range boxes {
		out := srv.Doveadm(t, "-f", "flow", "fetch", "-u", srv.User, "uid flags guid", "mailbox", box)
		fmt.Fprintf(&b, "%s:\n%s\n", box, strings.ReplaceAll(out, `\Recent`, ""))
	}
	return b.String()
}

func TestDryRunDovecot(t *testing.T) {
	srv := dovecottest.Start(t)
	samples := runSamples(t)
	for _, s := range samples {
		srv.Append(t, "INBOX", s.data)
	}
	dir := t.TempDir()
	args := []string{"run", "--imap", srv.URL("INBOX"), "--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile,
		"--state", filepath.Join(dir, "bouncer.db"), "--out", filepath.Join(dir, "list.csv")}
	mailbox, files := mailboxSnapshot(t, srv), treeHash(t, dir)
	require.Contains(t, mailbox, "uid=1 ")

	for _, after := range []string{"move", "seen", "delete"} {
		code, stdout, stderr := runBouncer(t, append(args, "--dry-run", "--after", after)...)
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)))
		assert.Equal(t, mailbox, mailboxSnapshot(t, srv), "--after %s: the mailbox as it was", after)
		assert.Equal(t, files, treeHash(t, dir), "--after %s: no state, no list", after)
	}
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)), "the dry runs left the cursor where it was")
	n, _ := srv.MailboxStatus(t, "INBOX")
	assert.Zero(t, n)
}

// scrape returns the samples of the metrics at url, by name and labels
// ("bouncer_bounces_total{category=\"hard\"}").
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64)
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out, nil
}

func TestMetricsDuringWatch(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	msgs := demoFiles(t)
	md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	addr := freePort(t)
	start := time.Now()
	w := startWatch(t, bin, "run", "--maildir", md, "--watch", "--poll", "50ms", "--state", filepath.Join(dir, "s.db"),
		"--metrics", addr)
	var got map[string]float64
	require.Eventually(t, func() bool {
		var err error
		got, err = scrape("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		var n float64
		for _, o := range []string{"bounce", "not_bounce", "unrecognized", "already", "failed"} {
			n += got[`bouncer_messages_total{outcome="`+o+`"}`]
		}
		return n == float64(len(msgs))
	}, 20*time.Second, 50*time.Millisecond, "the metrics never counted the %d messages: %v", len(msgs), got)
	w.stop(t)
	assert.Positive(t, got[`bouncer_messages_total{outcome="bounce"}`])
	assert.Positive(t, got[`bouncer_bounces_total{category="hard"}`])
	assert.Positive(t, got[`bouncer_bounces_total{category="complaint"}`])
	assert.Contains(t, got, `bouncer_pushes_total{result="delivered"}`)
	assert.Contains(t, got, `bouncer_errors_total{kind="lists"}`)
	last := got["bouncer_last_success_timestamp_seconds"]
	assert.GreaterOrEqual(t, last, float64(start.Unix()))
	assert.LessOrEqual(t, last, float64(time.Now().Unix()+1))
	assert.Contains(t, w.stderr.String(), "bouncer: metrics at http://"+addr+"/metrics")

	t.Run("needs watch", func(t *testing.T) {
		code, _, stderr := runBouncer(t, "run", "--maildir", md, "--metrics", addr)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--metrics needs --watch")
	})
}
