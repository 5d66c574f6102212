package suppress

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

// undoCopyJournalStep takes a state back to before the step of the IMAP
// copy journal (both dialects).
const undoCopyJournalStep = "DROP TABLE IF EXISTS imap_copying; "

// undoPermanentStep takes a state back to before the step of
// events.permanent (both dialects).
const undoPermanentStep = "ALTER TABLE events DROP COLUMN permanent; "

// undoHistorySchema takes a state back to before history.go's migration
// step (SQLite), for the tests of migrating older states.
const undoHistorySchema = `DROP TABLE pruned; DROP TABLE allows;
	ALTER TABLE events DROP COLUMN evidence; ALTER TABLE events DROP COLUMN recipient_from;
	ALTER TABLE events DROP COLUMN proof; ALTER TABLE messages DROP COLUMN location;
	ALTER TABLE messages DROP COLUMN placed;`

// evidenceMessage is a bounce of one address with every piece of evidence
// the state keeps, dated on day n.
func evidenceMessage(n int, addr string, r classify.Reason) *Message {
	uid := uint32(n+1) + 1000*(crc32.ChecksumIEEE([]byte(addr+string(r)))%1000)
	return &Message{
		Mailbox: "INBOX", UIDValidity: 9, UID: uid,
		Hash:      Hash([]byte(fmt.Sprintf("evidence %d %s %s", n, addr, r))),
		MessageID: fmt.Sprintf("<bounce-%d@mx.example>", n),
		Source:    "imap", Location: fmt.Sprintf("UID %d", uid), Placed: PlacedProcessed,
		Date: day(n, 0),
		Events: []Event{{
			Address: addr, Reason: r, Status: "5.1.1", ReplyCode: "550",
			Diagnostic: "550 5.1.1 <" + addr + ">: user unknown", Date: day(n, 1),
			MessageID: fmt.Sprintf("<news-%d@list.example>", n), Source: "postfix",
			Evidence: `phrase "user unknown"`, RecipientFrom: "dsn", Proof: "proven: verp",
		}},
	}
}

func record(t *testing.T, db *DB, ms ...*Message) {
	t.Helper()
	for _, m := range ms {
		_, err := db.Record(context.Background(), m)
		require.NoError(t, err)
	}
}

func suppressed(t *testing.T, db *DB, addr string) bool {
	t.Helper()
	l, err := db.Lists(context.Background(), nil, nil)
	require.NoError(t, err)
	_, ok := findEntry(l.Suppressed, addr)
	return ok
}

func TestWhyShowsEvidence(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		m := evidenceMessage(1, "gone@example.com", classify.ReasonUserUnknown)
		record(t, db, m)

		hs, err := db.Why(ctx, nil, "<Gone@Example.COM>", "never@example.com")
		require.NoError(t, err)
		require.Len(t, hs, 2)
		h := hs[0]
		assert.Equal(t, "<Gone@Example.COM>", h.Address)
		assert.Equal(t, "gone@example.com", h.Normalized)
		assert.True(t, h.Known)
		assert.True(t, h.Suppressed)
		assert.Equal(t, classify.CategoryHard, h.Category)
		assert.Equal(t, classify.ReasonUserUnknown, h.Reason)
		assert.Equal(t, RuleHard, h.Rule)
		assert.Equal(t, day(1, 1), h.Since)
		assert.False(t, h.Allowed)
		require.Len(t, h.Events, 1)
		e := h.Events[0]
		assert.Equal(t, `phrase "user unknown"`, e.Evidence)
		assert.Equal(t, "dsn", e.RecipientFrom)
		assert.Equal(t, "proven: verp", e.Proof)
		assert.Equal(t, "<bounce-1@mx.example>", e.BounceMessageID)
		assert.Equal(t, "<news-1@list.example>", e.OriginalMessageID)
		assert.Equal(t, EventSource{Detector: "postfix", Origin: "imap", Mailbox: "INBOX", UIDValidity: 9, UID: m.UID,
			Location: fmt.Sprintf("UID %d", m.UID), Placed: PlacedProcessed, Outcome: OutcomeBounce,
			Hash: m.Hash}, e.Source)
		assert.True(t, e.Counted)

		assert.False(t, hs[1].Known, "an address never seen")
		assert.False(t, hs[1].Suppressed)
		assert.Empty(t, hs[1].Events)

		_, err = db.Why(ctx, nil, "not an address")
		assert.ErrorIs(t, err, ErrBadAddress)
	})
}

