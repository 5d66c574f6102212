package push

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openState(t *testing.T, path string) *suppress.DB {
	t.Helper()
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func writeSecrets(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "push-secrets")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return p
}

// bounce is a message with one event of each category for addresses
// numbered n: gone (hard), full (soft), angry (complaint), blocked
// (policy), ooo (none).
func bounce(n int) *suppress.Message {
	date := time.Date(2026, 1, n, 4, 0, 0, 0, time.UTC)
	a := func(name string) string { return fmt.Sprintf("%s%d@example.com", name, n) }
	return &suppress.Message{
		Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
		Hash:      suppress.Hash([]byte(fmt.Sprintf("bounce %d", n))),
		MessageID: fmt.Sprintf("<bounce-%d@mx.example>", n),
		Source:    "imap",
		Date:      date,
		Events: []suppress.Event{
			{Address: a("gone"), Reason: classify.ReasonUserUnknown, Status: "5.1.1", ReplyCode: "550",
				Diagnostic: "550 5.1.1 <" + a("gone") + ">: user unknown", Date: date, MessageID: "<news-1@list.example>", Source: "rfc3464"},
			{Address: a("full"), Reason: classify.ReasonMailboxFull, Status: "4.2.2", ReplyCode: "452",
				Diagnostic: "452 4.2.2 Postfach voll – Kontingent überschritten", MessageID: "<news-1@list.example>", Source: "rfc3464"},
			{Address: a("angry"), Reason: classify.ReasonFeedback, MessageID: "<news-1@list.example>", Source: "arf"},
			{Address: a("blocked"), Reason: classify.ReasonBlocked, Status: "5.7.1", ReplyCode: "554",
				Diagnostic: "554 5.7.1 listed at a DNSBL", Source: "rfc3464"},
			{Address: a("ooo"), Reason: classify.ReasonVacation, Source: "rfc3834"},
		},
	}
}

func record(t *testing.T, db *suppress.DB, ns ...int) {
	t.Helper()
	for _, n := range ns {
		_, err := db.Record(context.Background(), bounce(n))
		require.NoError(t, err)
	}
}

func target(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	require.NoError(t, err)
	return tg
}

// newDeliverer makes a Deliverer for targets. The tests of delivery use
// the events of every category as their fodder, so soft bounces go to
// listmonk as soft (SoftAll) unless opts.Soft says otherwise; the default,
// SoftThreshold, has tests of its own.
func newDeliverer(t *testing.T, db *suppress.DB, opts Options, targets ...string) *Deliverer {
	t.Helper()
	if opts.Soft == "" {
		opts.Soft = SoftAll
	}
	var ts []Target
	for _, s := range targets {
		ts = append(ts, target(t, s))
	}
	d, err := New(db, ts, &opts)
	require.NoError(t, err)
	return d
}

func deliver(t *testing.T, d *Deliverer) Stats {
	t.Helper()
	st, err := d.Deliver(context.Background())
	require.NoError(t, err)
	return st
}

func TestListmonk(t *testing.T) {
	srv := newListmonk(t, "bouncer-api", "tok3n")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	clock := newClock()
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk bouncer-api:tok3n"), Now: clock.Now},
		"listmonk="+srv.URL)
	record(t, db, 1, 2)

	st := deliver(t, d)
	assert.Equal(t, Stats{Delivered: 6}, st)
	assert.Empty(t, srv.Violations())

	var got []string
	for _, b := range srv.Accepted() {
		got = append(got, b.Email+" "+b.Type)
	}
	sort.Strings(got)
	assert.Equal(t, []string{
		"angry1@example.com complaint", "angry2@example.com complaint",
		"full1@example.com soft", "full2@example.com soft",
		"gone1@example.com hard", "gone2@example.com hard",
	}, got, "hard, soft and complaint events, once each; no policy block, no notice")

	var gone listmonkBounceIn
	for _, b := range srv.Accepted() {
		if b.Email == "gone1@example.com" {
			gone = b
		}
	}
	assert.Equal(t, ListmonkSource, gone.Source)
	assert.Equal(t, time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC), gone.CreatedAt.UTC(), "created_at is the bounce's date")
	assert.JSONEq(t, `{"reason":"userunknown","category":"hard","status":"5.1.1","reply_code":"550",
		"diagnostic":"550 5.1.1 <gone1@example.com>: user unknown","message_id":"<news-1@list.example>",
		"bounce_message_id":"<bounce-1@mx.example>","bouncer_id":"`+eventKeyOf(t, db, d.Targets()[0].String(), "gone1@example.com")+`"}`, string(gone.Meta))

	clock.Advance(24 * time.Hour)
	assert.Equal(t, Stats{}, deliver(t, d), "a second pass sends nothing")
	assert.Len(t, srv.Accepted(), 6)
}

