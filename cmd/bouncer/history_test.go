package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/suppress"
)

// hardAddr is a demo address suppressed by a hard bounce (the Japanese
// sample); pendingAddr one with a single soft bounce (the Korean one).
const (
	hardAddr    = "taro@example.ne.jp"
	pendingAddr = "minsu@example.co.kr"
)

// newHardBounce is an RFC 3464 report of a hard bounce of addr dated at.
func newHardBounce(addr string, at time.Time) []byte {
	return []byte("From: MAILER-DAEMON@mx.example.net\r\nTo: bounce@lists.example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nDate: " + at.UTC().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <new-" + fmt.Sprint(at.Unix()) + "@mx.example.net>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; " + addr + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <" + addr + ">: Recipient address rejected: User unknown\r\n\r\n--b--\r\n")
}

// historyStates are the two stores the history commands are tested on.
func historyStates(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "s.db") },
		"postgres": func(t *testing.T) string { return pgtest.Shared(t).Database(t) },
	}
}

// bouncerOK runs bouncer with args, requires exit status 0, and returns
// stdout.
func bouncerOK(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "bouncer %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout, stderr)
	return stdout
}

func whyJSON(t *testing.T, state, addr string) suppress.AddressHistory {
	t.Helper()
	var hs []suppress.AddressHistory
	require.NoError(t, json.Unmarshal([]byte(bouncerOK(t, "why", addr, "--state", state, "--format", "json")), &hs))
	require.Len(t, hs, 1)
	return hs[0]
}

// TestHistoryCommands walks an operator through the history of a state on
// both stores: why, allow (and a rerun over the same messages, then a new
// bounce), stats, export --category pending, push --status, prune and
// forget.
func TestHistoryCommands(t *testing.T) {
	for name, newState := range historyStates(t) {
		t.Run(name, func(t *testing.T) {
			state := newState(t)
			dir := t.TempDir()
			md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
			list := filepath.Join(dir, "list.csv")
			runArgs := []string{"run", "--maildir", md, "--state", state, "--after", "none", "--unrecognized-folder", "", "--out", list}
			bouncerOK(t, runArgs...)
			require.Equal(t, "hard", readList(t, list)[hardAddr])

			// why: the evidence of the event.
			h := whyJSON(t, state, strings.ToUpper(hardAddr))
			assert.True(t, h.Suppressed)
			assert.Equal(t, suppress.RuleHard, h.Rule)
			require.Len(t, h.Events, 1)
			assert.NotEmpty(t, h.Events[0].Evidence)
			assert.NotEmpty(t, h.Events[0].RecipientFrom)
			assert.Equal(t, suppress.PlacedProcessed, h.Events[0].Source.Placed)
			out := bouncerOK(t, "why", "--state", state, "nobody@example.com")
			assert.Contains(t, out, "nobody@example.com: not in this state")
			code, _, stderr := runBouncer(t, "why", "--state", state, "not-an-address")
			assert.Equal(t, exitUsage, code, stderr)

			// allow: off every list, across a rerun over the same messages.
			code, _, _ = runBouncer(t, "allow", "--state", state, hardAddr)
			assert.Equal(t, exitUsage, code, "no --reason")
			out = bouncerOK(t, "allow", hardAddr, "--state", state, "--reason", "confirmed by phone")
			assert.Contains(t, out, "allowed "+hardAddr)
			bouncerOK(t, runArgs...)
			assert.NotContains(t, readList(t, list), hardAddr, "rerun after allow")
			assert.NotContains(t, exportRows(t, "--state", state), hardAddr)
			h = whyJSON(t, state, hardAddr)
			assert.True(t, h.Allowed)
			require.Len(t, h.Allows, 1)
			assert.Equal(t, "confirmed by phone", h.Allows[0].Reason)
			assert.NotEmpty(t, h.Allows[0].By)

			// A new hard bounce dated after the allow brings it back.
			require.NoError(t, os.WriteFile(filepath.Join(md, "new", "new-bounce.eml"), newHardBounce(hardAddr, time.Now().Add(time.Minute)), 0o600))
			bouncerOK(t, runArgs...)
			assert.Equal(t, "hard", readList(t, list)[hardAddr], "a new bounce after the allow")
			assert.False(t, whyJSON(t, state, hardAddr).Allowed)

			// stats and the pending soft bounces.
			var st suppress.StatsReport
			require.NoError(t, json.Unmarshal([]byte(bouncerOK(t, "stats", "--state", state, "--format", "json", "--by", "domain")), &st))
			assert.Equal(t, suppress.StatsByDomain, st.By)
			assert.Positive(t, st.Events)
			assert.Equal(t, len(readList(t, list)), st.Suppressed)
			assert.Contains(t, bouncerOK(t, "stats", "--state", state), "policy blocks by receiving domain")
			pending := bouncerOK(t, "export", "--state", state, "--category", "pending")
			assert.True(t, strings.HasPrefix(pending, strings.Join(suppress.PendingHeader, ",")+"\r\n"), pending)
			assert.Contains(t, pending, "\r\n"+pendingAddr+",1,1,3,3,")
			assert.Contains(t, bouncerOK(t, "push", "--status", "--state", state), "no push target")
			bouncerOK(t, "push", "--requeue-failed", "--state", state)

			// prune: the old events go, the list stays.
			before := bouncerOK(t, "export", "--state", state)
			var pr suppress.PruneReport
			require.NoError(t, json.Unmarshal([]byte(bouncerOK(t, "prune", "--state", state, "--older-than", "1d", "--format", "json")), &pr))
			assert.Positive(t, pr.Events, "the dated samples are years old")
			assert.Positive(t, pr.Summaries)
			assert.Equal(t, before, bouncerOK(t, "export", "--state", state), "prune changes no list")
			bouncerOK(t, runArgs...)
			assert.Equal(t, before, bouncerOK(t, "export", "--state", state), "nor does a rerun after it")

			// forget: nothing left.
			var rep suppress.ForgetReport
			require.NoError(t, json.Unmarshal([]byte(bouncerOK(t, "forget", hardAddr, "--state", state, "--format", "json")), &rep))
			assert.True(t, rep.Compacted, rep.Note)
			require.Len(t, rep.Addresses, 1)
			// The sample has no date: dated by its file, today, it is too
			// recent to prune; with the new bounce, two events.
			assert.Equal(t, 2, rep.Addresses[0].Events)
			assert.Equal(t, 1, rep.Addresses[0].Allows)
			assert.False(t, whyJSON(t, state, hardAddr).Known)
			assert.NotContains(t, exportRows(t, "--state", state), hardAddr)
			if !suppress.IsURL(state) {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					b, err := os.ReadFile(state + suffix)
					if err == nil {
						assert.False(t, bytes.Contains(b, []byte(hardAddr)), "%s in %s", hardAddr, state+suffix)
					}
				}
			}
		})
	}
}