func TestWhyRuleFollowsPolicy(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	for i := range 3 {
		record(t, db, evidenceMessage(i*2, "full@example.com", classify.ReasonMailboxFull))
	}
	record(t, db, evidenceMessage(10, "once@example.com", classify.ReasonMailboxFull))
	hs, err := db.Why(ctx, nil, "full@example.com", "once@example.com")
	require.NoError(t, err)
	assert.True(t, hs[0].Suppressed)
	assert.Equal(t, RuleSoftThreshold, hs[0].Rule)
	assert.Equal(t, "3 soft bounces on 3 different days within 30d suppress (the notices about one sent message count once)", hs[0].RuleText)
	assert.Equal(t, 3, hs[0].Bounces)

	assert.False(t, hs[1].Suppressed)
	require.NotNil(t, hs[1].Pending, "a soft bounce under the threshold is pending")
	assert.Equal(t, 1, hs[1].Pending.Bounces)

	hs, err = db.Why(ctx, &Policy{SoftThreshold: 4}, "full@example.com")
	require.NoError(t, err)
	assert.False(t, hs[0].Suppressed, "4 needed")
	require.NotNil(t, hs[0].Pending)
	assert.Equal(t, 3, hs[0].Pending.Days)
}

func TestWhyJSON(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	record(t, db, evidenceMessage(1, "gone@example.com", classify.ReasonUserUnknown))
	hs, err := db.Why(ctx, nil, "gone@example.com")
	require.NoError(t, err)
	b, err := json.Marshal(hs[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"suppressed", "category", "reason", "rule", "since", "allowed", "events"} {
		assert.Contains(t, m, k)
	}
	ev := m["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"date", "category", "reason", "status", "diagnostic", "evidence", "recipient_from", "source"} {
		assert.Contains(t, ev, k)
	}
}

func TestAllowLiftsAndNewBounceReturns(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		gone := evidenceMessage(1, "gone@example.com", classify.ReasonUserUnknown)
		record(t, db, gone, evidenceMessage(2, "other@example.com", classify.ReasonUserUnknown))
		require.True(t, suppressed(t, db, "gone@example.com"))

		_, err := db.Allow(ctx, AllowRequest{Addresses: []string{"Gone@Example.com"}})
		require.ErrorIs(t, err, ErrNoReason)
		as, err := db.Allow(ctx, AllowRequest{Addresses: []string{"Gone@Example.com"}, Reason: "she wrote to us", By: "ops", At: day(5, 0)})
		require.NoError(t, err)
		require.Len(t, as, 1)
		assert.Equal(t, Allow{Address: "gone@example.com", Reason: "she wrote to us", By: "ops", At: day(5, 0)}, as[0])

		assert.False(t, suppressed(t, db, "gone@example.com"), "allowed")
		assert.True(t, suppressed(t, db, "other@example.com"), "an allow changes no one else")
		// A rerun over the same message records nothing new.
		record(t, db, gone)
		assert.False(t, suppressed(t, db, "gone@example.com"), "after a rerun over the same message")
		hs, err := db.Why(ctx, nil, "gone@example.com")
		require.NoError(t, err)
		assert.True(t, hs[0].Allowed)
		assert.False(t, hs[0].Suppressed)
		require.Len(t, hs[0].Allows, 1)
		assert.False(t, hs[0].Events[0].Counted)

		since, err := db.AllowsSince(ctx, day(4, 0))
		require.NoError(t, err)
		assert.Equal(t, as, since)
		since, err = db.AllowsSince(ctx, day(6, 0))
		require.NoError(t, err)
		assert.Empty(t, since)

		// A new hard bounce dated after the allow suppresses again.
		record(t, db, evidenceMessage(7, "gone@example.com", classify.ReasonUserUnknown))
		assert.True(t, suppressed(t, db, "gone@example.com"), "a new bounce after the allow")
		hs, err = db.Why(ctx, nil, "gone@example.com")
		require.NoError(t, err)
		assert.False(t, hs[0].Allowed)
		assert.Equal(t, day(7, 1), hs[0].Since)
		assert.Equal(t, 1, hs[0].Bounces, "the allowed bounce does not count")
	})
}

