package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maildirArrival is the delivery time writeMaildir's names give.
var maildirArrival = time.Unix(1772447400, 0).UTC()

func testSigner(t *testing.T) *verp.Signer {
	keys, err := verp.NewKeys([]byte("6c1f0e8b2d5a4e7f9b3c1d0a8e6f4b2c"))
	require.NoError(t, err)
	return &verp.Signer{Keys: keys}
}

func returnPath(t *testing.T, s *verp.Signer, rcpt string) string {
	a, err := s.ReturnPath("bounce@lists.example.org", rcpt, maildirArrival.Add(-time.Hour))
	require.NoError(t, err)
	return a
}

// forwardDSN is a report delivered to rp whose recipient was forwarded:
// sent to orig, failed at final.
func forwardDSN(rp, orig, final, padding string) []byte {
	return []byte(fmt.Sprintf("Delivered-To: %[1]s\nFrom: MAILER-DAEMON@mx.example.net\nTo: %[1]s\n"+
		"Subject: Undelivered Mail Returned to Sender\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"+
		"--B\nContent-Type: text/plain\n\nNot delivered.\n%[4]s\n--B\nContent-Type: message/delivery-status\n\n"+
		"Reporting-MTA: dns; mx.example.net\n\nOriginal-Recipient: rfc822; %[2]s\nFinal-Recipient: rfc822; %[3]s\n"+
		"Action: failed\nStatus: 5.1.1\n\n--B--\n", rp, orig, final, padding))
}

func suppressed(t *testing.T, db *suppress.DB) []string {
	l, err := db.Lists(context.Background(), nil, nil)
	require.NoError(t, err)
	var out []string
	for _, e := range l.Suppressed {
		out = append(out, e.Address)
	}
	return out
}

// TestRunProofForward checks that a signed VERP tag covers the address it
// was made for alone: of a failed forward, the original address
// suppresses, the one it led to is recorded without effect; and that the
// header is found when the message is parsed as it streams.
func TestRunProofForward(t *testing.T) {
	s := testSigner(t)
	for name, padding := range map[string]string{"inline": "", "streamed": strings.Repeat("padding line\n", 200)} {
		t.Run(name, func(t *testing.T) {
			msg := forwardDSN(returnPath(t, s, "dana@example.com"), "dana@example.com", "dana@forward.example", padding)
			opts := &Options{Proof: &ProofChecker{Checker: proof.Checker{Signer: s}}, InlineBytes: 1024}
			st, db, _ := runMaildir(t, [][]byte{msg}, opts)
			assert.Equal(t, 1, st.Bounces)
			assert.Zero(t, st.Unverified)
			assert.Equal(t, []string{"dana@example.com"}, suppressed(t, db))
		})
	}
	t.Run("a tag for someone else", func(t *testing.T) {
		msg := forwardDSN(returnPath(t, s, "erin@example.com"), "dana@example.com", "dana@forward.example", "")
		dir := t.TempDir()
		file := filepath.Join(dir, "unverified.csv")
		opts := &Options{Proof: &ProofChecker{Checker: proof.Checker{Signer: s}}, UnverifiedFile: file}
		st, db, _ := runMaildir(t, [][]byte{msg}, opts)
		assert.Equal(t, 1, st.Unverified)
		assert.Empty(t, suppressed(t, db))
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, "email,reason,evidence,category,date,message,suppressed\n", strings.SplitAfter(string(b), "\n")[0])
		assert.Contains(t, string(b), "\ndana@example.com,wrong-recipient,"+returnPath(t, s, "erin@example.com")+",hard,2026-03-02T10:00:00Z,")
	})
	t.Run("recipient read from the signed address", func(t *testing.T) {
		// A notice that names no one: dsn reads the recipient from the
		// address it was delivered to, as an unsigned VERP address.
		rp := returnPath(t, s, "dana@example.com")
		msg := []byte("Delivered-To: " + rp + "\nFrom: MAILER-DAEMON@mx.example.net\nTo: " + rp +
			"\nSubject: failure notice\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n\n" +
			"Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n" +
			"This is a permanent error; I've given up. Sorry it didn't work out.\n\nSorry, no mailbox here by that name. (#5.1.1)\n")
		opts := &Options{Proof: &ProofChecker{Checker: proof.Checker{Signer: s}}}
		st, db, _ := runMaildir(t, [][]byte{msg}, opts)
		assert.Zero(t, st.Unverified)
		assert.Equal(t, []string{"dana@example.com"}, suppressed(t, db), "the recipient the tag was made for")
	})
	t.Run("our domain", func(t *testing.T) {
		msg := forwardDSN("bounce@lists.example.org", "dana@example.com", "dana@example.com", "")
		opts := &Options{Proof: &ProofChecker{Checker: proof.Checker{OurDomains: []string{"lists.example.org"}}}}
		st, db, _ := runMaildir(t, [][]byte{msg}, opts)
		assert.Equal(t, 1, st.Unverified, "the returned original names no domain of ours")
		assert.Empty(t, suppressed(t, db))
	})
}

// TestRunWatchPush checks that with Watch the Deliverer runs beside the
// job: a bounce recorded is pushed without waiting for Run to end, and
// Run returns once both are done.
func TestRunWatchPush(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/api/subscribers" {
			// listmonk's subscriber lookup (push/servers_test.go has the
			// whole stand-in): the address is a subscriber.
			w.Write([]byte(`{"data":{"results":[{"id":1,"email":"a@example.net","status":"enabled"}]}}`))
			return
		}
		if r.URL.Path != "/webhooks/bounce" || r.Header.Get("Authorization") != "token api:tok" {
			http.Error(w, `{"message":"no"}`, http.StatusForbidden)
			return
		}
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
		w.Write([]byte(`{"data":true}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeMaildir(t, filepath.Join(dir, "Maildir"), [][]byte{forwardDSN("bounce@lists.example.org", "a@example.net", "a@example.net", "")})
	db := openState(t, filepath.Join(dir, "s.db"))
	defer db.Close()
	secrets := filepath.Join(dir, "secrets")
	require.NoError(t, os.WriteFile(secrets, []byte("listmonk api:tok\n"), 0o600))
	target, err := push.ParseTarget("listmonk=" + srv.URL)
	require.NoError(t, err)
	d, err := push.New(db, []push.Target{target}, &push.Options{SecretFile: secrets, Interval: time.Hour})
	require.NoError(t, err)
	src, err := mailsource.OpenMaildir(filepath.Join(dir, "Maildir"), &mailsource.MaildirOptions{Action: mailsource.ActionNone})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats, 1)
	go func() {
		st, err := Run(ctx, db, src, &Options{Watch: true, Poll: 50 * time.Millisecond, Push: d})
		assert.NoError(t, err)
		done <- st
	}()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["/webhooks/bounce"] == 1
	}, 10*time.Second, 20*time.Millisecond, "pushed while watching")
	cancel()
	st := <-done
	assert.Equal(t, 1, st.Events[classify.CategoryHard])
	assert.Nil(t, st.Push, "no closing pass in watch mode")
	again, err := d.Deliver(context.Background())
	require.NoError(t, err)
	assert.Zero(t, again.Delivered, "nothing left to push")
}
