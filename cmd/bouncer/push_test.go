package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listmonkContract stands in for listmonk's bounce API (POST
// /webhooks/bounce, docs/apis/bounces.md): it refuses what listmonk
// refuses, the way it does, and keeps what it accepts.
type listmonkContract struct {
	*httptest.Server
	auth string // the Authorization listmonk expects

	mu         sync.Mutex
	accepted   map[string][]string // email: the types posted for it
	uuids      map[string][]string // email: subscriber_uuid and campaign_uuid posted
	ids        map[string]int      // meta.bouncer_id: posts
	violations []string
}

func newListmonkContract(t *testing.T, user, token string) *listmonkContract {
	s := &listmonkContract{auth: "token " + user + ":" + token, accepted: map[string][]string{}, ids: map[string]int{},
		uuids: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *listmonkContract) refuse(w http.ResponseWriter, code int, why string) {
	s.mu.Lock()
	s.violations = append(s.violations, why)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":%q}`, why)
}

// lookup answers listmonk's GET /api/subscribers?query=… (every address
// is an enabled subscriber: the list mailed it) and GET
// /api/subscribers/ID/bounces (none: bouncer asks only after a crash, and
// for its permission check), as push/servers_test.go's fuller stand-in
// does, with the source lines of listmonk cited there.
func (s *listmonkContract) lookup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path != "/api/subscribers" {
		io.WriteString(w, `{"data":[]}`)
		return
	}
	m := regexp.MustCompile(`^LOWER\(subscribers\.email\) = '(.*)'$`).FindStringSubmatch(r.URL.Query().Get("query"))
	if m == nil {
		s.refuse(w, http.StatusBadRequest, "invalid query")
		return
	}
	email := strings.ReplaceAll(m[1], "''", "'")
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"results": []map[string]any{
		{"id": 1, "uuid": "00000000-0000-4000-8000-000000000001", "email": email, "status": "enabled"}}}})
	w.Write(b)
}

func (s *listmonkContract) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/subscribers") {
		if r.Header.Get("Authorization") != s.auth {
			s.refuse(w, http.StatusForbidden, "invalid API credentials")
			return
		}
		s.lookup(w, r)
		return
	}
	switch {
	case r.URL.Path != "/webhooks/bounce":
		s.refuse(w, http.StatusNotFound, "Unknown URL "+r.URL.Path)
		return
	case r.Method != http.MethodPost:
		s.refuse(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	case r.Header.Get("Authorization") != s.auth:
		s.refuse(w, http.StatusForbidden, "invalid API credentials")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.refuse(w, http.StatusBadRequest, "invalid data: content type")
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if string(raw) == "{}" {
		// bouncer's permission check: refused as invalid (cmd/bounce.go
		// validateBounceFields), nothing recorded.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Invalid email / subscriber_uuid"}`)
		return
	}
	var b struct {
		Email          string          `json:"email"`
		SubscriberUUID string          `json:"subscriber_uuid"`
		CampaignUUID   string          `json:"campaign_uuid"`
		Source         string          `json:"source"`
		Type           string          `json:"type"`
		CreatedAt      time.Time       `json:"created_at"`
		Meta           json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		s.refuse(w, http.StatusBadRequest, "invalid data: "+err.Error())
		return
	}
	a, err := mail.ParseAddress(b.Email)
	switch {
	case err != nil || a.Address != b.Email:
		s.refuse(w, http.StatusBadRequest, "invalid email "+b.Email)
		return
	case b.Type != "hard" && b.Type != "soft" && b.Type != "complaint":
		s.refuse(w, http.StatusBadRequest, "invalid type "+b.Type)
		return
	case b.Source == "" || b.CreatedAt.IsZero():
		s.refuse(w, http.StatusBadRequest, "invalid source or created_at")
		return
	}
	var meta map[string]any
	if err := json.Unmarshal(b.Meta, &meta); err != nil {
		s.refuse(w, http.StatusBadRequest, "invalid meta")
		return
	}
	for _, k := range []string{"reason", "status", "diagnostic", "message_id", "bouncer_id"} {
		if _, ok := meta[k].(string); !ok {
			s.refuse(w, http.StatusBadRequest, "meta without "+k)
			return
		}
	}
	s.mu.Lock()
	s.accepted[b.Email] = append(s.accepted[b.Email], b.Type)
	s.uuids[b.Email] = []string{b.SubscriberUUID, b.CampaignUUID}
	s.ids[meta["bouncer_id"].(string)]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, `{"data":true}`)
}

func (s *listmonkContract) snapshot() (map[string][]string, map[string]int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := map[string][]string{}
	for k, v := range s.accepted {
		acc[k] = append([]string(nil), v...)
	}
	ids := map[string]int{}
	for k, v := range s.ids {
		ids[k] = v
	}
	return acc, ids, append([]string(nil), s.violations...)
}

