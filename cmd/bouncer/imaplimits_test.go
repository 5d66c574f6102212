package main

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/internal/faultproxy"
)

// stallWait bounds a run through a stalling proxy: far more than
// --io-timeout and its retries, far less than a hang.
const stallWait = 2 * time.Minute

// runBounded runs the command like runBouncer, failing the test if it
// does not end within stallWait.
func runBounded(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := runBouncer(t, args...)
		done <- result{code, stdout, stderr}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stderr
	case <-time.After(stallWait):
		t.Fatalf("run %q still running after %v", args, stallWait)
		return 0, "", ""
	}
}

// Issue 22 item 1: a server that goes silent in the middle of a message
// body costs --io-timeout, not the run. With --retries the run reconnects
// and finishes; without, it ends with an error and releases the state, so
// that the next run (cron's) goes on, and nothing is lost either way: the
// list is the whole one.
func TestRunStalledServer(t *testing.T) {
	srv := dovecottest.Start(t)
	samples := runSamples(t)
	var total int64
	for _, s := range samples {
		srv.Append(t, "stall0", s.data)
		srv.Append(t, "stall1", s.data)
		total += int64(len(s.data))
	}
	for _, retries := range []int{0, 1} {
		t.Run(fmt.Sprintf("retries %d", retries), func(t *testing.T) {
			mailbox := fmt.Sprintf("stall%d", retries)
			proxy := faultproxy.Stall(t, srv.Addr, total/2)
			dir := t.TempDir()
			list := filepath.Join(dir, "list.csv")
			args := []string{"run", "--imap", "imaps://" + srv.User + "@" + proxy.Addr + "/" + mailbox,
				"--password-file", srv.PasswordFile, "--ca-file", srv.CACertFile, "--state", filepath.Join(dir, "state.db"),
				"--out", list, "--io-timeout", "300ms", "--retries", fmt.Sprint(retries),
				"--processed-folder", mailbox + "-processed", "--unrecognized-folder", mailbox + "-unrecognized"}

			code, stdout, stderr := runBounded(t, args...)
			require.True(t, proxy.Stalled(), "the proxy never stalled")
			if retries == 0 {
				assert.Equal(t, exitError, code, "run through a stalled server\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
				assert.Contains(t, stderr, "I/O timeout", "the error does not say why")
				code, stdout, stderr = runBounded(t, args...)
			}
			require.Equal(t, exitOK, code, "run\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Equal(t, runWant, readList(t, list), "the list")
			left, _ := srv.MailboxStatus(t, mailbox)
			processed, _ := srv.MailboxStatus(t, mailbox+"-processed")
			unrecognized, _ := srv.MailboxStatus(t, mailbox+"-unrecognized")
			assert.Zero(t, left, "messages left in the mailbox")
			assert.Equal(t, len(samples), processed+unrecognized, "processed %d + unrecognized %d", processed, unrecognized)
		})
	}
}

// Issue 22 item 2: a server whose greeting never ends (512 MiB, before TLS)
// ends the run at once with an error naming the cap, not retried.
func TestRunHostileGreeting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	conns := make(chan struct{}, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- struct{}{}
			go func() {
				defer conn.Close()
				chunk := bytes.Repeat([]byte("x"), 64<<10)
				if _, err := conn.Write([]byte("* OK ")); err != nil {
					return
				}
				for i := 0; i < (512<<20)/len(chunk); i++ {
					if _, err := conn.Write(chunk); err != nil {
						return
					}
				}
			}()
		}
	}()
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "secret")
	code, stdout, stderr := runBounded(t, "run", "--imap", "imap://bounce@"+ln.Addr().String()+"/INBOX", "--password-file", pw,
		"--state", filepath.Join(dir, "s.db"))
	checkOneLineError(t, code, stdout, stderr, "bouncer: imap: "+ln.Addr().String()+" sent more than bouncer accepts")
	assert.Contains(t, stderr, "greeting longer than 8192 bytes")
	assert.Len(t, conns, 1, "retried")
	assert.False(t, strings.Contains(stderr, "retrying"), "retried: %s", stderr)
}