// eventKeyOf is the outbox key of the event for addr delivered to target.
func eventKeyOf(t *testing.T, db *suppress.DB, target, addr string) string {
	t.Helper()
	es, err := db.Outbox(context.Background(), target, suppress.OutboxDelivered, 1000)
	require.NoError(t, err)
	for _, e := range es {
		if e.Event.Address == addr {
			return e.Key
		}
	}
	t.Fatalf("no delivered event for %s", addr)
	return ""
}

func TestPermanentErrors(t *testing.T) {
	tests := []struct {
		name  string
		token string // the token in the secret file
		code  int    // injected answer; 0: none
		want  error
		// stops: the target is left alone after the first refusal.
		stops bool
	}{
		{"400 invalid data", "tok", http.StatusBadRequest, ErrRejected, false},
		{"404", "tok", http.StatusNotFound, ErrRejected, false},
		{"422", "tok", http.StatusUnprocessableEntity, ErrRejected, false},
		{"401", "tok", http.StatusUnauthorized, ErrUnauthorized, true},
		{"403 wrong token", "wrong", 0, ErrUnauthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newListmonk(t, "api", "tok")
			if tt.code != 0 {
				srv.fault = func(string, int) int { return tt.code }
			}
			db := openState(t, filepath.Join(t.TempDir(), "state.db"))
			clock := newClock()
			d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:"+tt.token), Now: clock.Now},
				"listmonk="+srv.URL)
			record(t, db, 1)

			st := deliver(t, d)
			name := d.Targets()[0].String()
			c, err := db.OutboxCount(context.Background(), name)
			require.NoError(t, err)
			if tt.stops {
				assert.Equal(t, Stats{Failed: 1, Errors: st.Errors}, st)
				assert.Equal(t, suppress.OutboxCounts{Failed: 1, Pending: 2}, c, "the rest wait for a fixed token")
			} else {
				assert.Equal(t, Stats{Failed: 3, Errors: st.Errors}, st)
				assert.Equal(t, suppress.OutboxCounts{Failed: 3}, c)
			}
			require.NotEmpty(t, st.Errors)
			assert.ErrorIs(t, st.Errors[0], tt.want)
			var pe *Error
			require.ErrorAs(t, st.Errors[0], &pe)
			assert.True(t, pe.Permanent())
			assert.NotZero(t, pe.StatusCode)

			failed, err := db.Outbox(context.Background(), name, suppress.OutboxFailed, 10)
			require.NoError(t, err)
			require.NotEmpty(t, failed)
			assert.Contains(t, failed[0].LastError, fmt.Sprint(pe.StatusCode), "the answer is recorded")

			// Never retried, however long one waits.
			requests := srv.Requests()
			clock.Advance(30 * 24 * time.Hour)
			if !tt.stops {
				assert.Equal(t, Stats{}, deliver(t, d))
				assert.Equal(t, requests, srv.Requests())
			}
		})
	}
}

func TestRetryThenDeliverOnce(t *testing.T) {
	for _, perEvent := range []bool{false, true} {
		name := "target answers 500 once, then 200"
		if perEvent {
			name = "every event answered 500 once, then 200"
		}
		t.Run(name, func(t *testing.T) { testRetryThenDeliverOnce(t, perEvent) })
	}
}