func TestAllowUntil(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	record(t, db, evidenceMessage(1, "gone@example.com", classify.ReasonUserUnknown))
	_, err := db.Allow(ctx, AllowRequest{Addresses: []string{"gone@example.com"}, Reason: "test", At: day(2, 0), Until: day(20, 0)})
	require.NoError(t, err)
	record(t, db, evidenceMessage(10, "gone@example.com", classify.ReasonUserUnknown))
	assert.False(t, suppressed(t, db, "gone@example.com"), "a bounce before --until")
	record(t, db, evidenceMessage(21, "gone@example.com", classify.ReasonUserUnknown))
	assert.True(t, suppressed(t, db, "gone@example.com"), "a bounce after --until")
}

func TestAllowBadAddress(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	_, err := db.Allow(context.Background(), AllowRequest{Addresses: []string{"x@example.com", "nope"}, Reason: "r"})
	require.ErrorIs(t, err, ErrBadAddress)
	got, err := db.AllowsSince(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Empty(t, got, "nothing written when one address is bad")
}

// TestHistoryMigratesVersion3: a state written before the evidence columns
// gets them, keeps its events (with empty evidence) and records new ones
// with theirs, on both stores.
func TestHistoryMigratesVersion3(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		path := newState(t)
		db := openTest(t, path)
		record(t, db, evidenceMessage(1, "old@example.com", classify.ReasonUserUnknown))
		setVersion := "PRAGMA user_version = 3"
		if db.Shared() {
			setVersion = "DELETE FROM bouncer_schema; INSERT INTO bouncer_schema (version) VALUES (3)"
		}
		_, err := db.sql.Exec(undoListingSchema + undoCopyJournalStep + undoPermanentStep + undoHistorySchema + setVersion)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		db = openTest(t, path)
		record(t, db, evidenceMessage(2, "new@example.com", classify.ReasonUserUnknown))
		hs, err := db.Why(ctx, nil, "old@example.com", "new@example.com")
		require.NoError(t, err)
		require.Len(t, hs[0].Events, 1)
		assert.Empty(t, hs[0].Events[0].Evidence, "an event from before the step")
		assert.True(t, hs[0].Suppressed)
		assert.Equal(t, `phrase "user unknown"`, hs[1].Events[0].Evidence)
	})
}

// TestWhyAgreesWithLists: Why, which reads only the addresses asked,
// decides as Lists does over the whole history, allows and pruned
// summaries included, for every address and policy.
func TestWhyAgreesWithLists(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		record(t, db, mixedMessages(150)...)
		evs, err := db.Events(ctx)
		require.NoError(t, err)
		addrs := map[string]bool{}
		for _, e := range evs {
			addrs[e.Address] = true
		}
		var all []string
		for a := range addrs {
			all = append(all, a)
		}
		_, err = db.Allow(ctx, AllowRequest{Addresses: all[:len(all)/3], Reason: "r", At: day(20, 0)})
		require.NoError(t, err)
		_, err = db.Prune(ctx, PruneRequest{Before: day(10, 0)})
		require.NoError(t, err)
		for _, p := range []*Policy{nil, {SoftThreshold: 1, SoftDistinctDays: 1}, {SuppressPolicy: true}} {
			lists, err := db.Lists(ctx, p, nil)
			require.NoError(t, err)
			hs, err := db.Why(ctx, p, all...)
			require.NoError(t, err)
			for _, h := range hs {
				e, ok := findEntry(lists.Suppressed, h.Normalized)
				assert.Equal(t, ok, h.Suppressed, "%s (policy %+v)", h.Normalized, p)
				if ok {
					assert.Equal(t, e.Category, h.Category, "%s", h.Normalized)
					assert.Equal(t, e.FirstBounce, h.Since, "%s", h.Normalized)
					assert.Equal(t, e.Bounces, h.Bounces, "%s", h.Normalized)
				}
				assert.Equal(t, lists.Now, h.Now)
			}
		}
	})
}
