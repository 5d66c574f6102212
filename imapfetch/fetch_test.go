package imapfetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestFetchMoves(t *testing.T) {
	tests := []struct {
		name     string
		caps     imap.CapSet
		wantMove bool
	}{
		{name: "IMAP4rev2 with MOVE and UIDPLUS", caps: capsRev2, wantMove: true},
		{name: "IMAP4rev1 only, COPY fallback", caps: capsRev1, wantMove: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, tc.caps)
			const n = 7
			for i := 0; i < n; i++ {
				srv.append(t, "INBOX", testMessage(i, 0))
			}
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "bounces-processed"
			opts.UnrecognizedMailbox = "bounces-unrecognized"
			opts.BatchSize = 3
			f := dialTest(t, srv.url("INBOX"), opts)
			if got := f.sess.caps.Has(imap.CapMove); got != tc.wantMove {
				t.Fatalf("server MOVE capability = %v, want %v", got, tc.wantMove)
			}
			if got := f.sess.caps.Has(imap.CapUIDPlus); got != tc.wantMove {
				t.Fatalf("server UIDPLUS capability = %v, want %v", got, tc.wantMove)
			}

			rec := newRecorder()
			state := &MemState{}
			st, err := f.Fetch(context.Background(), state, rec.handle)
			if err != nil {
				t.Fatalf("Fetch() = %v", err)
			}
			rec.checkOnce(t, n)
			if st.Fetched != n || st.Processed != 4 || st.Unrecognized != 3 {
				t.Errorf("Stats = %+v, want 7 fetched, 4 processed, 3 unrecognized", st)
			}
			for mailbox, want := range map[string]int{"INBOX": 0, "bounces-processed": 4, "bounces-unrecognized": 3} {
				if got := srv.count(t, mailbox); got != want {
					t.Errorf("%s holds %d messages, want %d", mailbox, got, want)
				}
			}
			if _, last, _ := state.Load(context.Background(), "INBOX"); last != n {
				t.Errorf("state last UID = %d, want %d", last, n)
			}

			// A second pass finds nothing.
			st, err = f.Fetch(context.Background(), state, rec.handle)
			if err != nil || st.Fetched != 0 {
				t.Errorf("second Fetch() = %+v, %v; want nothing fetched", st, err)
			}
		})
	}
}

