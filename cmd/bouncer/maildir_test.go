package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoFiles returns the demo's messages (cmd/bouncer/demo/*.eml, as the
// binary embeds them) by file name.
func demoFiles(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := fs.Glob(demoSamples(), "*.eml")
	require.NoError(t, err, "no demo samples")
	require.NotEmpty(t, names, "no demo samples")
	out := make(map[string][]byte)
	for _, n := range names {
		b, err := fs.ReadFile(demoSamples(), n)
		require.NoError(t, err)
		out[n] = b
	}
	return out
}

// newMaildir creates a Maildir at dir with msgs in new/ and returns dir.
func newMaildir(t *testing.T, dir string, msgs map[string][]byte) string {
	t.Helper()
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	for name, b := range msgs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "new", name), b, 0o600))
	}
	return dir
}

// listDir returns the names of the files in dir, sorted; none when it is
// missing.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// Addresses of the demo samples that the tests rely on: obvious cases the
// parser must keep getting right.
const (
	complaintAddr   = "redacted@example.net"       // arf-01.eml
	userUnknownAddr = "userunknown@libsisimai.net" // lhost-qmail-16.eml: 550 5.1.1 User unknown
	autoReplyAddr   = "nekonyaan@example.org"      // rfc3834-02.eml
	notBounceAddr   = "shironeko@example.com"      // is-not-bounce-01.eml (its From)
	policyAddr      = "kijitora@neko.example.com"  // lhost-amazonses-15.eml: blocked by an RBL
)

// demoWant is, written by hand from reading each demo message, the address
// every message that reports a failure is about and its category
// (demo/README.md lists them with their reasons).
var demoWant = map[string]string{
	"userunknown@bouncehammer.jp":    "hard",      // lhost-sendmail-01.eml: RFC 3464, 550 5.1.1 User Unknown
	"mailboxfull@libsisimai.org":     "soft",      // lhost-yahoo-08.eml: mailbox full
	policyAddr:                       "policy",    // lhost-amazonses-15.eml
	complaintAddr:                    "complaint", // arf-01.eml
	"minsu@example.co.kr":            "soft",      // synthetic-ko-euckr.eml: Korean, mailbox full
	"taro@example.ne.jp":             "hard",      // synthetic-ja-iso2022jp-undeclared.eml: Japanese, no such address
	userUnknownAddr:                  "hard",      // lhost-qmail-16.eml
	"kijitora@example.edu":           "soft",      // lhost-exchange2007-02.eml: Exchange, mailbox full
	"bounce@simulator.amazonses.com": "hard",      // ses-json-bounce.eml: Amazon SES JSON, 5.1.1
	"ben@example.net":                "soft",      // synthetic-exim-delay-greylisting.eml: delayed, greylisted
}

// demoNotBounces are, sorted, the demo messages that report no failure:
// the ones bouncer run hands to humans.
var demoNotBounces = []string{"is-not-bounce-01.eml", "rfc3834-02.eml"}

// demoSuppressed are the addresses of demoWant that the default policy
// suppresses after one bounce: the hard ones and the complaint.
func demoSuppressed() map[string]string {
	out := make(map[string]string)
	for a, c := range demoWant {
		if c == "hard" || c == "complaint" {
			out[a] = c
		}
	}
	return out
}