// TestHistoryBesideWatch runs allow and forget while bouncer run --watch
// (another process) holds the state's run lock and goes on working: both
// succeed, and the watch keeps recording new mail.
func TestHistoryBesideWatch(t *testing.T) {
	bin := bouncerBinary(t)
	dir := t.TempDir()
	msgs := demoFiles(t)
	late := msgs["lhost-qmail-16.eml"]
	delete(msgs, "lhost-qmail-16.eml")
	md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	list := filepath.Join(dir, "list.csv")
	state := filepath.Join(dir, "s.db")
	w := startWatch(t, bin, "run", "--maildir", md, "--watch", "--poll", "50ms", "--state", state, "--out", list)
	waitListed(t, list, hardAddr, 20*time.Second)

	bouncerOK(t, "allow", "--state", state, complaintAddr, "--reason", "test")
	out := bouncerOK(t, "forget", "--state", state, hardAddr)
	assert.Contains(t, out, "erased bytes are gone")
	require.NoError(t, os.WriteFile(filepath.Join(md, "new", "late.eml"), late, 0o600))
	waitListed(t, list, userUnknownAddr, 20*time.Second)
	w.stop(t)

	got := exportRows(t, "--state", state)
	assert.NotContains(t, got, complaintAddr, "allowed")
	assert.NotContains(t, got, hardAddr, "forgotten")
	assert.Contains(t, got, userUnknownAddr, "recorded after")
}