func TestFetchIncrementalFlag(t *testing.T) {
	srv := startMem(t, capsRev2)
	for i := 0; i < 3; i++ {
		srv.append(t, "INBOX", testMessage(2*i, 0))
	}
	opts := testOptions(t, testPassword)
	opts.Action = ActionFlag
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	state := &MemState{}
	if _, err := f.Fetch(context.Background(), state, rec.handle); err != nil {
		t.Fatal(err)
	}
	srv.append(t, "INBOX", testMessage(6, 0), testMessage(8, 0))
	st, err := f.Fetch(context.Background(), state, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fetched != 2 {
		t.Errorf("second Fetch fetched %d, want only the 2 new messages", st.Fetched)
	}
	if len(rec.messages) != 5 || rec.messages[3].UID != 4 || rec.messages[4].UID != 5 {
		t.Errorf("handler saw %d messages, want 5 with UIDs 1..5", len(rec.messages))
	}
	if srv.count(t, "INBOX") != 5 {
		t.Errorf("INBOX holds %d messages, want 5 (flagged, not moved)", srv.count(t, "INBOX"))
	}
	// Every message carries \Seen and the keyword.
	data, err := f.sess.c.UIDSearch(&imapSearchUnflagged, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if uids := data.AllUIDs(); len(uids) != 0 {
		t.Errorf("messages without \\Seen or %s: %v", DefaultKeyword, uids)
	}
}

func TestFetchUIDValidityChange(t *testing.T) {
	srv := startMem(t, capsRev2)
	if err := srv.user.Create("bounces", nil); err != nil {
		t.Fatal(err)
	}
	srv.append(t, "bounces", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0))
	opts := testOptions(t, testPassword)
	rec := newRecorder()
	state := &MemState{}
	f := dialTest(t, srv.url("bounces"), opts)
	if _, err := f.Fetch(context.Background(), state, rec.handle); err != nil {
		t.Fatal(err)
	}
	oldValidity, last, _ := state.Load(context.Background(), "bounces")
	if last != 3 {
		t.Fatalf("last UID = %d, want 3", last)
	}
	f.Close()

	// Re-create the mailbox: new UIDVALIDITY, UIDs start at 1 again.
	if err := srv.user.Delete("bounces"); err != nil {
		t.Fatal(err)
	}
	if err := srv.user.Create("bounces", nil); err != nil {
		t.Fatal(err)
	}
	srv.append(t, "bounces", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0), testMessage(6, 0))

	f = dialTest(t, srv.url("bounces"), opts)
	st, err := f.Fetch(context.Background(), state, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if st.Resets != 1 || st.Fetched != 4 {
		t.Errorf("Stats = %+v, want 1 reset and all 4 messages fetched again", st)
	}
	newValidity, last, _ := state.Load(context.Background(), "bounces")
	if newValidity == oldValidity || last != 4 {
		t.Errorf("state = (%d, %d), want a new UIDVALIDITY (old %d) and last UID 4", newValidity, last, oldValidity)
	}
	// The idempotent handler saw the first three twice.
	if rec.committed["<m0@test>"] != 2 || rec.committed["<m6@test>"] != 1 {
		t.Errorf("commits = %v", rec.committed)
	}
}

func TestHandlerErrorKeepsMessage(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		name          string
		failedMailbox string
		wantErr       error
		wantInbox     int
		wantFailed    int // -1: mailbox absent
		wantLastUID   uint32
	}{
		{name: "no failed mailbox stops and leaves it", wantErr: ErrHandler, wantInbox: 3, wantFailed: -1, wantLastUID: 1},
		{name: "failed mailbox receives it", failedMailbox: "bounces-failed", wantInbox: 0, wantFailed: 1, wantLastUID: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev1)
			srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0), testMessage(6, 0))
			opts := testOptions(t, testPassword)
			opts.Action = ActionDelete
			opts.FailedMailbox = tc.failedMailbox
			f := dialTest(t, srv.url("INBOX"), opts)
			rec := newRecorder()
			rec.fail = func(id string) error {
				if id == "<m2@test>" {
					return boom
				}
				return nil
			}
			state := &MemState{}
			_, err := f.Fetch(context.Background(), state, rec.handle)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Fetch() = %v, want %v", err, tc.wantErr)
			}
			if err != nil && (!strings.HasPrefix(err.Error(), "imapfetch: ") || !strings.Contains(err.Error(), boom.Error())) {
				t.Errorf("error text %q: want the imapfetch: prefix and the cause", err)
			}
			if got := srv.count(t, "INBOX"); got != tc.wantInbox {
				t.Errorf("INBOX holds %d, want %d", got, tc.wantInbox)
			}
			if got := srv.count(t, "bounces-failed"); got != tc.wantFailed {
				t.Errorf("bounces-failed holds %d, want %d", got, tc.wantFailed)
			}
			if _, last, _ := state.Load(context.Background(), "INBOX"); last != tc.wantLastUID {
				t.Errorf("last UID = %d, want %d", last, tc.wantLastUID)
			}
		})
	}
}

func TestInvalidOutcomeIsAnError(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0))
	opts := testOptions(t, testPassword)
	opts.Action = ActionDelete
	f := dialTest(t, srv.url("INBOX"), opts)
	_, err := f.Fetch(context.Background(), &MemState{}, func(context.Context, *Message) (Outcome, error) {
		return 0, nil
	})
	if !errors.Is(err, ErrHandler) {
		t.Errorf("Fetch() = %v, want ErrHandler", err)
	}
	if srv.count(t, "INBOX") != 1 {
		t.Error("message deleted after a handler returned no outcome")
	}
}

