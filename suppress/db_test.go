package suppress

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

func openTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testMessage is a bounce with two recipients, one hard and one soft.
func testMessage(uid uint32) *Message {
	return &Message{
		Mailbox:     "INBOX",
		UIDValidity: 7,
		UID:         uid,
		Hash:        Hash([]byte(fmt.Sprintf("message %d", uid))),
		MessageID:   fmt.Sprintf("<bounce-%d@mx.example>", uid),
		Source:      "imap",
		Date:        day(int(uid), 0),
		Events: []Event{
			{Address: "<Gone@Example.COM>", Reason: classify.ReasonUserUnknown, Status: "5.1.1", ReplyCode: "550",
				Diagnostic: "550 5.1.1 user unknown", Date: day(int(uid), 1), MessageID: "<orig@list.example>", Source: "rfc3464"},
			{Address: "full@example.com", Reason: classify.ReasonMailboxFull, Status: "4.2.2", Source: "rfc3464"},
		},
	}
}

func countRows(t *testing.T, db *DB) (messages, events int) {
	t.Helper()
	if err := db.sql.QueryRow("SELECT count(*) FROM messages").Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRow("SELECT count(*) FROM events").Scan(&events); err != nil {
		t.Fatal(err)
	}
	return messages, events
}

func TestOpenMigratesEmpty(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion = %d, but there are %d migration steps", SchemaVersion, len(migrations))
	}
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	var v int
	if err := db.sql.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("user_version = %d, %v, want %d", v, err, SchemaVersion)
	}
	var mode string
	if err := db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v, want wal", mode, err)
	}
	db.Close()
	// Opening again runs no step and keeps the version.
	db = openTest(t, path)
	if err := db.sql.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("after reopen user_version = %d, %v, want %d", v, err, SchemaVersion)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	if _, err := db.sql.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), path, nil)
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open(newer) = %v, want ErrNewerSchema", err)
	}
}

func TestRecordIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := testMessage(1)
		res, err := db.Record(ctx, m)
		if err != nil {
			t.Fatalf("Record() = %v", err)
		}
		if res.Already || res.Outcome != OutcomeBounce || res.Events != 2 || len(res.Skipped) != 0 {
			t.Errorf("Record() = %+v, want new bounce with 2 events", res)
		}

		tests := []struct {
			name string
			m    *Message
		}{
			{"same message", testMessage(1)},
			{"same hash, other uid", func() *Message { m := testMessage(1); m.UID = 99; return m }()},
			{"same uid, other hash", func() *Message { m := testMessage(1); m.Hash = Hash([]byte("x")); return m }()},
			{"same hash, no uid", func() *Message { m := testMessage(1); m.Mailbox, m.UID = "", 0; return m }()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := db.Record(ctx, tt.m)
				if err != nil || !res.Already || res.Outcome != OutcomeBounce {
					t.Errorf("Record() again = %+v, %v, want Already with outcome bounce", res, err)
				}
			})
		}
		if msgs, evs := countRows(t, db); msgs != 1 || evs != 2 {
			t.Errorf("rows = %d messages, %d events, want 1, 2", msgs, evs)
		}

		// Another UIDVALIDITY is another message, unless the hash matches.
		m2 := testMessage(1)
		m2.UIDValidity = 8
		m2.Hash = Hash([]byte("other"))
		if res, err := db.Record(ctx, m2); err != nil || res.Already {
			t.Errorf("Record(other uidvalidity) = %+v, %v, want recorded", res, err)
		}
	})
}

func TestRecordStoresEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		if _, err := db.Record(ctx, testMessage(3)); err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []Event{
			{Address: "full@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
				Status: "4.2.2", Date: day(3, 0), Source: "rfc3464"}, // message date stands in
			{Address: "gone@example.com", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
				Status: "5.1.1", ReplyCode: "550", Diagnostic: "550 5.1.1 user unknown", Date: day(3, 1),
				MessageID: "<orig@list.example>", Source: "rfc3464"},
		}
		if !reflect.DeepEqual(evs, want) {
			t.Errorf("Events() = %+v\nwant %+v", evs, want)
		}
	})
}

func TestRecordSkipsBadEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := testMessage(1)
		m.Date = day(0, 0)
		m.Events = append(m.Events,
			Event{Address: "not an address", Reason: classify.ReasonUserUnknown},
			Event{Address: "x@example.com", Category: "bogus"},
			Event{Address: "GONE@example.com", Reason: classify.ReasonUserUnknown}, // duplicate
		)
		res, err := db.Record(ctx, m)
		if err != nil {
			t.Fatalf("Record() = %v", err)
		}
		if res.Events != 2 || len(res.Skipped) != 2 {
			t.Fatalf("Record() = %+v, want 2 events and 2 skipped", res)
		}
		if !errors.Is(res.Skipped[0], ErrBadAddress) || !errors.Is(res.Skipped[1], ErrBadEvent) {
			t.Errorf("Skipped = %v, want ErrBadAddress then ErrBadEvent", res.Skipped)
		}

		// Without any date, the event is skipped rather than dated by the clock.
		m = testMessage(2)
		m.Date = time.Time{}
		res, err = db.Record(ctx, m)
		if err != nil || res.Events != 1 || len(res.Skipped) != 1 || !errors.Is(res.Skipped[0], ErrBadEvent) {
			t.Errorf("Record(no date) = %+v, %v, want 1 event and 1 skipped with ErrBadEvent", res, err)
		}
	})
}

func TestRecordBadMessage(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		tests := []struct {
			name string
			m    *Message
		}{
			{"nil", nil},
			{"no hash", &Message{}},
			{"upper-case hash", &Message{Hash: "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"}},
			{"unknown outcome", &Message{Hash: Hash(nil), Outcome: "maybe"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := db.Record(ctx, tt.m); !errors.Is(err, ErrBadMessage) {
					t.Errorf("Record() = %v, want ErrBadMessage", err)
				}
			})
		}
		if msgs, evs := countRows(t, db); msgs != 0 || evs != 0 {
			t.Errorf("rows = %d messages, %d events, want none", msgs, evs)
		}
	})
}

func TestRecordOutcome(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		tests := []struct {
			name string
			m    *Message
			want Outcome
		}{
			{"auto-reply", &Message{Hash: Hash([]byte("1")), Date: day(0, 0),
				Events: []Event{{Address: "a@example.com", Reason: classify.ReasonVacation}}}, OutcomeNotBounce},
			{"no events", &Message{Hash: Hash([]byte("2"))}, OutcomeNotBounce},
			{"given", &Message{Hash: Hash([]byte("3")), Outcome: OutcomeUnrecognized}, OutcomeUnrecognized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := db.Record(ctx, tt.m)
				if err != nil || res.Outcome != tt.want {
					t.Errorf("Record() = %+v, %v, want outcome %s", res, err, tt.want)
				}
			})
		}
	})
}

// TestRecordAtomic injects a failure after the first event insert: nothing of
// the message may remain, and recording it again afterwards counts it once.
func TestRecordAtomic(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path)
		boom := errors.New("injected crash")
		testHookEvent = func(i int) error {
			if i == 1 {
				return boom
			}
			return nil
		}
		_, err := db.Record(ctx, testMessage(1))
		testHookEvent = nil
		if !errors.Is(err, boom) {
			t.Fatalf("Record() = %v, want the injected error", err)
		}
		if msgs, evs := countRows(t, db); msgs != 0 || evs != 0 {
			t.Fatalf("after failed Record: %d messages, %d events, want none", msgs, evs)
		}
		db.Close()

		db = openTest(t, path)
		if msgs, evs := countRows(t, db); msgs != 0 || evs != 0 {
			t.Fatalf("after reopen: %d messages, %d events, want none", msgs, evs)
		}
		res, err := db.Record(ctx, testMessage(1))
		if err != nil || res.Already || res.Events != 2 {
			t.Errorf("Record() after failure = %+v, %v, want recorded with 2 events", res, err)
		}
		if msgs, evs := countRows(t, db); msgs != 1 || evs != 2 {
			t.Errorf("rows = %d messages, %d events, want 1, 2", msgs, evs)
		}
	})
}

func TestRecordClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		db := openTest(t, newState(t))
		db.Close()
		if _, err := db.Record(context.Background(), testMessage(1)); !errors.Is(err, ErrClosed) {
			t.Errorf("Record() on closed DB = %v, want ErrClosed", err)
		}
	})
}

func TestPersistsAcrossReopen(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path)
		for uid := uint32(1); uid <= 3; uid++ {
			if _, err := db.Record(ctx, testMessage(uid)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveState(ctx, "INBOX", 7, 3); err != nil {
			t.Fatal(err)
		}
		before, err := db.Lists(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = openTest(t, path)
		v, last, err := db.LoadState(ctx, "INBOX")
		if err != nil || v != 7 || last != 3 {
			t.Errorf("LoadState() = %d, %d, %v, want 7, 3", v, last, err)
		}
		after, err := db.Lists(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("Lists() after reopen = %+v, want %+v", after, before)
		}
		if got := addrs(after.Suppressed); got != "full@example.com:soft gone@example.com:hard" {
			t.Errorf("Lists().Suppressed = %q", got)
		}
		if res, err := db.Record(ctx, testMessage(2)); err != nil || !res.Already {
			t.Errorf("Record() after reopen = %+v, %v, want Already", res, err)
		}
		c, err := db.Counts(ctx)
		if err != nil || c.Messages != 3 || c.ByOutcome[OutcomeBounce] != 3 ||
			c.ByCategory[classify.CategoryHard] != 3 || c.ByCategory[classify.CategorySoft] != 3 {
			t.Errorf("Counts() = %+v, %v, want 3 messages, 3 hard and 3 soft events", c, err)
		}
	})
}