func TestHistoryUsage(t *testing.T) {
	out := bouncerOK(t, "help")
	for _, c := range []string{"why", "allow", "forget", "stats", "prune", "push"} {
		assert.Contains(t, out, "\n  "+c+" ", "bouncer help lists %s", c)
		assert.Contains(t, bouncerOK(t, "help", c), "usage: bouncer "+c)
	}
	state := filepath.Join(t.TempDir(), "missing.db")
	for _, args := range [][]string{
		{"why", "--state", state, "a@example.com"},
		{"stats", "--state", state},
		{"forget", "--state", state, "a@example.com"},
	} {
		code, _, stderr := runBouncer(t, args...)
		assert.Equal(t, exitError, code, "%v", args)
		assert.Contains(t, stderr, "no state", "%v", args)
		_, err := os.Stat(state)
		assert.True(t, os.IsNotExist(err), "%v created the state", args)
	}
	for _, args := range [][]string{
		{"why"},
		{"stats", "--by", "week"},
		{"prune"},
		{"prune", "--older-than", "-3d"},
		{"push"},
		{"push", "--status", "--requeue-failed"},
		{"allow", "a@example.com", "--reason", "r", "--until", "someday"},
		{"why", "a@example.com", "--format", "xml"},
		{"export", "--category", "pending", "--format", "plain"},
	} {
		code, _, stderr := runBouncer(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
	}
}

// TestRunRetain: run --retain prunes the old events when a run starts,
// and the list stays the same.
func TestRunRetain(t *testing.T) {
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), demoFiles(t))
	state := filepath.Join(dir, "s.db")
	args := []string{"run", "--maildir", md, "--state", state, "--after", "none", "--unrecognized-folder", ""}
	bouncerOK(t, args...)
	before := bouncerOK(t, "export", "--state", state)
	out := bouncerOK(t, append(args, "--retain", "400d")...)
	assert.Contains(t, out, "(--retain)")
	assert.Equal(t, before, bouncerOK(t, "export", "--state", state))
	h := whyJSON(t, state, userUnknownAddr)
	assert.True(t, h.Suppressed)
	assert.NotNil(t, h.Pruned, "its event of 2013 was pruned into a summary")

	code, _, _ := runBouncer(t, append(args, "--retain", "soon")...)
	assert.Equal(t, exitUsage, code)
}

// TestPushStatusRequeue: push --status shows each target's queue and its
// last failure; --requeue-failed --target queues that target's failures
// again, and only those.
func TestPushStatusRequeue(t *testing.T) {
	for name, newState := range historyStates(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			state := newState(t)
			db, err := suppress.Open(ctx, state, nil)
			require.NoError(t, err)
			require.NoError(t, db.SetOutbox([]suppress.OutboxTarget{{Name: "listmonk=https://lists.example.org"}, {Name: "webhook=https://hook.example.org"}}))
			_, err = db.Record(ctx, &suppress.Message{Hash: suppress.Hash([]byte("m")), Date: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
				Events: []suppress.Event{{Address: "a@example.com", Reason: "userunknown"}}})
			require.NoError(t, err)
			for _, target := range []string{"listmonk=https://lists.example.org", "webhook=https://hook.example.org"} {
				due, err := db.Due(ctx, target, time.Now(), 10)
				require.NoError(t, err)
				require.Len(t, due, 1)
				require.NoError(t, db.MarkFailed(ctx, due[0].ID, time.Now(), fmt.Errorf("%s: 401 \x1b[31mbad token", target)))
			}
			require.NoError(t, db.Close())

			out := bouncerOK(t, "push", "--status", "--state", state)
			assert.Contains(t, out, "listmonk=https://lists.example.org: 0 pending (0 uncertain), 0 delivered, 1 failed\n")
			assert.Contains(t, out, "last failure: listmonk=https://lists.example.org: 401 [31mbad token\n", "control characters folded")
			out = bouncerOK(t, "push", "--requeue-failed", "--target", "webhook=https://hook.example.org", "--state", state)
			assert.Equal(t, "webhook=https://hook.example.org: 1 failed entries queued again, due at the next run\n", out)
			var ts []suppress.TargetStatus
			require.NoError(t, json.Unmarshal([]byte(bouncerOK(t, "push", "--status", "--state", state, "--format", "json")), &ts))
			assert.Equal(t, []suppress.TargetStatus{
				{Target: "listmonk=https://lists.example.org", Failed: 1, LastError: "listmonk=https://lists.example.org: 401 \x1b[31mbad token"},
				{Target: "webhook=https://hook.example.org", Pending: 1},
			}, ts)
			code, _, stderr := runBouncer(t, "push", "--requeue-failed", "--target", "nope", "--state", state)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, "no target")
		})
	}
}
