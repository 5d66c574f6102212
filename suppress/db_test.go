package suppress

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	require.NoError(t, err, "Open(%s)", path)
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
	require.NoError(t, db.sql.QueryRow("SELECT count(*) FROM messages").Scan(&messages))
	require.NoError(t, db.sql.QueryRow("SELECT count(*) FROM events").Scan(&events))
	return messages, events
}

func TestOpenMigratesEmpty(t *testing.T) {
	require.Equal(t, len(migrations), SchemaVersion, "SchemaVersion against the migration steps")
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	var v int
	require.NoError(t, db.sql.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v, "user_version")
	var mode string
	require.NoError(t, db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode, "journal_mode")
	db.Close()
	// Opening again runs no step and keeps the version.
	db = openTest(t, path)
	require.NoError(t, db.sql.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v, "user_version after reopen")
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	_, err := db.sql.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1))
	require.NoError(t, err)
	db.Close()
	_, err = Open(context.Background(), path, nil)
	assert.ErrorIs(t, err, ErrNewerSchema, "Open(newer)")
}

func TestRecordIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := testMessage(1)
		res, err := db.Record(ctx, m)
		require.NoError(t, err, "Record()")
		assert.False(t, res.Already, "Record() of a new message")
		assert.Equal(t, OutcomeBounce, res.Outcome, "Record() outcome")
		assert.Equal(t, 2, res.Events, "Record() events")
		assert.Empty(t, res.Skipped, "Record() skipped")

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
				require.NoError(t, err, "Record() again")
				assert.True(t, res.Already, "Record() again")
				assert.Equal(t, OutcomeBounce, res.Outcome, "Record() again: outcome")
			})
		}
		msgs, evs := countRows(t, db)
		assert.Equal(t, 1, msgs, "messages rows")
		assert.Equal(t, 2, evs, "events rows")

		// Another UIDVALIDITY is another message, unless the hash matches.
		m2 := testMessage(1)
		m2.UIDValidity = 8
		m2.Hash = Hash([]byte("other"))
		res, err = db.Record(ctx, m2)
		require.NoError(t, err, "Record(other uidvalidity)")
		assert.False(t, res.Already, "Record(other uidvalidity) records it")
	})
}

func TestRecordStoresEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		_, err := db.Record(ctx, testMessage(3))
		require.NoError(t, err)
		evs, err := db.Events(ctx)
		require.NoError(t, err)
		want := []Event{
			{Address: "full@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
				Status: "4.2.2", Date: day(3, 0), Source: "rfc3464"}, // message date stands in
			{Address: "gone@example.com", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
				Status: "5.1.1", ReplyCode: "550", Diagnostic: "550 5.1.1 user unknown", Date: day(3, 1),
				MessageID: "<orig@list.example>", Source: "rfc3464"},
		}
		assert.Equal(t, want, evs, "Events()")
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
		require.NoError(t, err, "Record()")
		require.Equal(t, 2, res.Events, "Record() events")
		require.Len(t, res.Skipped, 2, "Record() skipped")
		assert.ErrorIs(t, res.Skipped[0], ErrBadAddress, "first skipped")
		assert.ErrorIs(t, res.Skipped[1], ErrBadEvent, "second skipped")

		// Without any date, the event is skipped rather than dated by the clock.
		m = testMessage(2)
		m.Date = time.Time{}
		res, err = db.Record(ctx, m)
		require.NoError(t, err, "Record(no date)")
		assert.Equal(t, 1, res.Events, "Record(no date) events")
		require.Len(t, res.Skipped, 1, "Record(no date) skipped")
		assert.ErrorIs(t, res.Skipped[0], ErrBadEvent, "Record(no date) skipped")
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
				_, err := db.Record(ctx, tt.m)
				assert.ErrorIs(t, err, ErrBadMessage, "Record()")
			})
		}
		msgs, evs := countRows(t, db)
		assert.Zero(t, msgs, "messages rows")
		assert.Zero(t, evs, "events rows")
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
				require.NoError(t, err, "Record()")
				assert.Equal(t, tt.want, res.Outcome, "Record() outcome")
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
		require.ErrorIs(t, err, boom, "Record() returns the injected error")
		msgs, evs := countRows(t, db)
		require.Zero(t, msgs, "messages rows after failed Record")
		require.Zero(t, evs, "events rows after failed Record")
		db.Close()

		db = openTest(t, path)
		msgs, evs = countRows(t, db)
		require.Zero(t, msgs, "messages rows after reopen")
		require.Zero(t, evs, "events rows after reopen")
		res, err := db.Record(ctx, testMessage(1))
		require.NoError(t, err, "Record() after failure")
		assert.False(t, res.Already, "Record() after failure records it")
		assert.Equal(t, 2, res.Events, "Record() after failure: events")
		msgs, evs = countRows(t, db)
		assert.Equal(t, 1, msgs, "messages rows")
		assert.Equal(t, 2, evs, "events rows")
	})
}

func TestRecordClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		db := openTest(t, newState(t))
		db.Close()
		_, err := db.Record(context.Background(), testMessage(1))
		assert.ErrorIs(t, err, ErrClosed, "Record() on closed DB")
	})
}

func TestPersistsAcrossReopen(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path)
		for uid := uint32(1); uid <= 3; uid++ {
			_, err := db.Record(ctx, testMessage(uid))
			require.NoError(t, err)
		}
		require.NoError(t, db.SaveState(ctx, "INBOX", 7, 3))
		before, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		db = openTest(t, path)
		v, last, err := db.LoadState(ctx, "INBOX")
		require.NoError(t, err, "LoadState()")
		assert.Equal(t, uint32(7), v, "LoadState() UIDVALIDITY")
		assert.Equal(t, uint32(3), last, "LoadState() last UID")
		after, err := db.Lists(ctx, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, before, after, "Lists() after reopen")
		assert.Equal(t, "full@example.com:soft gone@example.com:hard", addrs(after.Suppressed), "Lists().Suppressed")
		res, err := db.Record(ctx, testMessage(2))
		require.NoError(t, err, "Record() after reopen")
		assert.True(t, res.Already, "Record() after reopen")
		c, err := db.Counts(ctx)
		require.NoError(t, err, "Counts()")
		assert.Equal(t, 3, c.Messages, "Counts() messages")
		assert.Equal(t, 3, c.ByOutcome[OutcomeBounce], "Counts() bounces")
		assert.Equal(t, 3, c.ByCategory[classify.CategoryHard], "Counts() hard events")
		assert.Equal(t, 3, c.ByCategory[classify.CategorySoft], "Counts() soft events")
	})
}

func TestSyncState(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		v, last, err := db.LoadState(ctx, "INBOX")
		require.NoError(t, err, "LoadState(new)")
		assert.Zero(t, v, "LoadState(new) UIDVALIDITY")
		assert.Zero(t, last, "LoadState(new) last UID")
		steps := []struct{ v, last uint32 }{{1, 10}, {1, 20}, {2, 5}, {4294967295, 4294967295}}
		for _, s := range steps {
			require.NoError(t, db.SaveState(ctx, "INBOX", s.v, s.last))
			v, last, err := db.LoadState(ctx, "INBOX")
			require.NoError(t, err, "LoadState()")
			assert.Equal(t, s.v, v, "LoadState() UIDVALIDITY")
			assert.Equal(t, s.last, last, "LoadState() last UID")
		}
		v, _, _ = db.LoadState(ctx, "Other")
		assert.Zero(t, v, "LoadState(Other)")
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
		require.NoError(t, s.Save(ctx, "INBOX", 3, 9))
		v, last, err := db.LoadState(ctx, "INBOX")
		require.NoError(t, err, "LoadState() after Save")
		assert.Equal(t, uint32(3), v, "LoadState() after Save: UIDVALIDITY")
		assert.Equal(t, uint32(9), last, "LoadState() after Save: last UID")
		v, last, err = s.Load(ctx, "INBOX")
		require.NoError(t, err, "Load()")
		assert.Equal(t, uint32(3), v, "Load() UIDVALIDITY")
		assert.Equal(t, uint32(9), last, "Load() last UID")
	})
}

func TestLookup(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := testMessage(1)
		_, ok, err := db.Lookup(ctx, m)
		require.NoError(t, err, "Lookup(new)")
		assert.False(t, ok, "Lookup(new)")
		_, err = db.Record(ctx, m)
		require.NoError(t, err)
		byHash := &Message{Hash: m.Hash}
		byUID := &Message{Hash: Hash(nil), Mailbox: "INBOX", UIDValidity: 7, UID: 1}
		for _, q := range []*Message{m, byHash, byUID} {
			o, ok, err := db.Lookup(ctx, q)
			require.NoError(t, err, "Lookup(%+v)", q)
			assert.True(t, ok, "Lookup(%+v) finds it", q)
			assert.Equal(t, OutcomeBounce, o, "Lookup(%+v) outcome", q)
		}
	})
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a := openTest(t, path)
	b := openTest(t, path)
	require.NoError(t, a.Lock(), "first Lock()")
	assert.NoError(t, a.Lock(), "Lock() again by the holder")
	require.ErrorIs(t, b.Lock(), ErrLocked, "second Lock()")
	require.NoError(t, a.Close())
	assert.NoError(t, b.Lock(), "Lock() after the holder closed")
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
			require.NoError(t, <-errc)
		}
		msgs, evs := countRows(t, dbs[0])
		assert.Equal(t, 20, msgs, "messages rows")
		assert.Equal(t, 40, evs, "events rows")
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
		_, err := db.Record(ctx, m)
		require.NoError(t, err)
		evs, err := db.Events(ctx)
		require.NoError(t, err)
		require.Len(t, evs, 1, "Events(): one event for x@example.com")
		assert.Equal(t, classify.CategoryHard, evs[0].Category, "Events(): the worst category")
	})
}