func testRetryThenDeliverOnce(t *testing.T, perEvent bool) {
	clock := newClock()
	var (
		mu    sync.Mutex
		first = map[*base]bool{}
	)
	fault500 := func(b *base) fault {
		return func(_ string, n int) int {
			if perEvent {
				if n == 1 {
					return http.StatusInternalServerError
				}
				return 0
			}
			mu.Lock()
			defer mu.Unlock()
			if !first[b] {
				first[b] = true
				return http.StatusInternalServerError
			}
			return 0
		}
	}
	lm := newListmonk(t, "api", "tok")
	lm.fault = fault500(&lm.base)
	mt := newMautic(t, "admin", "pw", map[int]string{1: "gone1@example.com", 2: "angry1@example.com"})
	mt.fault = fault500(&mt.base)
	wh := newWebhook(t, "whsec", clock.Now)
	wh.fault = fault500(&wh.base)

	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{
		SecretFile: writeSecrets(t, "listmonk api:tok", "mautic admin:pw", "webhook whsec"),
		Now:        clock.Now, MinBackoff: time.Minute,
	}, "listmonk="+lm.URL, "mautic="+mt.URL, "webhook="+wh.URL)
	record(t, db, 1)

	st := deliver(t, d)
	assert.Equal(t, 0, st.Delivered)
	assert.Equal(t, 3, st.Retried, "one failure leaves the target alone for the pass")
	for _, err := range st.Errors {
		assert.ErrorIs(t, err, ErrUnavailable)
	}

	// Pass after pass, past each backoff, until one has nothing to do.
	var total Stats
	for i := 0; i < 50; i++ {
		clock.Advance(time.Minute)
		st := deliver(t, d)
		total.Delivered += st.Delivered
		total.Failed += st.Failed
		if st.Delivered+st.Retried+st.Failed == 0 {
			break
		}
	}
	assert.Equal(t, 3+2+5, total.Delivered)
	assert.Zero(t, total.Failed)
	clock.Advance(24 * time.Hour)
	assert.Equal(t, Stats{}, deliver(t, d))

	assert.Len(t, lm.Accepted(), 3)
	assert.Equal(t, map[int][]int{1: {2}, 2: {1}}, mt.DNC())
	assert.Len(t, wh.Events(), 5)
	for id, n := range wh.Seen() {
		assert.Equal(t, 1, n, "event %s", id)
	}
	assert.Empty(t, lm.Violations())
	assert.Empty(t, mt.Violations())
	assert.Empty(t, wh.Violations())
}

func TestBackoffAndGiveUp(t *testing.T) {
	clock := newClock()
	srv := newListmonk(t, "api", "tok")
	srv.fault = func(string, int) int { return http.StatusBadGateway }
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok"), Now: clock.Now,
		MaxAttempts: 4, MinBackoff: time.Minute, MaxBackoff: 3 * time.Minute}, "listmonk="+srv.URL)
	_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte("x")), Date: clock.Now(),
		Events: []suppress.Event{{Address: "a@example.com", Reason: classify.ReasonUserUnknown}}})
	require.NoError(t, err)

	// Waits: 1m, 2m, 3m (capped), then the fourth attempt fails for good.
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute} {
		st := deliver(t, d)
		require.Equal(t, 1, st.Retried, "attempt %d", i+1)
		clock.Advance(wait - time.Second)
		require.Equal(t, Stats{}, deliver(t, d), "attempt %d: due only after %v", i+1, wait)
		clock.Advance(time.Second)
	}
	st := deliver(t, d)
	assert.Equal(t, 1, st.Failed)
	require.Len(t, st.Errors, 1)
	assert.ErrorIs(t, st.Errors[0], ErrGaveUp)
	assert.ErrorIs(t, st.Errors[0], ErrUnavailable)
	clock.Advance(24 * time.Hour)
	assert.Equal(t, Stats{}, deliver(t, d))
	assert.Equal(t, 4, srv.Tries("a@example.com"))

	// After the cause is fixed, RequeueFailed sends it again.
	srv.mu.Lock()
	srv.fault = nil
	srv.mu.Unlock()
	n, err := db.RequeueFailed(context.Background(), d.Targets()[0].String())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, Stats{Delivered: 1}, deliver(t, d))
}

