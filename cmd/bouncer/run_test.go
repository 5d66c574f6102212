package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bouncer binary, built once for the tests that run it as a separate
// process (SIGKILL, a concurrent run).
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bouncerBinary builds the command into a temporary folder, once.
func bouncerBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "bouncer-test-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bouncer")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// runBouncer runs the command in-process and returns its exit status,
// standard output and standard error.
func runBouncer(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// sample is one message of a test mailbox.
type sample struct {
	name string
	data []byte
}

// runSamples returns the messages of testdata/run and the synthetic bounces
// made from seed rejection lines.
func runSamples(t *testing.T) []sample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "run", "*.eml"))
	require.NoError(t, err, "no samples in testdata/run")
	require.NotEmpty(t, files, "no samples in testdata/run")
	var out []sample
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, sample{filepath.Base(f), b})
	}
	for i, s := range seedLines {
		out = append(out, sample{fmt.Sprintf("seed-%02d.eml", i), seedDSN(i, s.addr, s.status, s.line)})
	}
	return out
}

// seedLines are rejection lines of the kind the project's seed list
// collects (../shared/seed), each turned into an RFC 3464 report by seedDSN.
var seedLines = []struct{ addr, status, line string }{
	{"seed-nosuchuser@example.net", "5.1.1", "550 5.1.1 No such user <seed-nosuchuser@example.net>"},
	{"seed-unknown@example.net", "5.1.1", "550 User unknown"},
	{"seed-chkuser@example.net", "5.1.1", "511 sorry, no mailbox here by that name (#5.1.1 - chkuser)"},
	{"seed-invalid@example.co.kr", "5.1.1", "550 Invalid recipient"},
	{"seed-quota@example.net", "4.2.2", "452 4.4.5 MailBox or MessageQuota exceed for <seed-quota@example.net>"},
	{"seed-rbl@example.net", "5.7.1", "550 Denied by policy: Sender is listed on DNS-based RBL"},
	{"seed-spammer@example.net", "5.7.1", "553 sorry, your envelope sender is enlisted as spammer."},
	{"seed-virus@example.net", "5.7.1", "550 5.5.0 VIRUS detected from your mail. Cure & Try again."},
}

// seedDSN returns an RFC 3464 delivery status notification for addr.
func seedDSN(i int, addr, status, line string) []byte {
	date := time.Date(2026, 3, 1+i, 10, 30, 0, 0, time.UTC).Format(time.RFC1123Z)
	return []byte(fmt.Sprintf(`From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: list-bounces@example.org
Subject: Undelivered Mail Returned to Sender
Date: %[1]s
Message-ID: <seed-%[2]d@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="seed%[2]d"

--seed%[2]d
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to <%[3]s>.
The mail server said: %[5]s

--seed%[2]d
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: %[1]s

Final-Recipient: rfc822; %[3]s
Action: failed
Status: %[4]s
Diagnostic-Code: smtp; %[5]s

--seed%[2]d
Content-Type: text/rfc822-headers

From: News <list@example.org>
To: %[3]s
Subject: Our newsletter
Message-ID: <news-%[2]d@example.org>

--seed%[2]d--
`, date, i, addr, status, line))
}

// readList returns the addresses of a list in the generic format.
func readList(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err, "%s", path)
	require.NotEmpty(t, rows, "%s: no header: %q", path, rows)
	require.Equal(t, "email", rows[0][0], "%s: no header: %q", path, rows)
	out := make(map[string]string)
	for _, r := range rows[1:] {
		out[r[0]] = r[1]
	}
	return out
}

