package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// testToken is the console's token in the tests.
const testToken = "test-token-0123456789abcdef"

// latest is the date of the latest bounce of testHistory.
var latest = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// ev is an event of testHistory: an address, a reason, days before latest.
type ev struct {
	addr   string
	reason classify.Reason
	ago    int
}

// testHistory is a small history: two hard bounces, one complaint, a soft
// bounce that qualifies (3 days) and one that does not, and policy blocks
// at two domains this week and one older.
var testHistory = []ev{
	{"gone@example.com", classify.ReasonUserUnknown, 0},
	{"nodomain@nowhere.example", classify.ReasonHostUnknown, 40},
	{"angry@example.org", classify.ReasonFeedback, 3},
	{"full@example.net", classify.ReasonMailboxFull, 1},
	{"full@example.net", classify.ReasonMailboxFull, 2},
	{"full@example.net", classify.ReasonMailboxFull, 5},
	{"once@example.net", classify.ReasonMailboxFull, 1},
	{"a@outlook.example", classify.ReasonBlocked, 1},
	{"b@outlook.example", classify.ReasonBlocked, 2},
	{"c@outlook.example", classify.ReasonAuthFailure, 2},
	{"d@mail.gmx.example", classify.ReasonBlocked, 4},
	{"old@gmx.example", classify.ReasonBlocked, 30},
}

// record writes one message per event of evs into db, from mailbox.
func record(t testing.TB, db *suppress.DB, mailbox string, evs []ev) {
	t.Helper()
	ctx := context.Background()
	for i, e := range evs {
		m := &suppress.Message{
			Mailbox: mailbox, UIDValidity: 7, UID: uint32(i + 1),
			Hash:      suppress.Hash([]byte(fmt.Sprintf("%s %s %d", mailbox, e.addr, e.ago))),
			MessageID: fmt.Sprintf("<b%d@mx.example>", i), Source: "imap",
			Events: []suppress.Event{{
				Address: e.addr, Reason: e.reason, Status: "5.0.0", ReplyCode: "550",
				Diagnostic: "550 refused: " + string(e.reason), Date: latest.AddDate(0, 0, -e.ago),
				MessageID: fmt.Sprintf("<news-%d@news.example>", e.ago), Source: "rfc3464",
				Evidence: `phrase "` + string(e.reason) + `"`, RecipientFrom: "dsn",
			}},
		}
		_, err := db.Record(ctx, m)
		require.NoError(t, err)
	}
	require.NoError(t, db.SaveState(ctx, mailbox, 7, uint32(len(evs))))
}

// env is a console under test, served by httptest.
type env struct {
	path string // the state file
	db   *suppress.DB
	srv  *Server
	ts   *httptest.Server
}

// newEnv opens a state in a temporary folder, records testHistory and
// serves the console over it.
func newEnv(t *testing.T, opts *Options) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	record(t, db, "imaps://bounce@mail.example.org/INBOX", testHistory)
	o := Options{Token: testToken}
	if opts != nil {
		o = *opts
		o.Token = testToken
	}
	srv, err := New(db, &o)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{path: path, db: db, srv: srv, ts: ts}
}

// client returns an HTTP client that keeps cookies and does not follow
// redirects.
func (e *env) client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs c in with the token and returns the CSRF token of the
// overview.
func (e *env) login(t *testing.T, c *http.Client) string {
	t.Helper()
	resp, err := c.PostForm(e.ts.URL+"/login", url.Values{"token": {testToken}, "next": {"/"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body := e.get(t, c, "/", "")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the overview has no CSRF token: %s", body)
	return m[1]
}

// get sends GET path with c, with the bearer token tok unless empty, and
// returns the answer and its body.
func (e *env) get(t *testing.T, c *http.Client, path, tok string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, c, req)
}

// post sends POST path with the form values.
func (e *env) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}
