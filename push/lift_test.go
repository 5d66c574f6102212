package push

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// TestLifts: an address allowed again is told, once, to each target that
// acted on its suppression: listmonk enables the subscriber, Mautic
// removes the Do Not Contact entry, the webhook gets suppression.lifted.
// An address a target never heard of is not told.
func TestLifts(t *testing.T) {
	clock := newClock()
	lm := newListmonk(t, "api", "tok")
	mt := newMautic(t, "admin", "pw", map[int]string{1: "gone1@example.com", 2: "angry1@example.com"})
	wh := newWebhook(t, "whsec", clock.Now)
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok", "mautic admin:pw", "webhook whsec"),
		Now: clock.Now}, "listmonk="+lm.URL, "mautic="+mt.URL, "webhook="+wh.URL)
	record(t, db, 1)
	deliver(t, d)
	require.Equal(t, "blocklisted", lm.Status("gone1@example.com"))
	require.Equal(t, map[int][]int{1: {2}, 2: {1}}, mt.DNC())

	ctx := context.Background()
	_, err := db.Allow(ctx, suppress.AllowRequest{Addresses: []string{"gone1@example.com", "stranger@example.com"},
		Reason: "the mailbox exists again", By: "ops", At: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	st := deliver(t, d)
	assert.Equal(t, 3, st.Lifted, "one lift per target")
	assert.Zero(t, st.Failed+st.Retried, "%v", st.Errors)

	assert.Equal(t, "enabled", lm.Status("gone1@example.com"), "listmonk: enabled again")
	assert.Equal(t, "blocklisted", lm.Status("angry1@example.com"), "listmonk: the other complaint stays")
	assert.Equal(t, map[int][]int{2: {1}}, mt.DNC(), "Mautic: the entry of gone1 is removed")
	var lifted []Event
	for _, e := range wh.Events() {
		if e.Type == EventLifted {
			lifted = append(lifted, e)
		}
	}
	require.Len(t, lifted, 1, "the webhook: one suppression.lifted")
	assert.Equal(t, "gone1@example.com", lifted[0].Email)
	require.NotNil(t, lifted[0].Lift)
	assert.Equal(t, LiftInfo{Reason: "the mailbox exists again", By: "ops"}, *lifted[0].Lift)
	assert.Empty(t, lm.Violations())
	assert.Empty(t, mt.Violations())
	assert.Empty(t, wh.Violations())

	assert.Equal(t, Stats{}, deliver(t, d), "told once")
}

// TestLiftRefused: a listmonk user that may not update subscribers is
// refused the lift; it is recorded as failed, not tried again each pass.
func TestLiftRefused(t *testing.T) {
	lm := newListmonk(t, "api", "tok")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+lm.URL)
	record(t, db, 1)
	deliver(t, d)
	lm.perms = map[string]bool{}
	for _, p := range ListmonkPermissions {
		lm.perms[p] = true
	}
	_, err := db.Allow(context.Background(), suppress.AllowRequest{Addresses: []string{"gone1@example.com"}, Reason: "r"})
	require.NoError(t, err)
	st := deliver(t, d)
	assert.Equal(t, 1, st.Failed)
	require.Len(t, st.Errors, 1)
	assert.ErrorIs(t, st.Errors[0], ErrUnauthorized)
	assert.Contains(t, st.Errors[0].Error(), "Permission denied: subscribers:manage")
	assert.Equal(t, "blocklisted", lm.Status("gone1@example.com"))
	assert.Equal(t, Stats{}, deliver(t, d))
}

// TestAllowedBeforeDelivery: an address allowed again while its events
// wait in the outbox (the target was down) is not sent to the target when
// it is back: listmonk would blocklist, and unsubscribe from every list, a
// person the operator put back. An event whose earlier attempt may have
// arrived is marked acted on, so that the lift goes out and undoes it.
func TestAllowedBeforeDelivery(t *testing.T) {
	lm := newListmonk(t, "api", "tok")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+lm.URL)
	record(t, db, 1, 2)
	ctx := context.Background()
	// The attempt of gone2's event began and its end was never recorded.
	due, err := db.Due(ctx, "listmonk="+lm.URL, time.Now(), 100)
	require.NoError(t, err)
	for _, e := range due {
		if e.Event.Address == "gone2@example.com" {
			require.NoError(t, db.BeginAttempt(ctx, e.ID))
		}
	}
	_, err = db.Allow(ctx, suppress.AllowRequest{Addresses: []string{"gone1@example.com", "angry1@example.com", "gone2@example.com"},
		Reason: "confirmed by phone", By: "ops"})
	require.NoError(t, err)

	st := deliver(t, d)
	assert.Equal(t, 3, st.Allowed, "not sent")
	assert.Equal(t, 3, st.Delivered, "the others")
	for _, b := range lm.Accepted() {
		assert.NotContains(t, []string{"gone1@example.com", "angry1@example.com", "gone2@example.com"}, b.Email, "sent after the allow")
	}
	assert.NotEqual(t, "blocklisted", lm.Status("gone1@example.com"))
	assert.Equal(t, "blocklisted", lm.Status("angry2@example.com"), "not allowed: sent")
	done, err := db.Outbox(ctx, "listmonk="+lm.URL, suppress.OutboxDelivered, 100)
	require.NoError(t, err)
	results := map[string]string{}
	for _, e := range done {
		results[e.Event.Address] = e.Result
	}
	assert.Equal(t, string(ResultAllowed), results["gone1@example.com"])
	assert.Equal(t, string(ResultActed), results["gone2@example.com"], "uncertain: the lift goes out")
	assert.Equal(t, 1, st.Lifted, "the lift of gone2, whose attempt may have arrived")
	assert.Empty(t, lm.Violations())
	assert.Equal(t, Stats{}, deliver(t, d), "nothing left")
}