// writeFile writes content to path and returns path.
func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRunDovecot runs bouncer against a real Dovecot over TLS holding real
// bounces, synthetic ones from seed rejection lines, auto-replies and
// messages that are not bounces.
func TestRunDovecot(t *testing.T) {
	srv := dovecottest.Start(t)
	samples := runSamples(t)
	for _, s := range samples {
		srv.Append(t, "INBOX", s.data)
		srv.Append(t, "kill", s.data)
	}
	dir := t.TempDir()
	imapArgs := func(mailbox string) []string {
		return []string{"--imap", srv.URL(mailbox), "--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile}
	}
	cleanState := filepath.Join(dir, "clean.db")
	cleanList := filepath.Join(dir, "clean.csv")

	t.Run("clean", func(t *testing.T) {
		args := append([]string{"run"}, imapArgs("INBOX")...)
		args = append(args, "--state", cleanState, "--out", cleanList, "--out-dir", filepath.Join(dir, "lists"))
		code, stdout, stderr := runBouncer(t, args...)
		require.Equal(t, exitOK, code, "run\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", len(samples)), "summary does not count %d messages:\n%s", len(samples), stdout)
		assert.Equal(t, runWant, readList(t, cleanList), "the list")
		for _, name := range []string{"hard.csv", "soft.csv", "policy.csv", "complaint.csv"} {
			_, err := os.Stat(filepath.Join(dir, "lists", name))
			assert.NoError(t, err, "--out-dir")
		}
		// Every message is kept: moved out of INBOX, none lost.
		inbox, _ := srv.MailboxStatus(t, "INBOX")
		processed, _ := srv.MailboxStatus(t, "bounces-processed")
		unrecognized, _ := srv.MailboxStatus(t, "bounces-unrecognized")
		assert.Zero(t, inbox, "INBOX after the run")
		assert.Equal(t, len(samples), processed+unrecognized, "bounces-processed %d + bounces-unrecognized %d", processed, unrecognized)
		assert.NotZero(t, processed, "bounces-processed")
		assert.NotZero(t, unrecognized, "bounces-unrecognized")

		// A second run finds nothing new and writes the same bytes.
		first, err := os.ReadFile(cleanList)
		require.NoError(t, err)
		code, stdout, stderr = runBouncer(t, args...)
		require.Equal(t, exitOK, code, "second run\n%s%s", stdout, stderr)
		assert.Contains(t, stdout, "messages: 0 read", "second run read messages again:\n%s", stdout)
		second, err := os.ReadFile(cleanList)
		require.NoError(t, err)
		assert.Equal(t, second, first, "second run changed the list:\n%s\nthen\n%s", first, second)
	})

	t.Run("killed and resumed", func(t *testing.T) {
		clean, err := os.ReadFile(cleanList)
		if err != nil {
			t.Skip("needs the clean run's list")
		}
		state := filepath.Join(dir, "kill.db")
		list := filepath.Join(dir, "kill.csv")
		args := append([]string{"run"}, imapArgs("kill")...)
		args = append(args, "--state", state, "--out", list, "--fetch-batch", "100", "--batch-time", "200ms",
			"--processed-folder", "kill-processed", "--unrecognized-folder", "kill-unrecognized")
		_, kv := srv.MailboxStatus(t, "kill")
		srv.CreateMailbox(t, "kill-processed") // so that their status can be asked at any time
		srv.CreateMailbox(t, "kill-unrecognized")
		key := imapfetch.URL{}
		if u, err := imapfetch.ParseURL(srv.URL("kill")); err == nil {
			key = *u
		}
		movedRecorded := func(when string) {
			t.Helper()
			processed, _ := srv.MailboxStatus(t, "kill-processed")
			unrecognized, _ := srv.MailboxStatus(t, "kill-unrecognized")
			checkRecorded(t, state, key.Key(), kv, processed+unrecognized, when)
		}

		// First kill: in the middle of the first batch (--fetch-batch
		// 100), nothing moved yet, some of it committed (--batch-time
		// 200ms). A second run on the same state meanwhile exits at once.
		killAt(t, args, state, 15, func() {
			start := time.Now()
			code, stdout, stderr := runBouncer(t, args...)
			assert.Equal(t, exitError, code, "concurrent run\n%s", stdout)
			assert.Contains(t, stderr, "already running", "concurrent run\n%s", stdout)
			d := time.Since(start)
			assert.LessOrEqual(t, d, 5*time.Second, "concurrent run took %v to give up", d)
		})
		movedRecorded("first kill")
		// Second kill: in the second batch, once the first was moved.
		if len(samples) > 105 {
			killAt(t, args, state, 105, nil)
			n, _ := srv.MailboxStatus(t, "kill")
			assert.NotEqual(t, 0, n, "second kill: %d messages left in the mailbox;", n)
			assert.NotEqual(t, len(samples), n, "second kill: %d messages left in the mailbox;", n)
			movedRecorded("second kill")
		}

		code, stdout, stderr := runBouncer(t, args...)
		require.Equal(t, exitOK, code, "resumed run\n%s%s", stdout, stderr)
		got, err := os.ReadFile(list)
		require.NoError(t, err)
		assert.Equal(t, clean, got, "the list of the killed and resumed run differs from an uninterrupted run's:\n%s\nwant\n%s", got, clean)
		inbox, _ := srv.MailboxStatus(t, "kill")
		processed, _ := srv.MailboxStatus(t, "kill-processed")
		unrecognized, _ := srv.MailboxStatus(t, "kill-unrecognized")
		assert.Zero(t, inbox, "kill after the resumed run")
		assert.Equal(t, len(samples), processed+unrecognized, "kill-processed %d + kill-unrecognized %d", processed, unrecognized)
	})

	t.Run("watch", func(t *testing.T) {
		first, err := os.ReadFile(filepath.Join("testdata", "run", "arf-01.eml"))
		require.NoError(t, err)
		srv.Append(t, "watch", first)
		list := filepath.Join(dir, "watch.csv")
		args := append([]string{"run", "--watch"}, imapArgs("watch")...)
		args = append(args, "--state", filepath.Join(dir, "watch.db"), "--out", list,
			"--processed-folder", "watch-processed", "--unrecognized-folder", "watch-unrecognized")
		w := startWatch(t, bouncerBinary(t), args...)
		waitListed(t, list, "redacted@example.net", 20*time.Second)
		// New mail arrives while the run waits in IDLE.
		start := time.Now()
		srv.Append(t, "watch", seedDSN(0, seedLines[0].addr, seedLines[0].status, seedLines[0].line))
		waitListed(t, list, seedLines[0].addr, 40*time.Second)
		t.Logf("new mail processed %v after its delivery", time.Since(start))
		// The list is written when the batch commits, before the message
		// is moved: wait for the move, then stop.
		n := 0
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if n, _ = srv.MailboxStatus(t, "watch-processed"); n == 2 {
				break
			}
		}
		w.stop(t)
		assert.Equal(t, 2, n, "watch-processed holds %d messages", n)
	})

	t.Run("bad password", func(t *testing.T) {
		pw := writeFile(t, filepath.Join(dir, "wrong"), "not-the-password")
		code, stdout, stderr := runBouncer(t, "run", "--imap", srv.URL("INBOX"), "--password-file", pw,
			"--ca-file", srv.CACertFile, "--state", filepath.Join(dir, "bad.db"))
		checkOneLineError(t, code, stdout, stderr, "bouncer: imap: login failed for bounce@127.0.0.1: ")
	})
}

