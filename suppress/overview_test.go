package suppress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

// TestSizesOverAgreesWithDecide: at every moment, SizesOver counts the
// addresses that Decide suppresses with that moment as Policy.Now, on
// random histories and policies.
func TestSizesOverAgreesWithDecide(t *testing.T) {
	reasons := []classify.Reason{classify.ReasonUserUnknown, classify.ReasonMailboxFull, classify.ReasonMailboxFull,
		classify.ReasonMailboxFull, classify.ReasonBlocked, classify.ReasonFeedback, classify.ReasonVacation}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var events []Event
		for range 300 {
			events = append(events, Event{
				Address: fmt.Sprintf("u%d@example.com", rng.IntN(40)),
				Reason:  reasons[rng.IntN(len(reasons))],
				Date:    base.Add(time.Duration(rng.IntN(120*24)) * time.Hour),
			})
		}
		var at []time.Time
		for range 30 {
			at = append(at, base.Add(time.Duration(rng.IntN(130*24*60))*time.Minute))
		}
		for _, p := range []*Policy{nil, {SuppressPolicy: true}, {SoftThreshold: 2, SoftDistinctDays: 1, SoftWindow: 5 * 24 * time.Hour}} {
			got := SizesOver(events, p, at)
			for i, now := range at {
				q := Policy{}
				if p != nil {
					q = *p
				}
				q.Now = now
				want := len(Decide(events, &q, nil).Suppressed)
				require.Equal(t, want, got[i], "seed %d, policy %+v, at %v", seed, p, now)
			}
		}
	}
}

func TestMailboxesAndFingerprint(t *testing.T) {
	forEachStore(t, testMailboxesAndFingerprint)
}

func testMailboxesAndFingerprint(t *testing.T, newState func(*testing.T) string) {
	ctx := context.Background()
	db := openTest(t, newState(t))
	f0, err := db.Fingerprint(ctx)
	require.NoError(t, err)
	assert.Equal(t, Fingerprint{}, f0)
	_, err = db.Record(ctx, testMessage(1))
	require.NoError(t, err)
	require.NoError(t, db.SaveState(ctx, "INBOX", 42, 1))
	require.NoError(t, db.SaveState(ctx, "Other", 9, 0))
	f1, err := db.Fingerprint(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, f0, f1)
	assert.Equal(t, int64(1), f1.LastMessage)

	ms, err := db.Mailboxes(ctx)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	m := testMessage(1)
	assert.Equal(t, MailboxSummary{Mailbox: "INBOX", Messages: 1, ByOutcome: map[Outcome]int{OutcomeBounce: 1},
		Events: len(m.Events), UIDValidity: 42, LastUID: 1}, ms[0])
	assert.Equal(t, MailboxSummary{Mailbox: "Other", ByOutcome: map[Outcome]int{}, UIDValidity: 9}, ms[1])

	targets, err := db.OutboxTargets(ctx)
	require.NoError(t, err)
	assert.Empty(t, targets)
	require.NoError(t, db.SetOutbox([]OutboxTarget{{Name: "b"}, {Name: "a"}}))
	_, err = db.Record(ctx, testMessage(2))
	require.NoError(t, err)
	targets, err = db.OutboxTargets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, targets)

	_, err = db.Record(ctx, &Message{Mailbox: "INBOX", Hash: Hash([]byte("forged")), Source: "imap", Events: []Event{
		{Address: "victim@example.com", Category: classify.CategoryNone, Reason: classify.ReasonUserUnknown, Date: day(3, 0), Proof: "unverified: no-proof"},
		{Address: "real@example.com", Reason: classify.ReasonUserUnknown, Date: day(3, 0), Proof: "proven: verp"}}})
	require.NoError(t, err)
	un, total, err := db.Unverified(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, total)
	require.Len(t, un, 1)
	assert.Equal(t, "victim@example.com", un[0].Address)
	assert.Equal(t, "unverified: no-proof", un[0].Proof)

	_, err = db.Allow(ctx, AllowRequest{Addresses: []string{"real@example.com"}, Reason: "x"})
	require.NoError(t, err)
	f2, err := db.Fingerprint(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, f1, f2, "an allow changes the fingerprint")
	h, err := db.History(ctx, nil)
	require.NoError(t, err)
	lists, err := db.Lists(ctx, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, lists, h.Lists)
}

// TestHistoryAgreesWithLists: History decides as Lists and Pending do,
// allows included, and its SizesOver counts the list of each moment.
func TestHistoryAgreesWithLists(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "s.db"))
	for uid := uint32(1); uid <= 4; uid++ {
		_, err := db.Record(ctx, testMessage(uid))
		require.NoError(t, err)
	}
	m := testMessage(5)
	m.Events = []Event{{Address: "once@example.com", Reason: classify.ReasonMailboxFull, Date: day(5, 0)}}
	_, err := db.Record(ctx, m)
	require.NoError(t, err)
	_, err = db.Allow(ctx, AllowRequest{Addresses: []string{"gone@example.com"}, Reason: "fixed", At: day(10, 0)})
	require.NoError(t, err)
	h, err := db.History(ctx, nil)
	require.NoError(t, err)
	lists, err := db.Lists(ctx, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, lists, h.Lists)
	pending, err := db.Pending(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, pending, h.Pending)
	require.Len(t, h.Pending, 1)
	assert.Equal(t, "once@example.com", h.Pending[0].Address)
	assert.Len(t, h.Events, 9, "every event, allowed or not")
	sizes := h.SizesOver([]time.Time{lists.Now})
	assert.Equal(t, []int{len(lists.Suppressed)}, sizes)
	assert.NotContains(t, fmt.Sprint(lists.Suppressed), "gone@example.com", "the allow counts")
}
