package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingest runs bouncer ingest in-process with stdin and returns its exit
// status and standard error.
func ingest(t *testing.T, stdin io.Reader, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"ingest"}, args...), stdin, &stdout, &stderr)
	assert.Empty(t, stdout.String(), "ingest writes nothing on stdout (an MTA may mail it back)")
	return code, stderr.String()
}

// stateCounts opens the state at path and returns its counts.
func stateCounts(t *testing.T, path string) suppress.Counts {
	t.Helper()
	ctx := context.Background()
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(t, err)
	defer db.Close()
	c, err := db.Counts(ctx)
	require.NoError(t, err)
	return c
}

// failingReader hands over some bytes, then fails: a pipe cut by the MTA.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("read |0: input/output error")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestIngest(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	list := filepath.Join(dir, "list.csv")
	bounce := seedDSN(1, "ingest-gone@example.net", "5.1.1", "550 5.1.1 user unknown")

	t.Run("a bounce is recorded and listed", func(t *testing.T) {
		code, stderr := ingest(t, bytes.NewReader(bounce), "--state", state, "--out", list)
		require.Equal(t, exitOK, code, "stderr: %s", stderr)
		assert.Empty(t, stderr)
		assert.Equal(t, "hard", readList(t, list)["ingest-gone@example.net"])
		c := stateCounts(t, state)
		assert.Equal(t, 1, c.Messages)
		assert.Equal(t, 1, c.ByCategory[classify.CategoryHard])
	})
	t.Run("the same message again is known by its hash", func(t *testing.T) {
		code, stderr := ingest(t, bytes.NewReader(bounce), "--state", state, "--out", list)
		require.Equal(t, exitOK, code, "stderr: %s", stderr)
		assert.Equal(t, 1, stateCounts(t, state).Messages)
	})
	t.Run("a message that is no bounce is recorded as unrecognized, not given back", func(t *testing.T) {
		for _, junk := range []string{"", "\x00\xff garbage without a header\n", "Subject: hello\n\nJust mail.\n"} {
			code, stderr := ingest(t, strings.NewReader(junk), "--state", state)
			assert.Equal(t, exitOK, code, "%q: stderr: %s", junk, stderr)
		}
		c := stateCounts(t, state)
		assert.Equal(t, 4, c.Messages)
		assert.Equal(t, 3, c.ByOutcome[suppress.OutcomeUnrecognized]+c.ByOutcome[suppress.OutcomeNotBounce],
			"outcomes %v", c.ByOutcome)
	})
	t.Run("a cut input is given back", func(t *testing.T) {
		other := seedDSN(2, "ingest-cut@example.net", "5.1.1", "550 5.1.1 user unknown")
		code, stderr := ingest(t, &failingReader{data: other[:200]}, "--state", state)
		assert.Equal(t, runjob.ExitTempFail, code, "stderr: %s", stderr)
		assert.Contains(t, stderr, "not recorded")
		assert.Equal(t, 4, stateCounts(t, state).Messages, "a cut message is not recorded")
	})
	t.Run("a locked state is given back, then taken when free", func(t *testing.T) {
		ctx := context.Background()
		db, err := suppress.Open(ctx, state, nil)
		require.NoError(t, err)
		require.NoError(t, db.Lock())
		other := seedDSN(3, "ingest-locked@example.net", "5.1.1", "550 5.1.1 user unknown")
		code, stderr := ingest(t, bytes.NewReader(other), "--state", state, "--lock-wait", "50ms")
		assert.Equal(t, runjob.ExitTempFail, code, "stderr: %s", stderr)
		assert.Contains(t, stderr, "locked")
		require.NoError(t, db.Close())
		code, stderr = ingest(t, bytes.NewReader(other), "--state", state, "--lock-wait", "50ms")
		assert.Equal(t, exitOK, code, "stderr: %s", stderr)
		assert.Equal(t, 5, stateCounts(t, state).Messages)
	})
	t.Run("a bad command line keeps the message with the MTA", func(t *testing.T) {
		for _, args := range [][]string{{"--state", state, "--bogus"}, {}, {"--state", state, "--push", "listmonk=http://x"}} {
			code, stderr := ingest(t, bytes.NewReader(bounce), args...)
			assert.Equal(t, runjob.ExitTempFail, code, "%q: stderr: %s", args, stderr)
		}
	})
	t.Run("an unreachable state is given back", func(t *testing.T) {
		code, stderr := ingest(t, bytes.NewReader(bounce), "--state", "postgres://bouncer@"+freePort(t)+"/bouncer?connect_timeout=2")
		assert.Equal(t, runjob.ExitTempFail, code, "stderr: %s", stderr)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	})
}