func TestRetryAfter(t *testing.T) {
	clock := newClock()
	wh := newWebhook(t, "k", clock.Now)
	wh.fault = func(_ string, n int) int {
		if n == 1 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	wh.faultHdr = http.Header{"Retry-After": {"600"}}
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "webhook k"), Now: clock.Now, MinBackoff: time.Minute},
		"webhook="+wh.URL)
	_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte("x")), Date: clock.Now(),
		Events: []suppress.Event{{Address: "a@example.com", Reason: classify.ReasonUserUnknown}}})
	require.NoError(t, err)

	st := deliver(t, d)
	require.Equal(t, 1, st.Retried)
	var pe *Error
	require.ErrorAs(t, st.Errors[0], &pe)
	assert.Equal(t, 10*time.Minute, pe.RetryAfter)
	clock.Advance(9 * time.Minute)
	assert.Equal(t, Stats{}, deliver(t, d), "Retry-After: 600 outweighs a 1m backoff")
	clock.Advance(time.Minute)
	assert.Equal(t, 1, deliver(t, d).Delivered)
}

func TestRestartDeliversNothingTwiceAndLosesNothing(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	lm := newListmonk(t, "api", "tok")
	contacts := map[int]string{}
	for n := 1; n <= 3; n++ {
		contacts[10*n+1] = fmt.Sprintf("gone%d@example.com", n)
		contacts[10*n+2] = fmt.Sprintf("angry%d@example.com", n)
	}
	mt := newMautic(t, "admin", "pw", contacts)
	wh := newWebhook(t, "whsec", clock.Now)
	path := filepath.Join(t.TempDir(), "state.db")
	secrets := writeSecrets(t, "listmonk api:tok", "mautic admin:pw", "webhook whsec")
	targets := []string{"listmonk=" + lm.URL, "mautic=" + mt.URL + "/", "webhook=" + wh.URL}
	opts := Options{SecretFile: secrets, Now: clock.Now}

	// Run 1 records message 1 and delivers it; it records message 2 and
	// stops before delivering.
	db := openState(t, path)
	d := newDeliverer(t, db, opts, targets...)
	record(t, db, 1)
	assert.Equal(t, 3+2+5, deliver(t, d).Delivered)
	record(t, db, 2)
	require.NoError(t, db.Close())

	// Run 2: the same targets; message 1 again (already recorded) and 3.
	db = openState(t, path)
	d = newDeliverer(t, db, opts, targets...)
	res, err := db.Record(ctx, bounce(1))
	require.NoError(t, err)
	require.True(t, res.Already)
	record(t, db, 3)
	assert.Equal(t, 2*(3+2+5), deliver(t, d).Delivered, "messages 2 and 3, nothing of 1")
	require.NoError(t, db.Close())

	// Run 3: nothing left.
	db = openState(t, path)
	d = newDeliverer(t, db, opts, targets...)
	clock.Advance(48 * time.Hour)
	assert.Equal(t, Stats{}, deliver(t, d))

	count := map[string]int{}
	for _, b := range lm.Accepted() {
		count[b.Email]++
	}
	assert.Len(t, count, 9)
	for e, n := range count {
		assert.Equal(t, 1, n, "listmonk got %s %d times", e, n)
	}
	dnc := mt.DNC()
	assert.Len(t, dnc, 6)
	for id, rs := range dnc {
		assert.Len(t, rs, 1, "contact %d", id)
	}
	assert.Len(t, wh.Seen(), 15)
	for id, n := range wh.Seen() {
		assert.Equal(t, 1, n, "webhook got %s %d times", id, n)
	}
}

