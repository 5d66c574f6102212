//go:build unix

package suppress

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordSIGKILL kills a process with SIGKILL in the middle of a Record
// transaction (after the message row and one event were written): the
// reopened state must hold exactly the messages committed before.
func TestRecordSIGKILL(t *testing.T) {
	if path := os.Getenv("SUPPRESS_CRASH_STATE"); path != "" {
		crashChild(path)
		return
	}
	forEachStore(t, testRecordSIGKILL)
}

func testRecordSIGKILL(t *testing.T, newState func(*testing.T) string) {
	path := newState(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordSIGKILL$")
	cmd.Env = append(os.Environ(), "SUPPRESS_CRASH_STATE="+path)
	out, err := cmd.CombinedOutput()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok, "child: %v; output:\n%s", err, out)
	require.True(t, ws.Signaled(), "child: %v; output:\n%s", err, out)
	require.Equal(t, syscall.SIGKILL, ws.Signal(), "child: %v; output:\n%s", err, out)

	ctx := context.Background()
	db := openTest(t, path)
	msgs, evs := countRows(t, db)
	require.Equal(t, 1, msgs, "after SIGKILL: %d messages, %d events", msgs, evs)
	require.Equal(t, 2, evs, "after SIGKILL: %d messages, %d events", msgs, evs)
	res, err := db.Record(ctx, testMessage(1))
	assert.NoError(t, err, "Record(first) after SIGKILL")
	assert.True(t, res.Already, "Record(first) after SIGKILL")
	res, err = db.Record(ctx, testMessage(2))
	assert.NoError(t, err, "Record(second) after SIGKILL")
	assert.False(t, res.Already, "Record(second) after SIGKILL")
	assert.Equal(t, 2, res.Events, "Record(second) after SIGKILL")
	msgs, evs = countRows(t, db)
	assert.Equal(t, 2, msgs, "after resume: %d messages, %d events", msgs, evs)
	assert.Equal(t, 4, evs, "after resume: %d messages, %d events", msgs, evs)
}

// crashChild records one message, then dies by SIGKILL inside the
// transaction of the second.
func crashChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		os.Exit(2)
	}
	if _, err := db.Record(ctx, testMessage(1)); err != nil {
		os.Exit(2)
	}
	testHookEvent = func(i int) error {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // wait for the signal
	}
	db.Record(ctx, testMessage(2))
	os.Exit(2)
}
