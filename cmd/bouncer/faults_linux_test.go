package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips it when
// this process may not mount (not root, no CAP_SYS_ADMIN).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}

// fillDisk fills what is left of the disk mounted at disk with the file
// "filler".
func fillDisk(t *testing.T, disk string) {
	t.Helper()
	filler, err := os.Create(filepath.Join(disk, "filler"))
	require.NoError(t, err)
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	require.NoError(t, filler.Close())
}

// recorded returns the number of messages in the state at path.
func recorded(t *testing.T, path string) int {
	t.Helper()
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(t, err)
	defer db.Close()
	c, err := db.Counts(context.Background())
	require.NoError(t, err)
	return c.Messages
}

// TestRunSmallDisk runs bouncer with its state and its list on a 2 MiB
// tmpfs, over more bounces than fit: each run records what fits (the
// write-ahead log is checkpointed and truncated, so it never holds more
// than a batch), says the disk is full when it is, and never moves a
// message it has not recorded.
func TestRunSmallDisk(t *testing.T) {
	disk := smallDisk(t, 2<<20)
	const n = 6000
	msgs := make(map[string][]byte, n)
	for i := range n {
		addr := fmt.Sprintf("gone-%05d@example.net", i)
		msgs[fmt.Sprintf("%d.M%dP1.test", 1772447400+i, i)] = seedDSN(i%28, addr, "5.1.1", "550 5.1.1 No such user <"+addr+">")
	}
	md := newMaildir(t, filepath.Join(t.TempDir(), "Maildir"), msgs)
	state := filepath.Join(disk, "bouncer.db")
	args := []string{"run", "--maildir", md, "--state", state, "--out", filepath.Join(disk, "list.csv")}
	last, moved := 0, 0
	for run := 1; run <= 4; run++ {
		code, stdout, stderr := runBouncer(t, args...)
		got := recorded(t, state)
		moved = len(listDir(t, filepath.Join(md, ".bounces-processed", "new")))
		t.Logf("run %d: exit %d, %d recorded, %d moved; stderr %q", run, code, got, moved, stderr)
		assert.LessOrEqual(t, moved, got, "run %d moved a message it had not recorded", run)
		if code == exitOK {
			assert.Equal(t, n, got)
			return
		}
		require.Equal(t, exitError, code, "run %d:\n%s%s", run, stdout, stderr)
		assert.Contains(t, stderr, "bouncer: disk full", "run %d names the real cause", run)
		assert.NotContains(t, stderr, "unable to open database file")
		if run == 1 {
			assert.Greater(t, got, 1000, "the first run records far more than a batch before the disk is full")
		}
		if got == last {
			break // truly full: nothing more fits, and the run said so
		}
		last = got
	}
	// Space given: the next run goes on where the last one stopped.
	require.NoError(t, syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT, "size=16m"))
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Equal(t, n, recorded(t, state))
	// What was left in the Maildir is read again; what was recorded and not
	// yet moved (a commit just before the disk filled) is known already.
	assert.Contains(t, stdout, fmt.Sprintf("messages: %d read", n-moved))
	assert.Empty(t, listDir(t, filepath.Join(md, "new")))
	list, err := os.ReadFile(filepath.Join(disk, "list.csv"))
	require.NoError(t, err)
	assert.Equal(t, n+1, strings.Count(string(list), "\n"), "every address listed once, with the header")
}