// TestIngestKeepUnrecognized: with --keep-unrecognized, a message
// recorded as unrecognized (not a bounce, a flood over the cap) is kept
// whole in a Maildir for a human, once however often the MTA delivers
// it; a bounce is not kept. (TestIngestKeepDiskFull: a copy that cannot
// be kept.)
func TestIngestKeepUnrecognized(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	keep := filepath.Join(dir, "unrecognized")
	kept := func() map[string][]byte {
		out := map[string][]byte{}
		for _, sub := range []string{"new", "cur"} {
			entries, err := os.ReadDir(filepath.Join(keep, sub))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			require.NoError(t, err)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(keep, sub, e.Name()))
				require.NoError(t, err)
				out[sub+"/"+e.Name()] = b
			}
		}
		return out
	}

	reply := []byte("From: reader@example.com\r\nSubject: Re: news\r\n\r\nPlease take me off the list.\r\n")
	code, stderr := ingest(t, bytes.NewReader(reply), "--state", state, "--keep-unrecognized", keep)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	got := kept()
	require.Len(t, got, 1, "a reply to the bounce address is kept for a human")
	for name, b := range got {
		assert.True(t, strings.HasPrefix(name, "new/"), name)
		assert.Equal(t, reply, b, "kept byte for byte")
		fi, err := os.Stat(filepath.Join(keep, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "it holds other people's mail")
	}
	fi, err := os.Stat(keep)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	tmp, err := os.ReadDir(filepath.Join(keep, "tmp"))
	require.NoError(t, err)
	assert.Empty(t, tmp, "nothing left in tmp")

	// Delivered again (and read by a human meanwhile): still one copy.
	for name := range got {
		require.NoError(t, os.Rename(filepath.Join(keep, name), filepath.Join(keep, "cur", filepath.Base(name)+":2,S")))
	}
	code, stderr = ingest(t, bytes.NewReader(reply), "--state", state, "--keep-unrecognized", keep)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Len(t, kept(), 1)

	// A bounce is recorded, not kept.
	code, stderr = ingest(t, bytes.NewReader(seedDSN(1, "kept-gone@example.net", "5.1.1", "550 5.1.1 user unknown")), "--state", state, "--keep-unrecognized", keep)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Len(t, kept(), 1)

	// A forged flood over the cap suppresses no one and is kept whole.
	flood := manyRecipients(150, "flood.example.net")
	code, stderr = ingest(t, bytes.NewReader(flood), "--state", state, "--keep-unrecognized", keep)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	got = kept()
	require.Len(t, got, 2)
	found := false
	for _, b := range got {
		found = found || bytes.Equal(b, flood)
	}
	assert.True(t, found, "the flood is kept byte for byte")
}