func TestTruncation(t *testing.T) {
	srv := startMem(t, capsRev2)
	small := testMessage(0, 10)
	big := testMessage(2, 5000)
	srv.append(t, "INBOX", small, big)
	opts := testOptions(t, testPassword)
	opts.MaxMessageBytes = 1000
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	st, err := f.Fetch(context.Background(), &MemState{}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if st.Truncated != 1 {
		t.Errorf("Stats.Truncated = %d, want 1", st.Truncated)
	}
	tests := []struct {
		id            string
		wantSize      int64
		wantBody      []byte
		wantTruncated bool
	}{
		{"<m0@test>", int64(len(small)), small, false},
		{"<m2@test>", int64(len(big)), big[:1000], true},
	}
	for i, tc := range tests {
		m := rec.messages[i]
		if m.Size != tc.wantSize || m.Truncated != tc.wantTruncated {
			t.Errorf("message %s: Size %d Truncated %v, want %d %v", tc.id, m.Size, m.Truncated, tc.wantSize, tc.wantTruncated)
		}
		if got := rec.bodies[tc.id]; string(got) != string(tc.wantBody) {
			t.Errorf("message %s: body of %d bytes, want %d", tc.id, len(got), len(tc.wantBody))
		}
	}
}

func TestWatch(t *testing.T) {
	tests := []struct {
		name   string
		noIdle bool
	}{
		{name: "IDLE"},
		{name: "NOOP polling", noIdle: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev2)
			srv.append(t, "INBOX", testMessage(0, 0))
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			opts.PollInterval = 20 * time.Millisecond
			f := dialTest(t, srv.url("INBOX"), opts)
			f.noIdle = tc.noIdle

			seen := make(chan string, 10)
			rec := newRecorder()
			rec.hook = func(n int) { seen <- fmt.Sprint(n) }
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.Watch(ctx, &MemState{}, rec.handle) }()

			wait := func(what string) {
				t.Helper()
				select {
				case <-seen:
				case err := <-done:
					t.Fatalf("Watch returned %v while waiting for %s", err, what)
				case <-time.After(5 * time.Second):
					t.Fatalf("timeout waiting for %s", what)
				}
			}
			wait("the first message")
			srv.append(t, "INBOX", testMessage(2, 0))
			wait("a message appended while watching")
			// The move follows the commit: wait for it.
			for deadline := time.Now().Add(5 * time.Second); srv.count(t, "done") != 2 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Watch() after cancel = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Watch did not return after cancel")
			}
			if len(rec.committed) != 2 || rec.committed["<m0@test>"] != 1 || rec.committed["<m2@test>"] != 1 {
				t.Errorf("commits = %v, want m0 and m2 once each", rec.committed)
			}
			if got := srv.count(t, "done"); got != 2 {
				t.Errorf("done holds %d messages, want 2", got)
			}
		})
	}
}

// A pass that ended cleanly must not leak into the next one: a fresh
// State means everything is fetched again.
func TestFetchFreshStateRefetches(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0))
	f := dialTest(t, srv.url("INBOX"), testOptions(t, testPassword))
	for i := 0; i < 2; i++ {
		st, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
		if err != nil || st.Fetched != 2 {
			t.Errorf("Fetch() #%d with a fresh State = %+v, %v; want 2 fetched", i+1, st, err)
		}
	}
}

// A message expunged by someone else between the listing and its fetch is
// gone: the pass goes on past it.
func TestFetchMessageExpungedMeanwhile(t *testing.T) {
	srv := startMem(t, capsRev2)
	srv.append(t, "INBOX", testMessage(0, 0), testMessage(2, 0), testMessage(4, 0))
	other, err := imapclient.DialInsecure(srv.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	opts := testOptions(t, testPassword)
	opts.BatchSize = 1
	f := dialTest(t, srv.url("INBOX"), opts)
	rec := newRecorder()
	rec.hook = func(n int) {
		if n == 1 {
			uid2 := imap.UIDSetNum(2)
			if err := other.Store(uid2, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				t.Error(err)
			}
			if err := other.UIDExpunge(uid2).Close(); err != nil {
				t.Error(err)
			}
		}
	}
	state := &MemState{}
	st, err := f.Fetch(context.Background(), state, rec.handle)
	if err != nil || st.Fetched != 2 {
		t.Fatalf("Fetch() = %+v, %v; want 2 fetched", st, err)
	}
	if rec.committed["<m2@test>"] != 0 || rec.committed["<m4@test>"] != 1 {
		t.Errorf("commits = %v, want m0 and m4", rec.committed)
	}
	if _, last, _ := state.Load(context.Background(), "INBOX"); last != 3 {
		t.Errorf("last UID = %d, want 3", last)
	}
}