// killAt runs bouncer with args as a separate process, slowed down, and
// kills it with SIGKILL once the state holds n messages. during, if set,
// runs before the kill.
func killAt(t *testing.T, args []string, state string, n int, during func()) {
	t.Helper()
	cmd := exec.Command(bouncerBinary(t), args...)
	cmd.Env = append(os.Environ(), slowEnv+"=20ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	recorded := waitRecorded(t, state, n, 30*time.Second)
	if during != nil {
		during()
	}
	select {
	case err := <-exited:
		exited <- err
		t.Fatalf("the run ended (%v) before it was killed, after %d messages:\n%s", err, recorded, &out)
	default:
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	t.Logf("killed after %d messages recorded", recorded)
}

// checkRecorded checks that the messages of mailbox (state key key,
// UIDVALIDITY v) with UIDs 1 to moved, the ones moved out of it, are all
// recorded in the state at path: nothing is moved before it is committed.
func checkRecorded(t *testing.T, path, key string, v uint32, moved int, when string) {
	t.Helper()
	ctx := context.Background()
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(t, err)
	defer db.Close()
	for uid := 1; uid <= moved; uid++ {
		_, ok, err := db.Lookup(ctx, &suppress.Message{Mailbox: key, UIDValidity: v, UID: uint32(uid)})
		assert.NoError(t, err, "%s: UID %d was moved but is not recorded (%v)", when, uid, err)
		assert.True(t, ok, "%s: UID %d was moved but is not recorded (%v)", when, uid, err)
	}
	t.Logf("%s: %d messages moved, all recorded", when, moved)
}

// waitRecorded waits until the state at path has at least n messages and
// returns how many it has.
func waitRecorded(t *testing.T, path string, n int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	// The run locks the state once it has opened (and created) it.
	for {
		if _, err := os.Stat(path + ".lock"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not take the state lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := context.Background()
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(t, err)
	defer db.Close()
	for {
		c, err := db.Counts(ctx)
		require.NoError(t, err)
		if c.Messages >= n {
			return c.Messages
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run recorded only %d messages in %v", c.Messages, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOneLineError checks a run that failed with one line on stderr
// starting with prefix.
func checkOneLineError(t *testing.T, code int, stdout, stderr, prefix string) {
	t.Helper()
	assert.Equal(t, exitError, code, "exit status %d", code)
	// The summary goes to stdout; stderr holds the error alone.
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr = %q, want one line starting with %q", stderr, prefix)
	assert.True(t, strings.HasPrefix(lines[0], prefix), "stderr = %q, want one line starting with %q", stderr, prefix)
	assert.NotContains(t, stderr, "goroutine ", "stderr has a stack trace: %s", stderr)
	assert.NotContains(t, stderr, "panic", "stderr has a stack trace: %s", stderr)
}

func TestRunUnreachable(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "secret")
	addr := freePort(t)
	start := time.Now()
	code, stdout, stderr := runBouncer(t, "run", "--imap", "imaps://bounce@"+addr+"/INBOX", "--password-file", pw,
		"--retries", "0", "--state", filepath.Join(dir, "s.db"))
	checkOneLineError(t, code, stdout, stderr, "bouncer: imap: cannot reach "+addr+": ")
	d := time.Since(start)
	assert.LessOrEqual(t, d, 10*time.Second, "took %v", d)
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "secret")
	t.Setenv(passwordEnv, "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no mailbox", []string{}, "no mailbox"},
		{"both", []string{"--imap", "imaps://u@h/INBOX", "--maildir", dir}, "not both"},
		{"no password", []string{"--imap", "imaps://u@h/INBOX"}, "no password"},
		{"password in URL", []string{"--imap", "imaps://u:p@h/INBOX", "--password-file", pw}, "bad --imap URL"},
		{"format", []string{"--maildir", dir, "--format", "xls"}, "unknown --format"},
		{"after", []string{"--maildir", dir, "--after", "archive"}, "unknown --after"},
		{"window", []string{"--maildir", dir, "--soft-window", "soon"}, "bad --soft-window"},
		{"plaintext with imaps", []string{"--imap", "imaps://u@h/INBOX", "--password-file", pw, "--insecure-plaintext"}, "imap:// URLs only"},
		{"no I/O timeout", []string{"--maildir", dir, "--io-timeout", "0"}, "--io-timeout must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runBouncer(t, append([]string{"run"}, tc.args...)...)
			assert.Equal(t, exitUsage, code, "run %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
			assert.Contains(t, stderr, tc.want, "run %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		})
	}
}

func TestRunEnvFallback(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	t.Setenv("BOUNCER_MAILDIR", md)
	t.Setenv("BOUNCER_STATE", filepath.Join(dir, "env.db"))
	t.Setenv("BOUNCER_OUT", filepath.Join(dir, "env.csv"))
	t.Setenv("BOUNCER_FORMAT", "plain")
	code, stdout, stderr := runBouncer(t, "run")
	require.Equal(t, exitOK, code, "run\n%s%s", stdout, stderr)
	b, err := os.ReadFile(filepath.Join(dir, "env.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "redacted@example.net\n", "list from $BOUNCER_* is not the plain list of the samples:\n%s", b)
	assert.NotContains(t, string(b), ",", "list from $BOUNCER_* is not the plain list of the samples:\n%s", b)
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"720h", 720 * time.Hour},
		{"1.5d", 36 * time.Hour},
	} {
		got, err := suppress.ParseDuration(tc.in)
		assert.NoError(t, err, "ParseDuration(%q)", tc.in)
		assert.Equal(t, tc.want, got, "ParseDuration(%q)", tc.in)
	}
	_, err := suppress.ParseDuration("soon")
	assert.Error(t, err, `ParseDuration("soon") succeeded`)
}
