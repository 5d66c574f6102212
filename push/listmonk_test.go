package push

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// recordOne records a message with the one event e, dated e.Date.
func recordOne(t *testing.T, db *suppress.DB, name string, e suppress.Event) {
	t.Helper()
	if e.Reason == "" {
		e.Reason = classify.ReasonUserUnknown
	}
	_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte(name)), Source: "t",
		Date: e.Date, Events: []suppress.Event{e}})
	require.NoError(t, err)
}

func TestListmonkCheck(t *testing.T) {
	all := map[string]bool{}
	for _, p := range ListmonkPermissions {
		all[p] = true
	}
	without := func(p string) map[string]bool {
		m := map[string]bool{}
		for k := range all {
			m[k] = k != p
		}
		return m
	}
	// The role the README once recommended: the lookup needs more.
	old := map[string]bool{"webhooks:post_bounce": true, "subscribers:get": true, "bounces:get": true}
	for _, tc := range []struct {
		name  string
		setup func(*listmonkServer)
		want  []string // in the one-line error; none: no error
	}{
		{"every permission", func(s *listmonkServer) { s.perms = all }, nil},
		{"the old role", func(s *listmonkServer) { s.perms = old },
			[]string{"find subscriber: 403 Permission denied: subscribers:sql_query", strings.Join(ListmonkPermissions, ", ")}},
		{"no sql_query", func(s *listmonkServer) { s.perms = without("subscribers:sql_query") },
			[]string{"Permission denied: subscribers:sql_query"}},
		{"no bounces:get", func(s *listmonkServer) { s.perms = without("bounces:get") },
			[]string{"look up bounce: 403 Permission denied: bounces:get"}},
		{"no post", func(s *listmonkServer) { s.perms = without("webhooks:post_bounce") },
			[]string{"post bounce: 403 Permission denied: webhooks:post_bounce"}},
		{"bounce webhooks off", func(s *listmonkServer) { s.webhooksOff = true },
			[]string{"bounce webhooks are off", "Enable bounce webhooks"}},
		{"bounce processing off", func(s *listmonkServer) { s.processingOff = true },
			[]string{"bounce processing is off", "503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newListmonk(t, "api", "tok")
			tc.setup(srv)
			db := openState(t, filepath.Join(t.TempDir(), "state.db"))
			d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
			err := d.Check(context.Background())
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrPermission)
				assert.NotContains(t, err.Error(), "\n", "one line")
				assert.NotContains(t, err.Error(), "tok", "no secret")
				for _, w := range tc.want {
					assert.Contains(t, err.Error(), w)
				}
			}
			assert.Empty(t, srv.Recorded(), "the check records nothing")
			assert.Empty(t, srv.Violations())
		})
	}
	t.Run("a target that does not answer is no refusal", func(t *testing.T) {
		srv := newListmonk(t, "api", "tok")
		srv.Close()
		db := openState(t, filepath.Join(t.TempDir(), "state.db"))
		d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
		assert.NoError(t, d.Check(context.Background()))
	})
}

// TestListmonkWithoutEffect: listmonk answers 200 to a bounce for an
// address it has no subscriber for, and for a blocklisted subscriber, and
// does nothing; bouncer finds both by the lookup, posts nothing, and
// records and counts them as what they are.
func TestListmonkWithoutEffect(t *testing.T) {
	srv := newListmonk(t, "api", "tok")
	srv.autoSubscribe = false
	srv.subscribe("sub@example.com", "enabled")
	srv.subscribe("blocked@example.com", "blocklisted")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
	date := time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)
	for _, a := range []string{"sub@example.com", "blocked@example.com", "stranger@example.com"} {
		recordOne(t, db, a, suppress.Event{Address: a, Date: date})
	}
	st := deliver(t, d)
	assert.Equal(t, Stats{Delivered: 1, NotSubscriber: 1, AlreadyBlocklisted: 1}, st)
	require.Len(t, srv.Accepted(), 1)
	assert.Equal(t, "sub@example.com", srv.Accepted()[0].Email)
	assert.Equal(t, "blocklisted", srv.Status("sub@example.com"), "listmonk's hard action")

	tg := d.Targets()[0].String()
	done, err := db.Outbox(context.Background(), tg, suppress.OutboxDelivered, 10)
	require.NoError(t, err)
	results := map[string]string{}
	for _, e := range done {
		results[e.Event.Address] = e.Result
	}
	assert.Equal(t, map[string]string{"sub@example.com": "", "blocked@example.com": "already-blocklisted",
		"stranger@example.com": "not-a-subscriber"}, results)
	assert.Equal(t, Stats{}, deliver(t, d), "done: never sent again")
}