func TestRunMaildir(t *testing.T) {
	msgs := demoFiles(t)
	notBounces := demoNotBounces

	t.Run("move", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		list := filepath.Join(dir, "list.csv")
		args := []string{"run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list}
		code, stdout, stderr := runBouncer(t, args...)
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		got := listDir(t, filepath.Join(md, "new"))
		assert.Empty(t, got, "new/ still holds %q", got)
		unrec := listDir(t, filepath.Join(md, ".bounces-unrecognized", "new"))
		assert.Equal(t, notBounces, unrec, ".bounces-unrecognized/new")
		proc := listDir(t, filepath.Join(md, ".bounces-processed", "new"))
		assert.Equal(t, len(msgs), len(proc)+len(unrec), "%d processed + %d unrecognized", len(proc), len(unrec))
		_, err := os.Stat(filepath.Join(md, ".bounces-processed", "maildirfolder"))
		assert.NoError(t, err, "no Maildir++ marker")
		l := readList(t, list)
		for _, a := range []string{complaintAddr, userUnknownAddr} {
			assert.Contains(t, l, a, "%s missing from the list", a)
		}
		for _, a := range []string{autoReplyAddr, notBounceAddr, policyAddr} {
			assert.NotContains(t, l, a, "%s is on the list", a)
		}
		first, _ := os.ReadFile(list)

		// Nothing left to read: the list stays byte for byte.
		code, stdout, stderr = runBouncer(t, args...)
		require.Equal(t, exitOK, code, "second run\n%s%s", stdout, stderr)
		require.Contains(t, stdout, "messages: 0 read", "second run\n%s%s", stdout, stderr)
		second, _ := os.ReadFile(list)
		assert.Equal(t, string(second), string(first), "second run changed the list")
	})

	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		list := filepath.Join(dir, "list.csv")
		args := []string{"run", "--maildir", md, "--after", "none", "--state", filepath.Join(dir, "s.db"), "--out", list}
		for i := 0; i < 2; i++ {
			code, stdout, stderr := runBouncer(t, args...)
			require.Equal(t, exitOK, code, "run %d\n%s%s", i+1, stdout, stderr)
			got := listDir(t, filepath.Join(md, "new"))
			assert.Len(t, got, len(msgs), "run %d: new/ holds %d files", i+1, len(got))
			if i == 1 {
				assert.Contains(t, stdout, "already recorded", "second run: the recorded messages")
			}
		}
		got := listDir(t, filepath.Join(md, ".bounces-processed"))
		assert.Empty(t, got, "--after none created .bounces-processed: %q", got)
	})

	t.Run("seen", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--after", "seen", "--state", filepath.Join(dir, "s.db"))
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		cur := listDir(t, filepath.Join(md, "cur"))
		assert.True(t, slices.Contains(cur, "arf-01.eml:2,S"), "cur/")
		// Each message is read once, though marking it moves it to cur/.
		want := fmt.Sprintf("messages: %d read:", len(msgs))
		assert.Contains(t, stdout, want, "summary lacks %q:\n%s", want, stdout)
		assert.Equal(t, notBounces, listDir(t, filepath.Join(md, ".bounces-unrecognized", "new")), ".bounces-unrecognized/new")
	})

	t.Run("delete", func(t *testing.T) {
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--after", "delete", "--state", filepath.Join(dir, "s.db"))
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		assert.Empty(t, listDir(t, filepath.Join(md, "new")), "new/")
		// What is not a bounce is never deleted.
		assert.Equal(t, notBounces, listDir(t, filepath.Join(md, ".bounces-unrecognized", "new")), ".bounces-unrecognized/new")
	})

	t.Run("unreadable", func(t *testing.T) {
		// Messages that cannot be read as reports, or whose failure cannot
		// be recorded (no date anywhere), go to humans even with delete.
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{
			"empty.eml":   {},
			"binary.eml":  bytes.Repeat([]byte{0, 0xff, 0x13, '\r'}, 500),
			"undated.eml": []byte("Subject: Returned\r\nContent-Type: multipart/report; boundary=zz\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--zz--\r\n"),
			// The report is whole; the part after it has a broken header.
			"broken-tail.eml": []byte("Subject: Returned\r\nDate: Tue, 3 Mar 2026 08:00:00 +0000\r\nContent-Type: multipart/report; boundary=zz\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; lost@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--zz\r\nContent-Type: text/rfc822-headers\r\nthis line is no header field\r\n\r\nFrom: a@example.org\r\n--zz--\r\n"),
		})
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--after", "delete", "--state", filepath.Join(dir, "s.db"))
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		// A bounce without a Date is dated by its delivery into the
		// Maildir, and processed; so is a report whose last part is broken.
		want := []string{"binary.eml", "empty.eml"}
		for _, a := range []string{"gone@example.net (hard", "lost@example.net (hard"} {
			assert.Contains(t, stdout, a, "run suppressed no %s):\n%s", a, stdout)
		}
		assert.Equal(t, want, listDir(t, filepath.Join(md, ".bounces-unrecognized", "new")), ".bounces-unrecognized/new\n%s", stdout)
	})

	t.Run("forward", func(t *testing.T) {
		// The subscriber's address forwards to one that no longer exists:
		// the report names both, and the list must hold the subscriber's.
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{
			"fwd.eml": []byte("Subject: Undelivered Mail Returned to Sender\r\nDate: Tue, 3 Mar 2026 08:00:00 +0000\r\n" +
				"Content-Type: multipart/report; boundary=zz\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n\r\n" +
				"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; dave.smith@forward.example.net\r\n" +
				"Original-Recipient: rfc822; dave@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
				"Diagnostic-Code: smtp; 550 5.1.1 User unknown in virtual mailbox table\r\n\r\n--zz--\r\n"),
		})
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list)
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		l := readList(t, list)
		for _, a := range []string{"dave@example.org", "dave.smith@forward.example.net"} {
			assert.Equal(t, "hard", l[a], "list: %s\n%s", a, stdout)
		}
	})

	t.Run("future date", func(t *testing.T) {
		// A bounce dated 2099 is dated by its delivery instead: as the
		// latest date in the history it would age every soft bounce out.
		dir := t.TempDir()
		md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{
			"1767225600.M1P1.host": []byte("Subject: Returned\r\nDate: Fri, 1 Jan 2099 00:00:00 +0000\r\n" +
				"Content-Type: multipart/report; boundary=zz\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n\r\n" +
				"Final-Recipient: rfc822; future@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--zz--\r\n"),
		})
		list := filepath.Join(dir, "list.csv")
		code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", list)
		require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
		b, err := os.ReadFile(list)
		require.NoError(t, err)
		assert.Contains(t, string(b), "future@example.net", "list:\n%s\nwant future@example.net dated 2026-01-01 (its delivery), not 2099", b)
		assert.NotContains(t, string(b), "2099", "list:\n%s\nwant future@example.net dated 2026-01-01 (its delivery), not 2099", b)
		assert.Contains(t, string(b), "2026-01-01T00:00:00Z", "list:\n%s\nwant future@example.net dated 2026-01-01 (its delivery), not 2099", b)
	})

	t.Run("not a maildir", func(t *testing.T) {
		dir := t.TempDir()
		code, _, stderr := runBouncer(t, "run", "--maildir", dir, "--state", filepath.Join(dir, "s.db"))
		assert.Equal(t, exitError, code, "run = %d, stderr %q", code, stderr)
		assert.Contains(t, stderr, "not a Maildir", "run = %d, stderr %q", code, stderr)
	})

	// Issue 21: /var/mail/bounce is an mbox spool on most systems; run
	// refuses it and leaves every byte of it alone.
	t.Run("an mbox spool", func(t *testing.T) {
		dir := t.TempDir()
		spool := filepath.Join(dir, "bounce")
		mbox := "From MAILER-DAEMON Mon Mar  2 10:30:00 2026\n" + strings.ReplaceAll(string(seedDSN(1, "gone@example.net", "5.1.1", "550 5.1.1 user unknown")), "\r\n", "\n")
		require.NoError(t, os.WriteFile(spool, []byte(mbox), 0o600))
		code, _, stderr := runBouncer(t, "run", "--maildir", spool, "--state", filepath.Join(dir, "s.db"))
		assert.Equal(t, exitError, code, "run = %d, stderr %q", code, stderr)
		assert.Contains(t, stderr, "not a Maildir", "run = %d, stderr %q", code, stderr)
		b, err := os.ReadFile(spool)
		require.NoError(t, err)
		assert.Equal(t, mbox, string(b), "the spool is untouched")
	})
}