// TestRunPushListmonk runs bouncer run --push listmonk=URL over a Maildir
// holding a hard bounce, a soft one, a complaint and a policy block: each
// of the first three reaches listmonk once, the policy block never, and a
// second run over new mail pushes only the new event.
func TestRunPushListmonk(t *testing.T) {
	complaint, err := os.ReadFile(filepath.Join("..", "..", "testdata", "arf-01.eml"))
	require.NoError(t, err)
	const (
		hardAddr = "seed-nosuchuser@example.net"
		softAddr = "seed-quota@example.net"
		rblAddr  = "seed-rbl@example.net"
	)
	msgs := map[string][]byte{
		"1.hard":      seedDSN(0, hardAddr, "5.1.1", "550 5.1.1 No such user <"+hardAddr+">"),
		"2.soft":      seedDSN(1, softAddr, "4.2.2", "452 4.2.2 Mailbox full <"+softAddr+">"),
		"3.policy":    seedDSN(2, rblAddr, "5.7.1", "550 Denied by policy: Sender is listed on DNS-based RBL"),
		"4.complaint": complaint,
	}
	lm := newListmonkContract(t, "bouncer-api", "s3cret")
	dir := t.TempDir()
	md := newMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	secrets := writeFile(t, filepath.Join(dir, "push-secrets"), "# listmonk API user\nlistmonk bouncer-api:s3cret\n")
	args := []string{"run", "--maildir", md, "--state", filepath.Join(dir, "s.db"), "--out", filepath.Join(dir, "list.csv"),
		"--push", "listmonk=" + lm.URL, "--push-secret-file", secrets}

	code, stdout, stderr := runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	acc, ids, violations := lm.snapshot()
	assert.Empty(t, violations, "requests that break listmonk's contract")
	// One soft bounce is below bouncer's soft threshold: listmonk, which
	// counts soft bounces forever, does not hear of it (--push-soft).
	assert.Equal(t, map[string][]string{hardAddr: {"hard"}, complaintAddr: {"complaint"}}, acc)
	for id, n := range ids {
		assert.Equal(t, 1, n, "bouncer_id %s posted %d times", id, n)
	}
	assert.Contains(t, stdout, "pushed: 2 delivered, 0 to retry, 0 failed; done without effect: 0 not a subscriber, 0 already blocklisted, 1 soft below bouncer's threshold")
	assert.NotContains(t, stderr, "push:")

	// Nothing new: nothing pushed again.
	code, stdout, stderr = runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	again, _, _ := lm.snapshot()
	assert.Equal(t, acc, again)
	assert.Contains(t, stdout, "pushed: 0 delivered")

	// A new bounce: only it is pushed.
	const later = "seed-later@example.net"
	newMaildir(t, md, map[string][]byte{"5.hard": seedDSN(5, later, "5.1.1", "550 5.1.1 No such user <"+later+">")})
	code, stdout, stderr = runBouncer(t, args...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	acc, _, violations = lm.snapshot()
	assert.Empty(t, violations)
	assert.Equal(t, []string{"hard"}, acc[later])
	assert.Len(t, acc, 3)
	assert.NotContains(t, acc, rblAddr, "a policy block is never sent to listmonk")
}

// TestRunPushFailures checks that a target that refuses the credentials,
// or cannot be reached, warns and does not fail the run, and that a bad
// --push or a missing secret is refused before the mailbox is touched.
func TestRunPushFailures(t *testing.T) {
	dir := t.TempDir()
	const addr = "seed-nosuchuser@example.net"
	md := newMaildir(t, filepath.Join(dir, "Maildir"), map[string][]byte{"1": seedDSN(0, addr, "5.1.1", "550 5.1.1 No such user")})
	lm := newListmonkContract(t, "bouncer-api", "right")
	wrong := writeFile(t, filepath.Join(dir, "wrong"), "listmonk bouncer-api:wrong\n")
	state := filepath.Join(dir, "s.db")
	base := []string{"run", "--maildir", md, "--after", "none", "--state", state}

	t.Run("refused", func(t *testing.T) {
		// The credentials are asked about before the mailbox is touched.
		code, stdout, stderr := runBouncer(t, append(base, "--push", "listmonk="+lm.URL, "--push-secret-file", wrong)...)
		checkOneLineError(t, code, stdout, stderr, "bouncer: push: the target refuses what the push needs: listmonk=")
		assert.Contains(t, stderr, "403 invalid API credentials")
		assert.Contains(t, stderr, "subscribers:sql_query", "names the permissions the role needs")
		assert.Len(t, listDir(t, filepath.Join(md, "new")), 1, "the mailbox is untouched")
	})
	t.Run("before the mailbox", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"bad target", []string{"--push", "ftp=ftp://x", "--push-secret-file", wrong}, exitUsage, "push: bad target"},
			{"no secret file", []string{"--push", "listmonk=" + lm.URL}, exitUsage, "--push needs --push-secret-file"},
			{"no secret for it", []string{"--push", "webhook=" + lm.URL, "--push-secret-file", wrong}, exitError, "no secret for webhook="},
			{"missing file", []string{"--push", "listmonk=" + lm.URL, "--push-secret-file", filepath.Join(dir, "nope")}, exitError, "push: secret"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fresh := t.TempDir()
				code, stdout, stderr := runBouncer(t, append([]string{"run", "--maildir", md, "--state", filepath.Join(fresh, "s.db")}, tc.args...)...)
				assert.Equal(t, tc.code, code, "%s%s", stdout, stderr)
				assert.Contains(t, stderr, tc.want)
				assert.Len(t, listDir(t, filepath.Join(md, "new")), 1, "the mailbox is untouched")
			})
		}
	})
}