// TestIngestConcurrent delivers 20 messages at once into one SQLite state,
// each by its own bouncer ingest process, as an MTA does: each exits 0 or
// 75, a 75 is delivered again until it exits 0, and then every message is
// recorded once.
func TestIngestConcurrent(t *testing.T) {
	const (
		n        = 20
		maxTries = 200
	)
	bin := bouncerBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		tempfail int
	)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			msg := seedDSN(i, fmt.Sprintf("concurrent-%02d@example.net", i), "5.1.1", "550 5.1.1 user unknown")
			for try := 0; try < maxTries; try++ {
				// A short wait for the lock makes some of them give the
				// message back, as an MTA's busiest hour would.
				cmd := exec.Command(bin, "ingest", "--state", state, "--lock-wait", "300ms")
				cmd.Stdin = bytes.NewReader(msg)
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				switch {
				case err == nil:
					return
				case errors.As(err, &ee) && ee.ExitCode() == runjob.ExitTempFail:
					mu.Lock()
					tempfail++
					mu.Unlock()
				default:
					errs[i] = fmt.Errorf("delivery %d: %v: %s", i, err, out)
					return
				}
			}
			errs[i] = fmt.Errorf("delivery %d: still 75 after %d tries", i, maxTries)
		})
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	t.Logf("%d deliveries given back with 75 and delivered again", tempfail)
	c := stateCounts(t, state)
	assert.Equal(t, n, c.Messages, "every message recorded once")
	assert.Equal(t, n, c.ByCategory[classify.CategoryHard])
	ctx := context.Background()
	db, err := suppress.Open(ctx, state, nil)
	require.NoError(t, err)
	defer db.Close()
	lists, err := db.Lists(ctx, nil, nil)
	require.NoError(t, err)
	assert.Len(t, lists.Suppressed, n)
}

// TestIngestPush: ingest --push queues the events and delivers what is
// due; a delivery that fails waits for the next ingest. The subscriber and
// campaign UUIDs listmonk wrote into the returned original go with the
// bounce.
func TestIngestPush(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	secrets := writeFile(t, filepath.Join(dir, "push-secrets"), "listmonk bouncer-api:s3cret\n")
	const (
		sub      = "00000000-0000-4000-8000-000000000001" // the stand-in's subscriber
		campaign = "0e9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c"
	)
	tagged := func(i int, addr string) []byte {
		msg := seedDSN(i, addr, "5.1.1", "550 5.1.1 user unknown")
		return bytes.Replace(msg, []byte("Subject: Our newsletter\n"),
			[]byte("Subject: Our newsletter\nX-Listmonk-Subscriber: "+sub+"\nX-Listmonk-Campaign: "+campaign+"\n"), 1)
	}
	addr := freePort(t)
	push := []string{"--state", state, "--push", "listmonk=http://" + addr, "--push-secret-file", secrets}

	// listmonk is down: recorded all the same, the push waits.
	code, stderr := ingest(t, bytes.NewReader(tagged(1, "first@example.net")), push...)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Contains(t, stderr, "recorded;", "the failed push is told")

	// listmonk is up: the next ingest delivers its own event; the first
	// one is due again after its backoff (push.DefaultMinBackoff), for a
	// later ingest.
	lm := &listmonkContract{auth: "token bouncer-api:s3cret", accepted: map[string][]string{}, ids: map[string]int{},
		uuids: map[string][]string{}}
	lm.Server = httptest.NewUnstartedServer(http.HandlerFunc(lm.serve))
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	lm.Listener = l
	lm.Start()
	t.Cleanup(lm.Close)
	code, stderr = ingest(t, bytes.NewReader(tagged(2, "second@example.net")), push...)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	acc, _, violations := lm.snapshot()
	assert.Empty(t, violations)
	assert.Equal(t, map[string][]string{"second@example.net": {"hard"}}, acc)
	db, err := suppress.Open(context.Background(), state, nil)
	require.NoError(t, err)
	defer db.Close()
	pending, err := db.Outbox(context.Background(), "listmonk=http://"+addr, suppress.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "first@example.net", pending[0].Event.Address)
	assert.Equal(t, 1, pending[0].Attempts)
	lm.mu.Lock()
	assert.Equal(t, []string{sub, campaign}, lm.uuids["second@example.net"])
	lm.mu.Unlock()
}

// manyRecipients is a report of n failed recipients of domain: a message
// whose record needs far more than a page of the disk.
func manyRecipients(n int, domain string) []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: bounce@lists.example.org\r\nSubject: Undelivered Mail\r\n" +
		"Date: Mon, 02 Mar 2026 10:30:00 +0000\r\nMessage-ID: <many-" + domain + "@mx.example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n")
	for i := range n {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; user%05d@%s\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
			"Diagnostic-Code: smtp; 550 5.1.1 <user%05d@%s>: Recipient address rejected: User unknown in virtual mailbox table\r\n", i, domain, i, domain)
	}
	b.WriteString("\r\n--b--\r\n")
	return []byte(b.String())
}