func TestMautic(t *testing.T) {
	mt := newMautic(t, "admin", "pa:ss", map[int]string{
		1: "gone1@example.com",
		2: "angry1@example.com",
		3: "xgone1@example.com", // a loose search finds it too: must be left alone
		4: "gone1@example.com",  // Mautic allows duplicates: both are marked
		5: "blocked1@example.com",
		6: "full1@example.com",
	})
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "mautic admin:pa:ss")}, "mautic="+mt.URL)
	record(t, db, 1)
	_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte("nobody")), Date: time.Now(),
		Events: []suppress.Event{{Address: "nobody@example.com", Reason: classify.ReasonUserUnknown}}})
	require.NoError(t, err)

	st := deliver(t, d)
	assert.Equal(t, 2, st.Delivered)
	assert.Equal(t, 1, st.Failed)
	require.Len(t, st.Errors, 1)
	assert.ErrorIs(t, st.Errors[0], ErrNoContact)
	assert.Equal(t, map[int][]int{1: {2}, 4: {2}, 2: {1}}, mt.DNC(),
		"hard: reason 2 (bounced) on both duplicates; complaint: 1 (unsubscribed); no soft, no policy block, no decoy")
	assert.Empty(t, mt.Violations())

	// Wrong password: Mautic's 401 is ErrUnauthorized.
	db2 := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d2 := newDeliverer(t, db2, Options{SecretFile: writeSecrets(t, "mautic admin:wrong")}, "mautic="+mt.URL)
	record(t, db2, 1)
	st = deliver(t, d2)
	assert.Equal(t, 1, st.Failed)
	assert.ErrorIs(t, st.Errors[0], ErrUnauthorized)
}

func TestWebhook(t *testing.T) {
	clock := newClock()
	wh := newWebhook(t, "s3cret-key", clock.Now)
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "webhook="+wh.URL+"/hook s3cret-key"), Now: clock.Now},
		"webhook="+wh.URL+"/hook")
	record(t, db, 1)

	assert.Equal(t, Stats{Delivered: 5}, deliver(t, d))
	assert.Empty(t, wh.Violations())
	byType := map[EventType]Event{}
	for _, e := range wh.Events() {
		byType[e.Type] = e
	}
	assert.Len(t, byType, 5, "every category, policy blocks and notices included")
	hard := byType[EventHardBounce]
	assert.Equal(t, "gone1@example.com", hard.Email)
	assert.Equal(t, classify.CategoryHard, hard.Category)
	assert.Equal(t, classify.ReasonUserUnknown, hard.Reason)
	assert.Equal(t, "5.1.1", hard.Status)
	assert.Equal(t, "550", hard.ReplyCode)
	assert.Equal(t, "<news-1@list.example>", hard.MessageID)
	assert.Equal(t, "<bounce-1@mx.example>", hard.BounceMessageID)
	assert.Equal(t, time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC), hard.Date)
	assert.Len(t, hard.ID, 32)
	assert.Equal(t, "blocked1@example.com", byType[EventPolicyBlock].Email)
	assert.Equal(t, "ooo1@example.com", byType[EventNotice].Email)
	assert.Equal(t, "angry1@example.com", byType[EventComplaint].Email)
	assert.Equal(t, "full1@example.com", byType[EventSoftBounce].Email)

	// A sender with another key is refused by the receiver.
	db2 := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d2 := newDeliverer(t, db2, Options{SecretFile: writeSecrets(t, "webhook other-key"), Now: clock.Now}, "webhook="+wh.URL+"/hook")
	record(t, db2, 2)
	st := deliver(t, d2)
	assert.Equal(t, 1, st.Failed)
	assert.ErrorIs(t, st.Errors[0], ErrUnauthorized)
	assert.Len(t, wh.Events(), 5)
}

func TestSign(t *testing.T) {
	// HMAC-SHA256("key", "1700000000.{}"), computed independently
	// (python3: hmac.new(b"key", b"1700000000.{}", hashlib.sha256)).
	body := []byte("{}")
	sig := Sign([]byte("key"), 1700000000, body)
	assert.Equal(t, "v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae", sig)
	h := http.Header{}
	h.Set("Webhook-Timestamp", "1700000000")
	h.Set("Webhook-Signature", sig)
	assert.NoError(t, verifySignature([]byte("key"), h, body, time.Unix(1700000000, 0), time.Minute))
	assert.Error(t, verifySignature([]byte("key"), h, []byte(`{"x":1}`), time.Unix(1700000000, 0), time.Minute))
	assert.Error(t, verifySignature([]byte("key"), h, body, time.Unix(1700000000+3600, 0), time.Minute), "stale")
	assert.Regexp(t, `^v1=[0-9a-f]{64}$`, sig)
}

