package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/listexport"
	"github.com/bouncer-dev/bouncer/suppress"
)

// rowsOf returns the addresses of the list page's rows.
func rowsOf(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr><th scope="row">(?:<a href="[^"]*">)?([^<]+@[^<]+)(?:</a>)?</th>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestOverviewPage(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	// 12 events; suppressed: gone, nodomain (hard), angry (complaint), full (soft).
	assert.Contains(t, body, "12 events recorded")
	assert.Contains(t, body, `<strong id="suppressed-total">4</strong>`)
	assert.Contains(t, body, "2 hard")
	assert.Contains(t, body, "1 soft")
	assert.Contains(t, body, "1 complaint")
	// Two charts, each with its table.
	assert.Equal(t, 2, strings.Count(body, `<svg class="chart"`))
	assert.Contains(t, body, "<caption>Bounces per day, newest first</caption>")
	assert.Contains(t, body, "<caption>Addresses suppressed at the end of each day, newest first</caption>")
	// The latest day: gone (hard); its row in the table says 1 hard, 1 total.
	assert.Contains(t, body, `<tr><th scope="row">2026-11-20</th><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>`)
	// Day -1: full, once (soft) and a@outlook (policy).
	assert.Contains(t, body, `<tr><th scope="row">2026-11-19</th><td>0</td><td>2</td><td>1</td><td>0</td><td>3</td></tr>`)
	// The list's size: 1 (nodomain, 40 days back) until angry's complaint
	// 3 days back, then 2; 3 when full's third soft bounce (1 day back), 4 with gone.
	assert.Contains(t, body, `<tr><th scope="row">2026-11-16</th><td>1</td></tr>`)
	assert.Contains(t, body, `<tr><th scope="row">2026-11-17</th><td>2</td></tr>`)
	assert.Contains(t, body, `<tr><th scope="row">2026-11-19</th><td>3</td></tr>`)
	assert.Contains(t, body, `<tr><th scope="row">2026-11-20</th><td>4</td></tr>`)
	// Policy blocks of the week, by domain: outlook 3 (blocked 2, authfailure 1), then mail.gmx.
	i, j := strings.Index(body, ">outlook.example</a>"), strings.Index(body, ">mail.gmx.example</a>")
	require.True(t, i > 0 && j > i, "outlook.example before mail.gmx.example")
	assert.Contains(t, body, "blocked (2), authfailure (1)")
	assert.NotContains(t, body, ">gmx.example</a>", "30 days back is not this week")
	// The mailbox.
	assert.Contains(t, body, "imaps://bounce@mail.example.org/INBOX")
	assert.Contains(t, body, "12 (UIDVALIDITY 7)")
}

func TestOverviewEmptyState(t *testing.T) {
	db, err := suppress.Open(context.Background(), t.TempDir()+"/state.db", nil)
	require.NoError(t, err)
	defer db.Close()
	srv, err := New(db, &Options{Token: testToken})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "The state holds no bounce yet")
}

func TestSuppressionsFilters(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"angry@example.org", "full@example.net", "gone@example.com", "nodomain@nowhere.example"}},
		{"category=hard", []string{"gone@example.com", "nodomain@nowhere.example"}},
		{"category=soft", []string{"full@example.net"}},
		{"category=policy", []string{"a@outlook.example", "b@outlook.example", "c@outlook.example", "d@mail.gmx.example", "old@gmx.example"}},
		{"category=policy&domain=gmx.example", []string{"d@mail.gmx.example", "old@gmx.example"}},
		{"category=policy&reason=authfailure", []string{"c@outlook.example"}},
		{"reason=userunknown", []string{"gone@example.com"}},
		{"domain=EXAMPLE.com", []string{"gone@example.com"}},
		{"since=2026-11-10", []string{"angry@example.org", "full@example.net", "gone@example.com"}},
		{"since=2d", []string{"full@example.net", "gone@example.com"}},
		{"category=complaint&since=1d", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := e.get(t, c, "/suppressions?"+tc.query, testToken)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tc.want, rowsOf(body))
		})
	}
}

