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