func TestPolicyBlocksNeverSentToLists(t *testing.T) {
	lm := newListmonk(t, "api", "tok")
	mt := newMautic(t, "admin", "pw", map[int]string{1: "blocked1@example.com", 2: "ooo1@example.com"})
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok", "mautic admin:pw")},
		"listmonk="+lm.URL, "mautic="+mt.URL)
	record(t, db, 1)
	deliver(t, d)
	for _, b := range lm.Accepted() {
		assert.NotContains(t, []string{"blocked1@example.com", "ooo1@example.com"}, b.Email)
	}
	assert.Empty(t, mt.DNC())
	for _, tg := range d.Targets() {
		for _, st := range []suppress.OutboxState{suppress.OutboxPending, suppress.OutboxDelivered, suppress.OutboxFailed} {
			es, err := db.Outbox(context.Background(), tg.String(), st, 100)
			require.NoError(t, err)
			for _, e := range es {
				assert.NotEqual(t, classify.CategoryPolicy, e.Event.Category, "%s queued a policy block", tg)
			}
		}
	}
}

// TestDeliverDoesNotBlockRecord: while a target sits on a request, the
// mailbox work (Record) goes on.
func TestDeliverDoesNotBlockRecord(t *testing.T) {
	lm := newListmonk(t, "api", "tok")
	held := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	lm.hold = func(string, *http.Request) bool {
		once.Do(func() { close(held) })
		<-release
		return true
	}
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok")}, "listmonk="+lm.URL)
	record(t, db, 1)

	done := make(chan Stats)
	go func() {
		st, _ := d.Deliver(context.Background())
		done <- st
	}()
	<-held
	recorded := make(chan error)
	go func() {
		_, err := db.Record(context.Background(), bounce(2))
		recorded <- err
	}()
	select {
	case err := <-recorded:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Error("Record waited for the push")
	}
	close(release)
	assert.Equal(t, 3, (<-done).Delivered)
	assert.Equal(t, 3, deliver(t, d).Delivered, "the next pass takes the events recorded meanwhile")
}

func TestRunAndNotify(t *testing.T) {
	lm := newListmonk(t, "api", "tok")
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok"), Interval: time.Hour}, "listmonk="+lm.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()

	record(t, db, 1)
	d.Notify()
	deadline := time.Now().Add(10 * time.Second)
	for len(lm.Accepted()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		d.Notify()
	}
	assert.Len(t, lm.Accepted(), 3)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestSecretsNeverLogged(t *testing.T) {
	lm := newListmonk(t, "api", "right")
	var logs bytes.Buffer
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:Sup3rSecretT0ken"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, "listmonk="+lm.URL)
	record(t, db, 1)
	st := deliver(t, d)
	require.NotEmpty(t, st.Errors)
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), "Sup3rSecretT0ken")
	for _, err := range st.Errors {
		assert.NotContains(t, err.Error(), "Sup3rSecretT0ken")
	}
	assert.Equal(t, "[redacted]", fmt.Sprint(secret("x")))
	assert.Equal(t, "[redacted]", fmt.Sprintf("%#v", secret("x")))
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"listmonk=https://lists.example.org", "listmonk=https://lists.example.org", nil},
		{"listmonk=https://lists.example.org/", "listmonk=https://lists.example.org", nil},
		{"Mautic=https://crm.example.org/mautic/", "mautic=https://crm.example.org/mautic", nil},
		{"webhook=https://hooks.example.org/bounces?src=bouncer", "webhook=https://hooks.example.org/bounces?src=bouncer", nil},
		{"webhook=http://127.0.0.1:8080/", "webhook=http://127.0.0.1:8080/", nil},
		{"listmonk", "", ErrBadTarget},
		{"sendy=https://x.example", "", ErrBadTarget},
		{"listmonk=ftp://x.example", "", ErrBadTarget},
		{"listmonk=https://", "", ErrBadTarget},
		{"listmonk=/relative", "", ErrBadTarget},
		{"listmonk=https://user:pw@x.example", "", ErrBadTarget},
		{"https://user:pw@x.example/?a=b", "", ErrBadTarget},
		{"listmonk=https://user:pw%zz@x.example", "", ErrBadTarget},
		{"webhook=https://x.example/#frag", "", ErrBadTarget},
		{"mautic=https://x.example/?a=b", "", ErrBadTarget},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.NotContains(t, fmt.Sprint(err), "pw", "no credential in the error")
				assert.NotContains(t, fmt.Sprint(err), "x.example", "the value is not echoed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
			again, err := ParseTarget(got.String())
			require.NoError(t, err)
			assert.Equal(t, got.String(), again.String(), "String is what ParseTarget reads")
		})
	}
}