func TestSyncState(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		if v, last, err := db.LoadState(ctx, "INBOX"); err != nil || v != 0 || last != 0 {
			t.Errorf("LoadState(new) = %d, %d, %v, want 0, 0, nil", v, last, err)
		}
		steps := []struct{ v, last uint32 }{{1, 10}, {1, 20}, {2, 5}, {4294967295, 4294967295}}
		for _, s := range steps {
			if err := db.SaveState(ctx, "INBOX", s.v, s.last); err != nil {
				t.Fatal(err)
			}
			if v, last, err := db.LoadState(ctx, "INBOX"); err != nil || v != s.v || last != s.last {
				t.Errorf("LoadState() = %d, %d, %v, want %d, %d", v, last, err, s.v, s.last)
			}
		}
		if v, _, _ := db.LoadState(ctx, "Other"); v != 0 {
			t.Errorf("LoadState(Other) = %d, want 0", v)
		}
	})
}

// fetchState is imapfetch.State, repeated here so that this package's tests
// do not depend on imapfetch.
type fetchState interface {
	Load(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	Save(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

func TestSyncStateAdapter(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		var s fetchState = db.SyncState()
		if err := s.Save(ctx, "INBOX", 3, 9); err != nil {
			t.Fatal(err)
		}
		if v, last, err := db.LoadState(ctx, "INBOX"); err != nil || v != 3 || last != 9 {
			t.Errorf("LoadState() after Save = %d, %d, %v, want 3, 9", v, last, err)
		}
		if v, last, err := s.Load(ctx, "INBOX"); err != nil || v != 3 || last != 9 {
			t.Errorf("Load() = %d, %d, %v, want 3, 9", v, last, err)
		}
	})
}

func TestLookup(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := testMessage(1)
		if _, ok, err := db.Lookup(ctx, m); err != nil || ok {
			t.Errorf("Lookup(new) = %v, %v, want false", ok, err)
		}
		if _, err := db.Record(ctx, m); err != nil {
			t.Fatal(err)
		}
		byHash := &Message{Hash: m.Hash}
		byUID := &Message{Hash: Hash(nil), Mailbox: "INBOX", UIDValidity: 7, UID: 1}
		for _, q := range []*Message{m, byHash, byUID} {
			if o, ok, err := db.Lookup(ctx, q); err != nil || !ok || o != OutcomeBounce {
				t.Errorf("Lookup(%+v) = %q, %v, %v, want bounce, true", q, o, ok, err)
			}
		}
	})
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a := openTest(t, path)
	b := openTest(t, path)
	if err := a.Lock(); err != nil {
		t.Fatalf("first Lock() = %v", err)
	}
	if err := a.Lock(); err != nil {
		t.Errorf("Lock() again by the holder = %v, want nil", err)
	}
	err := b.Lock()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock() = %v, want ErrLocked", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(); err != nil {
		t.Errorf("Lock() after the holder closed = %v, want nil", err)
	}
}

// TestConcurrentRecord records the same messages from two DB handles at
// once: each must be counted once.
func TestConcurrentRecord(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		dbs := []*DB{openTest(t, path), openTest(t, path)}
		errc := make(chan error, 2)
		for _, db := range dbs {
			go func() {
				for uid := uint32(1); uid <= 20; uid++ {
					if _, err := db.Record(ctx, testMessage(uid)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
		}
		for range dbs {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if msgs, evs := countRows(t, dbs[0]); msgs != 20 || evs != 40 {
			t.Errorf("rows = %d messages, %d events, want 20, 40", msgs, evs)
		}
	})
}

// TestRecordSameAddressKeepsWorst: an address twice in one message (a
// delivery notice and a failure, a forward and its original) counts once,
// with the category that weighs most.
func TestRecordSameAddressKeepsWorst(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := &Message{Hash: Hash([]byte("twice")), Date: day(5, 0), Events: []Event{
			{Address: "x@example.com", Category: classify.CategoryNone, Reason: classify.ReasonDelivered},
			{Address: "X@Example.com", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown},
			{Address: "x@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull},
		}}
		if _, err := db.Record(ctx, m); err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Category != classify.CategoryHard {
			t.Errorf("Events() = %+v, want one hard event for x@example.com", evs)
		}
	})
}
