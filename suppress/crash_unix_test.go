//go:build unix

package suppress

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
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
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child = %v, want killed by SIGKILL; output:\n%s", err, out)
	}

	ctx := context.Background()
	db := openTest(t, path)
	if msgs, evs := countRows(t, db); msgs != 1 || evs != 2 {
		t.Fatalf("after SIGKILL: %d messages, %d events, want 1, 2 (the first message only)", msgs, evs)
	}
	if res, err := db.Record(ctx, testMessage(1)); err != nil || !res.Already {
		t.Errorf("Record(first) after SIGKILL = %+v, %v, want Already", res, err)
	}
	if res, err := db.Record(ctx, testMessage(2)); err != nil || res.Already || res.Events != 2 {
		t.Errorf("Record(second) after SIGKILL = %+v, %v, want recorded with 2 events", res, err)
	}
	if msgs, evs := countRows(t, db); msgs != 2 || evs != 4 {
		t.Errorf("after resume: %d messages, %d events, want 2, 4", msgs, evs)
	}
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