// TestRunReadOnlyState runs bouncer on a state that cannot be written (a
// read-only filesystem: as root, file modes do not stop a write): the
// message says so, in one line, and nothing is moved.
func TestRunReadOnlyState(t *testing.T) {
	disk := smallDisk(t, 8<<20)
	md := newMaildir(t, filepath.Join(t.TempDir(), "Maildir"), demoFiles(t))
	state := filepath.Join(disk, "bouncer.db")
	code, stdout, stderr := runBouncer(t, "run", "--maildir", md, "--state", state, "--after", "none")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	require.NoError(t, syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
	for _, extra := range []string{"", "new.db"} {
		path := state
		if extra != "" {
			path = filepath.Join(disk, extra)
		}
		code, stdout, stderr = runBouncer(t, "run", "--maildir", md, "--state", path)
		checkOneLineError(t, code, stdout, stderr, "bouncer: ")
		assert.Contains(t, stderr, "read-only", "state %s", path)
		assert.Contains(t, stderr, "is not writable", "the cause, not only SQLite's code")
		assert.NotEmpty(t, listDir(t, filepath.Join(md, "new")), "nothing is moved")
	}
}

// TestRunPasswordWarnings checks that a password others may read is
// warned of: a password file readable by others, the password in the
// environment.
func TestRunPasswordWarnings(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "secret")
	require.NoError(t, os.Chmod(pw, 0o644))
	base := []string{"run", "--imap", "imaps://bounce@" + freePort(t) + "/INBOX", "--retries", "0", "--state", filepath.Join(dir, "s.db")}
	_, _, stderr := runBouncer(t, append(base, "--password-file", pw)...)
	assert.Contains(t, stderr, "bouncer: warning: "+pw+" is readable by others (mode 0644)")

	t.Setenv(passwordEnv, "secret")
	_, _, stderr = runBouncer(t, base...)
	assert.Contains(t, stderr, "bouncer: warning: the password is read from $"+passwordEnv)

	require.NoError(t, os.Chmod(pw, 0o600))
	_, _, stderr = runBouncer(t, append(base, "--password-file", pw)...)
	assert.NotContains(t, stderr, "warning")
}

// TestIngestDiskFull: an ingest whose state is on a full disk gives the
// message back to the MTA (exit 75, "disk full"), records none of it, and
// records it whole when the MTA delivers it again once there is space.
func TestIngestDiskFull(t *testing.T) {
	disk := smallDisk(t, 1<<20)
	state := filepath.Join(disk, "state.db")
	list := filepath.Join(disk, "list.csv")
	code, stderr := ingest(t, bytes.NewReader(seedDSN(1, "first@example.net", "5.1.1", "550 5.1.1 user unknown")), "--state", state, "--out", list)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)

	fillDisk(t, disk)

	msg := manyRecipients(2000, "full.example.net")
	code, stderr = ingest(t, bytes.NewReader(msg), "--state", state, "--out", list, "--max-suppress-per-message", "-1")
	assert.Equal(t, runjob.ExitTempFail, code, "stderr: %s", stderr)
	assert.Contains(t, stderr, "disk full")
	assert.Contains(t, stderr, "not recorded")
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)

	// The MTA delivers it again once there is space: recorded whole.
	require.NoError(t, os.Remove(filepath.Join(disk, "filler")))
	require.NoError(t, syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT, "size=16m"))
	code, stderr = ingest(t, bytes.NewReader(msg), "--state", state, "--out", list, "--max-suppress-per-message", "-1")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	c := stateCounts(t, state)
	assert.Equal(t, 2, c.Messages)
	assert.Equal(t, 2001, c.ByCategory[classify.CategoryHard])
}

// TestIngestKeepDiskFull: with --keep-unrecognized on a full disk, an
// unrecognized message is recorded but its copy cannot be kept: ingest
// gives it back to the MTA (75, one line saying so), and when the MTA
// delivers it again, known by its hash, it is kept whole.
func TestIngestKeepDiskFull(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	disk := smallDisk(t, 2<<20)
	keep := filepath.Join(disk, "unrecognized")
	reply := []byte("From: reader@example.com\r\nSubject: Re: news\r\n\r\n" + strings.Repeat("Please take me off the list.\r\n", 20000))
	fillDisk(t, disk)

	code, stderr := ingest(t, bytes.NewReader(reply), "--state", state, "--keep-unrecognized", keep)
	assert.Equal(t, runjob.ExitTempFail, code, "stderr: %s", stderr)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, "no copy was kept")
	assert.Equal(t, 1, recorded(t, state), "recorded all the same")
	if tmp, err := os.ReadDir(filepath.Join(keep, "tmp")); err == nil {
		assert.Empty(t, tmp, "no partial copy left in tmp")
	}

	require.NoError(t, os.Remove(filepath.Join(disk, "filler")))
	code, stderr = ingest(t, bytes.NewReader(reply), "--state", state, "--keep-unrecognized", keep)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	entries, err := os.ReadDir(filepath.Join(keep, "new"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	b, err := os.ReadFile(filepath.Join(keep, "new", entries[0].Name()))
	require.NoError(t, err)
	assert.Equal(t, reply, b)
	assert.Equal(t, 1, recorded(t, state))
}