func TestNewRefuses(t *testing.T) {
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	lm := target(t, "listmonk=https://lists.example.org")
	tests := []struct {
		name    string
		targets []Target
		secrets []string // nil: no file
		err     error
	}{
		{"no targets", nil, []string{"listmonk a:b"}, ErrBadTarget},
		{"no secret file", []Target{lm}, nil, ErrSecret},
		{"no secret for the target", []Target{lm}, []string{"mautic a:b"}, ErrSecret},
		{"listmonk secret without user", []Target{lm}, []string{"listmonk tokenonly"}, ErrSecret},
		{"a line without a name", []Target{lm}, []string{"a:b"}, ErrSecret},
		{"a name twice", []Target{lm}, []string{"listmonk a:b", "listmonk c:d"}, ErrSecret},
		{"a target twice", []Target{lm, lm}, []string{"listmonk a:b"}, ErrBadTarget},
		{"zero target", []Target{{}}, []string{"listmonk a:b"}, ErrBadTarget},
		{"http to a remote host", []Target{target(t, "listmonk=http://lists.example.org")}, []string{"listmonk a:b"}, ErrInsecure},
		{"http to a remote address", []Target{target(t, "webhook=http://192.0.2.1/hook")}, []string{"webhook k"}, ErrInsecure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts Options
			if tt.secrets != nil {
				opts.SecretFile = writeSecrets(t, tt.secrets...)
			}
			_, err := New(db, tt.targets, &opts)
			assert.ErrorIs(t, err, tt.err)
			assert.NotContains(t, fmt.Sprint(err), "tokenonly")
		})
	}
}