func TestSuppressionsBadFilter(t *testing.T) {
	e := newEnv(t, nil)
	for _, q := range []string{"category=nope", "category=hard,soft", "reason=nope", "since=yesterday", "page=0", "page=x", "per=100000"} {
		resp, body := e.get(t, e.client(t), "/suppressions?"+q, testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assert.Contains(t, body, "bad filter", q)
	}
}

func TestSuppressionsPaged(t *testing.T) {
	e := newEnv(t, &Options{PageSize: 3})
	c := e.client(t)
	_, body := e.get(t, c, "/suppressions?category=policy", testToken)
	assert.Equal(t, []string{"a@outlook.example", "b@outlook.example", "c@outlook.example"}, rowsOf(body))
	assert.Contains(t, body, "page 1 of 2")
	assert.Contains(t, body, `href="/suppressions?category=policy&amp;page=2" rel="next"`)
	assert.NotContains(t, body, `rel="prev"`)
	_, body = e.get(t, c, "/suppressions?category=policy&page=2", testToken)
	assert.Equal(t, []string{"d@mail.gmx.example", "old@gmx.example"}, rowsOf(body))
	assert.Contains(t, body, `href="/suppressions?category=policy" rel="prev"`)
	_, body = e.get(t, c, "/suppressions?category=policy&page=9", testToken)
	assert.Empty(t, rowsOf(body))
}

func TestDownloadEveryFormat(t *testing.T) {
	e := newEnv(t, nil)
	state := e.path
	for _, f := range suppress.Formats() {
		for _, cat := range []string{"", "hard", "policy"} {
			t.Run(string(f)+" "+cat, func(t *testing.T) {
				resp, body := e.get(t, e.client(t), "/suppressions/download?"+url.Values{"format": {string(f)}, "category": {cat}}.Encode(), testToken)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
				assert.Equal(t, `attachment; filename="suppressions-`+string(f)+`.csv"`, resp.Header.Get("Content-Disposition"))
				// The same bytes as bouncer export.
				var want bytes.Buffer
				req := &listexport.Request{State: state, Format: f, Stdout: &want}
				if cat != "" {
					req.Query.Categories = []classify.Category{classify.Category(cat)}
				}
				_, err := listexport.Export(context.Background(), req)
				require.NoError(t, err)
				assert.Equal(t, want.String(), body)
			})
		}
	}
	resp, _ := e.get(t, e.client(t), "/suppressions/download?format=nope", testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAPISuppression(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	resp, body := e.get(t, c, "/api/v1/suppressions/Gone@EXAMPLE.com", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, map[string]any{
		"email": "gone@example.com", "category": "hard", "reason": "userunknown",
		"since": "2026-11-20T09:30:00Z", "last_bounce": "2026-11-20T09:30:00Z", "bounces": float64(1),
		"status": "5.0.0", "reply_code": "550", "diagnostic": "550 refused: userunknown",
	}, got)

	for _, addr := range []string{"once@example.net", "a@outlook.example", "nobody@example.com"} {
		resp, body = e.get(t, c, "/api/v1/suppressions/"+addr, testToken)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, addr)
		assert.JSONEq(t, `{"error": "not suppressed", "email": "`+addr+`"}`, body)
	}
	resp, body = e.get(t, c, "/api/v1/suppressions/not-an-address", testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, `"error"`)
}

func TestAPISuppressions(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/api/v1/suppressions?category=policy&per=2&page=2", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got SuppressionPage
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, 5, got.Total)
	assert.Equal(t, 2, got.Page)
	assert.Equal(t, 3, got.Pages)
	assert.Equal(t, latest, got.Now)
	require.Len(t, got.Suppressions, 2)
	assert.Equal(t, "c@outlook.example", got.Suppressions[0].Email)
	assert.Equal(t, classify.ReasonAuthFailure, got.Suppressions[0].Reason)

	resp, body = e.get(t, e.client(t), "/api/v1/suppressions?category=complaint&since=1d", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"suppressions": []`, "an empty page is an empty array, not null")
	resp, _ = e.get(t, e.client(t), "/api/v1/suppressions?reason=nope", testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAPIOverview(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/api/v1/overview", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got Overview
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, 12, got.Events)
	assert.Equal(t, map[classify.Category]int{"hard": 2, "soft": 1, "complaint": 1}, got.Suppressed)
	require.Len(t, got.Days, ChartDays)
	last := got.Days[ChartDays-1]
	assert.Equal(t, "2026-11-20", last.Day)
	assert.Equal(t, 4, last.ListSize)
	assert.Equal(t, map[classify.Category]int{"hard": 1}, last.Bounces)
	require.Len(t, got.PolicyBlocks, 2)
	assert.Equal(t, DomainJSON{Domain: "outlook.example", Blocks: 3, Addresses: 3,
		Reasons: map[classify.Reason]int{"blocked": 2, "authfailure": 1}}, got.PolicyBlocks[0])
	require.Len(t, got.Mailboxes, 1)
	assert.Equal(t, 12, got.Mailboxes[0].Messages)
	assert.Equal(t, uint32(12), got.Mailboxes[0].LastUID)
}

func TestOutboxPageAndRequeue(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	require.NoError(t, e.db.SetOutbox([]suppress.OutboxTarget{{Name: "listmonk=https://lists.example.org"}}))
	record(t, e.db, "maildir:/var/mail/bounces", []ev{
		{"late@example.com", classify.ReasonUserUnknown, 0},
		{"later@example.com", classify.ReasonUserUnknown, 0},
	})
	due, err := e.db.Due(ctx, "listmonk=https://lists.example.org", latest.AddDate(1, 0, 0), 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.NoError(t, e.db.MarkFailed(ctx, due[0].ID, latest, errString(`listmonk: 400 {"message":"invalid email"}`)))

	c := e.client(t)
	csrf := e.login(t, c)
	resp, body := e.get(t, c, "/outbox", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "listmonk=https://lists.example.org")
	assert.Contains(t, body, "1 pending, 0 delivered, 1 failed.")
	assert.Contains(t, body, `listmonk: 400 {&#34;message&#34;:&#34;invalid email&#34;}`, "the target's answer, escaped")
	assert.Contains(t, body, "Queue the 1 failed entries again")

	resp, _ = e.post(t, c, "/outbox/requeue", url.Values{"csrf": {csrf}, "target": {"listmonk=https://lists.example.org"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body = e.get(t, c, resp.Header.Get("Location"), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "1 failed entries of listmonk=https://lists.example.org queued again")
	assert.Contains(t, body, "2 pending, 0 delivered, 0 failed.")
	n, err := e.db.OutboxCount(ctx, "listmonk=https://lists.example.org")
	require.NoError(t, err)
	assert.Equal(t, suppress.OutboxCounts{Pending: 2}, n)
}

func TestOutboxPageEmpty(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/outbox", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "No push target has used this state")
}

// TestSeesWritesOfAnotherProcess: the console reads the state while
// another connection (bouncer run --watch) writes it, and shows the new
// events after Options.Refresh.
func TestSeesWritesOfAnotherProcess(t *testing.T) {
	e := newEnv(t, &Options{Refresh: time.Millisecond})
	c := e.client(t)
	resp, _ := e.get(t, c, "/api/v1/suppressions/new@example.com", testToken)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	writer, err := suppress.Open(context.Background(), e.path, nil)
	require.NoError(t, err)
	defer writer.Close()
	require.NoError(t, writer.Lock(), "the console holds no lock: a run can take it")
	record(t, writer, "imaps://other@mail.example.org/INBOX", []ev{{"new@example.com", classify.ReasonUserUnknown, 0}})

	assert.Eventually(t, func() bool {
		resp, _ := e.get(t, c, "/api/v1/suppressions/new@example.com", testToken)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond)
}

type errString string

func (e errString) Error() string { return string(e) }