func TestRunRules(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	rules := writeFile(t, filepath.Join(dir, "rules.txt"), "# treat this block list as a dead address\nclient host rejected   userunknown\n")
	list := filepath.Join(dir, "list.csv")
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--rules", rules, "--state", filepath.Join(dir, "s.db"), "--out", list)
	require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
	got := readList(t, list)[policyAddr]
	assert.Equal(t, "hard", got, "with the rule, %s is %q on the list", policyAddr, got)

	bad := writeFile(t, filepath.Join(dir, "bad.txt"), "some phrase   nosuchreason\n")
	code, _, stderr = runBouncer(t, "run", "--maildir", md, "--rules", bad, "--state", filepath.Join(dir, "s.db"))
	assert.Equal(t, exitUsage, code, "bad rules: run = %d, stderr %q", code, stderr)
	assert.Contains(t, stderr, "bad.txt", "bad rules: run = %d, stderr %q", code, stderr)
}

// TestRunWatchMaildir runs bouncer run --watch on a Maildir as a separate
// process: new mail is processed and the list rewritten until SIGTERM.
func TestRunWatchMaildir(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	msgs := demoFiles(t)
	late := msgs["lhost-qmail-16.eml"]
	delete(msgs, "lhost-qmail-16.eml")
	md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	list := filepath.Join(dir, "list.csv")
	w := startWatch(t, bin, "run", "--maildir", md, "--watch", "--poll", "50ms", "--state", filepath.Join(dir, "s.db"), "--out", list)
	waitListed(t, list, complaintAddr, 20*time.Second)
	require.NoError(t, os.WriteFile(filepath.Join(md, "new", "late.eml"), late, 0o600))
	waitListed(t, list, userUnknownAddr, 20*time.Second)
	stdout := w.stop(t)
	assert.Contains(t, stdout, "messages: "+strconv.Itoa(len(msgs)+1)+" read", "summary:\n%s", stdout)
}

// watchRun is a bouncer run --watch started as a separate process.
type watchRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// startWatch starts bin with args; it is killed when the test ends unless
// stop was called.
func startWatch(t *testing.T, bin string, args ...string) *watchRun {
	t.Helper()
	w := &watchRun{cmd: exec.Command(bin, args...)}
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	require.NoError(t, w.cmd.Start())
	t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			w.cmd.Process.Kill()
			w.cmd.Wait()
			if t.Failed() {
				t.Logf("the watch, killed:\nstdout:\n%s\nstderr:\n%s", w.stdout.String(), w.stderr.String())
			}
		}
	})
	return w
}

// stop sends SIGTERM, checks that the run ends cleanly, and returns what it
// printed.
func (w *watchRun) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	err := w.cmd.Wait()
	assert.NoError(t, err, "--watch ended with %v after SIGTERM\nstdout:\n%s\nstderr:\n%s", err, &w.stdout, &w.stderr)
	return w.stdout.String()
}

// waitListed waits until the list at path holds addr.
func waitListed(t *testing.T, path, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte("\n"+addr+",")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not on %s after %v", addr, path, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