// TestNewInsecure accepts http:// targets on loopback hosts, and on
// others only with AllowInsecure.
func TestNewInsecure(t *testing.T) {
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	secrets := writeSecrets(t, "webhook k")
	for _, tt := range []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"webhook=http://127.0.0.1:8080/hook", false, true},
		{"webhook=http://127.1.2.3/hook", false, true},
		{"webhook=http://[::1]:8080/hook", false, true},
		{"webhook=http://localhost/hook", false, true},
		{"webhook=https://hooks.example.org/hook", false, true},
		{"webhook=http://hooks.example.org/hook", false, false},
		{"webhook=http://localhost.example.org/hook", false, false},
		{"webhook=http://hooks.example.org/hook", true, true},
	} {
		t.Run(tt.url, func(t *testing.T) {
			_, err := New(db, []Target{target(t, tt.url)}, &Options{SecretFile: secrets, AllowInsecure: tt.allow})
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInsecure)
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	p := writeSecrets(t,
		"# push credentials",
		"",
		"listmonk\tapi:general",
		"listmonk=https://two.example.org/   api:specific with spaces",
		"webhook key  \r",
	)
	s, err := loadSecrets(p)
	require.NoError(t, err)
	one, two := target(t, "listmonk=https://one.example.org"), target(t, "listmonk=https://two.example.org")
	v, err := s.forTarget(one)
	require.NoError(t, err)
	assert.Equal(t, secret("api:general"), v, "by kind")
	v, err = s.forTarget(two)
	require.NoError(t, err)
	assert.Equal(t, secret("api:specific with spaces"), v, "by target, before kind")
	v, err = s.forTarget(target(t, "webhook=https://h.example/x"))
	require.NoError(t, err)
	assert.Equal(t, secret("key"), v)
	_, err = s.forTarget(target(t, "mautic=https://m.example"))
	assert.ErrorIs(t, err, ErrSecret)
}

func TestErrorText(t *testing.T) {
	e := &Error{Target: "listmonk=https://x", Op: "post bounce", StatusCode: 422, Body: `{"message":"invalid email"}`, Err: ErrRejected}
	assert.Equal(t, `push: listmonk=https://x: post bounce: 422 Unprocessable Entity: {"message":"invalid email"}`, e.Error())
	assert.ErrorIs(t, e, ErrRejected)
	assert.Equal(t, "a b c", oneLine([]byte("  a\r\n\tb\x00c ")))
	assert.Equal(t, "é", cut("éé", 3))
}

// TestNoAnswerIsUncertain: a request that timed out may have reached the
// target, so its next attempt counts as Uncertain; a refused connection
// did not, so it does not.
func TestNoAnswerIsUncertain(t *testing.T) {
	clock := newClock()
	lm := newListmonk(t, "api", "tok")
	var once sync.Once
	lm.hold = func(_ string, r *http.Request) bool {
		slow := false
		once.Do(func() { slow = true })
		if slow {
			<-r.Context().Done() // outlive the client's timeout
			return false
		}
		return true
	}
	closed := newListmonk(t, "api", "tok")
	closed.Close() // nothing listens there any more

	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "listmonk api:tok"), Now: clock.Now,
		Timeout: time.Second}, "listmonk="+lm.URL, "listmonk="+closed.URL)
	_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte("x")), Date: clock.Now(),
		Events: []suppress.Event{{Address: "a@example.com", Reason: classify.ReasonUserUnknown}}})
	require.NoError(t, err)

	st := deliver(t, d)
	assert.Equal(t, 2, st.Retried)
	for _, err := range st.Errors {
		assert.ErrorIs(t, err, ErrUnavailable)
	}
	clock.Advance(time.Hour)
	st = deliver(t, d)
	assert.Equal(t, 1, st.Delivered, "%v", st.Errors)
	assert.Equal(t, 1, st.Retried, "the closed port again")
	assert.Equal(t, 1, st.Uncertain, "only the timed-out one")
	assert.Len(t, lm.Accepted(), 1)
}

// TestMauticSoftThreshold: a soft bounce reaches Mautic only when it
// brings its address to bouncer's soft threshold (3 on 3 days), once, as a
// bounce whose comment says so; the others are done below the threshold.
func TestMauticSoftThreshold(t *testing.T) {
	mt := newMautic(t, "admin", "pw", map[int]string{1: "full@example.com"})
	db := openState(t, filepath.Join(t.TempDir(), "state.db"))
	d := newDeliverer(t, db, Options{SecretFile: writeSecrets(t, "mautic admin:pw")}, "mautic="+mt.URL)
	for i, n := range []int{1, 2, 3, 4} {
		date := time.Date(2026, 1, n, 4, 0, 0, 0, time.UTC)
		_, err := db.Record(context.Background(), &suppress.Message{Hash: suppress.Hash([]byte(fmt.Sprint("soft ", i))), Source: "t", Date: date,
			Events: []suppress.Event{{Address: "full@example.com", Reason: classify.ReasonMailboxFull, Status: "4.2.2", Date: date}}})
		require.NoError(t, err)
	}
	st := deliver(t, d)
	assert.Equal(t, Stats{Delivered: 1, BelowThreshold: 3}, st)
	assert.Equal(t, map[int][]int{1: {2}}, mt.DNC(), "one entry, reason bounced")
	mt.mu.Lock()
	comments := mt.comments[1]
	mt.mu.Unlock()
	require.Len(t, comments, 1)
	assert.True(t, strings.HasPrefix(comments[0], "bouncer: soft threshold: 3 soft bounces on 3 days within 30 days"), comments[0])
	assert.Empty(t, mt.Violations())
}