// TestListmonk503: with bounce processing off and webhooks on, listmonk
// answers 503; that is a refusal, recorded as failed at once with its
// reason, not retried for hours. A proxy's 503 is retried.
func TestListmonk503(t *testing.T) {
	date := time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)
	t.Run("listmonk's own", func(t *testing.T) {
		srv := newListmonk(t, "api", "tok")
		srv.processingOff = true
		db := openState(t, filepath.Join(t.TempDir(), "state.db"))
		d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
		recordOne(t, db, "a", suppress.Event{Address: "a@example.com", Date: date})
		st := deliver(t, d)
		assert.Equal(t, 1, st.Failed)
		assert.Zero(t, st.Retried)
		failed, err := db.Outbox(context.Background(), d.Targets()[0].String(), suppress.OutboxFailed, 10)
		require.NoError(t, err)
		require.Len(t, failed, 1)
		assert.Contains(t, failed[0].LastError, "bounce processing is off")
	})
	t.Run("a proxy's", func(t *testing.T) {
		srv := newListmonk(t, "api", "tok")
		srv.fault = func(string, int) int { return http.StatusServiceUnavailable }
		db := openState(t, filepath.Join(t.TempDir(), "state.db"))
		d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
		recordOne(t, db, "a", suppress.Event{Address: "a@example.com", Date: date})
		// base.failed answers JSON with a "message": make it a proxy's page.
		srv.fault = nil
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("<html><body>503 Service Temporarily Unavailable</body></html>"))
				return
			}
			srv.serve(w, r)
		})
		st := deliver(t, d)
		assert.Equal(t, 1, st.Retried)
		assert.Zero(t, st.Failed)
	})
}

// TestListmonkSoftThreshold: listmonk counts each type of bounce forever
// (queries/bounces.sql, record-bounce), so two soft bounces years apart
// reach a soft action of 2. By default it hears of a soft bounce only when
// bouncer's own threshold suppresses the address, once, as a hard bounce
// that says why.
func TestListmonkSoftThreshold(t *testing.T) {
	day := func(y, d int) time.Time { return time.Date(y, 1, d, 4, 0, 0, 0, time.UTC) }
	history := func(t *testing.T, db *suppress.DB) {
		// Three soft bounces on three days within 30 days, and a fourth.
		for i, d := range []int{1, 2, 3, 4} {
			recordOne(t, db, fmt.Sprint("full ", i), suppress.Event{Address: "full@example.com",
				Reason: classify.ReasonMailboxFull, Date: day(2026, d)})
		}
		// Two soft bounces ten years apart.
		for i, y := range []int{2016, 2026} {
			recordOne(t, db, fmt.Sprint("rare ", i), suppress.Event{Address: "rare@example.com",
				Reason: classify.ReasonMailboxFull, Date: day(y, 10)})
		}
	}
	// A listmonk whose soft action blocklists after 2 bounces.
	newSrv := func(t *testing.T) *listmonkServer {
		srv := newListmonk(t, "api", "tok")
		srv.actions["soft"] = listmonkAction{2, "blocklist"}
		srv.subscribe("full@example.com", "enabled")
		srv.subscribe("rare@example.com", "enabled")
		return srv
	}

	t.Run("threshold", func(t *testing.T) {
		srv := newSrv(t)
		db := openState(t, filepath.Join(t.TempDir(), "state.db"))
		d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok"), Soft: SoftThreshold},
			"listmonk="+srv.URL)
		history(t, db)
		st := deliver(t, d)
		assert.Equal(t, Stats{Delivered: 1, BelowThreshold: 5}, st)
		require.Len(t, srv.Accepted(), 1)
		b := srv.Accepted()[0]
		assert.Equal(t, "full@example.com", b.Email)
		assert.Equal(t, "hard", b.Type)
		assert.Equal(t, day(2026, 3), b.CreatedAt, "the soft bounce that reached the threshold")
		var meta map[string]any
		require.NoError(t, json.Unmarshal(b.Meta, &meta))
		assert.Equal(t, "soft", meta["category"])
		assert.Equal(t, "soft threshold: 3 soft bounces on 3 days within 30 days (policy: 3 on 3 days within 30 days)", meta["decision"])
		assert.Equal(t, "blocklisted", srv.Status("full@example.com"), "listmonk's hard action, once")
		assert.Equal(t, "enabled", srv.Status("rare@example.com"), "bouncer's window kept them")
	})
	t.Run("all", func(t *testing.T) {
		srv := newSrv(t)
		db := openState(t, filepath.Join(t.TempDir(), "state.db"))
		d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok"), Soft: SoftAll},
			"listmonk="+srv.URL)
		history(t, db)
		st := deliver(t, d)
		assert.Equal(t, 6, st.Delivered+st.AlreadyBlocklisted)
		assert.Equal(t, "blocklisted", srv.Status("rare@example.com"),
			"listmonk counted two soft bounces ten years apart")
	})
}

// TestListmonkIDs: the subscriber and campaign UUIDs read from the
// returned original go with the bounce; the subscriber's only when the
// subscriber with the address has it.
func TestListmonkIDs(t *testing.T) {
	srv := newListmonk(t, "api", "tok")
	srv.autoSubscribe = false
	sub := srv.subscribe("sub@example.com", "enabled")
	other := srv.subscribe("other@example.com", "enabled")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+srv.URL)
	date := time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)
	const campaign = "0e9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c"
	recordOne(t, db, "a", suppress.Event{Address: "sub@example.com", Date: date,
		ListSubscriber: sub.uuid, ListCampaign: campaign})
	// The original names another subscriber (a forward): the address wins.
	recordOne(t, db, "b", suppress.Event{Address: "other@example.com", Date: date,
		ListSubscriber: sub.uuid, ListCampaign: campaign})
	assert.Equal(t, Stats{Delivered: 2}, deliver(t, d))
	got := map[string][2]string{}
	for _, b := range srv.Accepted() {
		got[b.Email] = [2]string{b.SubscriberUUID, b.CampaignUUID}
	}
	assert.Equal(t, map[string][2]string{"sub@example.com": {sub.uuid, campaign}, "other@example.com": {"", campaign}}, got)
	assert.Equal(t, "blocklisted", srv.Status(other.email))
	assert.Empty(t, srv.Violations())
}
