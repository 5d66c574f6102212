//go:build unix

package push

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// Crash modes of TestDeliverSIGKILL.
const (
	// crashInRequest: SIGKILL while the target holds the third request,
	// before it acted on it.
	crashInRequest = "in-request"
	// crashAfterAccept: SIGKILL after the target accepted the third
	// event, before it is marked delivered: the documented window.
	crashAfterAccept = "after-accept"
)

// TestDeliverSIGKILL runs Deliver in a child process (this test binary
// again), kills it with SIGKILL in the middle of a push, then delivers the
// rest from the reopened state and counts what each target saw.
func TestDeliverSIGKILL(t *testing.T) {
	if path := os.Getenv("PUSH_CRASH_STATE"); path != "" {
		crashChild(path, os.Getenv("PUSH_CRASH_TARGET"), os.Getenv("PUSH_CRASH_SECRETS"), os.Getenv("PUSH_CRASH_MODE"))
		return
	}
	for _, kind := range Kinds() {
		// (An API user that may not look up listmonk's bounces is refused
		// by Deliverer.Check before anything is pushed: TestListmonkCheck.)
		for _, mode := range []string{crashInRequest, crashAfterAccept} {
			t.Run(string(kind)+"/"+mode, func(t *testing.T) { testSIGKILL(t, kind, mode) })
		}
	}
}

func testSIGKILL(t *testing.T, kind Kind, mode string) {
	var (
		lm   *listmonkServer
		mt   *mauticServer
		wh   *webhookServer
		srv  *base
		url  string
		want int // events for the target in messages 1-3
		// queued are the target's outbox entries: want, and for Mautic
		// the soft bounces, done below bouncer's threshold (no request).
		queued int
	)
	switch kind {
	case KindListmonk:
		lm = newListmonk(t, "api", "tok")
		srv, url, want = &lm.base, lm.URL, 9
	case KindMautic:
		contacts := map[int]string{}
		for _, n := range []string{"1", "2", "3"} {
			contacts[len(contacts)+1] = "gone" + n + "@example.com"
			contacts[len(contacts)+1] = "angry" + n + "@example.com"
		}
		mt = newMautic(t, "admin", "pw", contacts)
		srv, url, want, queued = &mt.base, mt.URL, 6, 9
	case KindWebhook:
		wh = newWebhook(t, "whsec", time.Now)
		srv, url, want = &wh.base, wh.URL, 15
	}
	queued = max(queued, want)
	held := make(chan struct{})
	if mode == crashInRequest {
		var (
			mu sync.Mutex
			n  int
		)
		srv.hold = func(_ string, r *http.Request) bool {
			mu.Lock()
			n++
			third := n == 3
			mu.Unlock()
			if !third {
				return true
			}
			close(held)
			<-r.Context().Done() // the client died: nothing was done
			return false
		}
	}

	path := filepath.Join(t.TempDir(), "state.db")
	secrets := writeSecrets(t, "listmonk api:tok", "mautic admin:pw", "webhook whsec")
	tg := string(kind) + "=" + url
	db := openState(t, path)
	newDeliverer(t, db, Options{SecretFile: secrets}, tg)
	record(t, db, 1, 2, 3)
	require.NoError(t, db.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestDeliverSIGKILL$")
	cmd.Env = append(os.Environ(), "PUSH_CRASH_STATE="+path, "PUSH_CRASH_TARGET="+tg,
		"PUSH_CRASH_SECRETS="+secrets, "PUSH_CRASH_MODE="+mode)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	if mode == crashInRequest {
		select {
		case <-held:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the child never reached the third request")
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	}
	err := cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL,
		"child = %v, want killed by SIGKILL; output:\n%s", err, out.String())

	// The next run delivers the rest.
	db = openState(t, path)
	before, err := db.OutboxCount(context.Background(), tg)
	require.NoError(t, err)
	// Two were acted on before the crash; for Mautic, soft bounces met on
	// the way were done without a request.
	assert.GreaterOrEqual(t, before.Delivered, 2)
	assert.LessOrEqual(t, before.Delivered, 2+queued-want)
	d := newDeliverer(t, db, Options{SecretFile: secrets}, tg)
	st := deliver(t, d)
	assert.Equal(t, 1, st.Uncertain, "the attempt the crash cut is known")
	assert.Equal(t, queued-before.Delivered, st.Delivered+st.BelowThreshold, "the rest, each once")
	assert.Equal(t, Stats{}, deliver(t, d))
	c, err := db.OutboxCount(context.Background(), tg)
	require.NoError(t, err)
	assert.Equal(t, suppress.OutboxCounts{Delivered: queued}, c)

	// What the target saw. In the window (after-accept), the cut event
	// is sent again, unless listmonk is found to hold it; what a repeat
	// does is the target's own: Mautic keeps one Do Not Contact entry, a
	// webhook receiver drops the repeat by Webhook-Id, listmonk records it
	// twice.
	repeats := 0
	if mode == crashAfterAccept && kind != KindListmonk {
		repeats = 1
	}
	switch kind {
	case KindListmonk:
		seen := map[string]int{}
		twice := 0
		for _, b := range lm.Accepted() {
			seen[b.Email+" "+b.Type]++
			if seen[b.Email+" "+b.Type] == 2 {
				twice++
			}
		}
		assert.Len(t, seen, want, "nothing lost")
		assert.Equal(t, repeats, twice, "events listmonk recorded twice")
		assert.Len(t, lm.Accepted(), want+repeats)
		if mode != crashInRequest {
			assert.NotZero(t, lm.Lookups(), "the uncertain event was looked up first")
		}
	case KindMautic:
		dnc := mt.DNC()
		assert.Len(t, dnc, want, "nothing lost")
		twice := 0
		for _, rs := range dnc {
			if len(rs) == 2 {
				twice++
				assert.Equal(t, rs[0], rs[1], "the repeat is the same entry")
			}
		}
		assert.Equal(t, repeats, twice)
	case KindWebhook:
		assert.Len(t, wh.Events(), want, "each event once after dropping repeats by Webhook-Id")
		twice := 0
		for _, n := range wh.Seen() {
			if n == 2 {
				twice++
			}
		}
		assert.Equal(t, repeats, twice, "deliveries with a repeated Webhook-Id")
	}
}

// crashChild delivers from the state at path; in crashAfterAccept mode it
// kills itself after the third acceptance, else the test kills it.
func crashChild(path, target, secrets, mode string) {
	ctx := context.Background()
	db, err := suppress.Open(ctx, path, nil)
	if err != nil {
		os.Exit(2)
	}
	tg, err := ParseTarget(target)
	if err != nil {
		os.Exit(2)
	}
	d, err := New(db, []Target{tg}, &Options{SecretFile: secrets, Soft: SoftAll})
	if err != nil {
		os.Exit(2)
	}
	if mode == crashAfterAccept {
		n := 0
		testHookAccepted = func(*suppress.OutboxEntry) {
			if n++; n == 3 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // wait for the signal
			}
		}
	}
	d.Deliver(ctx)
	os.Exit(3) // not killed: the test fails
}
