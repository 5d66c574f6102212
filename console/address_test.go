package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

func TestAddressPage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	resp, body := e.get(t, c, "/addresses/Gone@Example.com", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `<h1 id="address">gone@example.com</h1>`)
	assert.Contains(t, body, "as hard (userunknown) since 2026-11-20")
	assert.Contains(t, body, "a hard bounce suppresses at once, for good")
	assert.Contains(t, body, `phrase &#34;userunknown&#34;`, "the evidence")
	assert.Contains(t, body, "550 refused: userunknown", "what the server said")
	assert.Contains(t, body, "imaps://bounce@mail.example.org/INBOX UID 1", "where the bounce was read")
	assert.Contains(t, body, `href="/addresses/gone@example.com/allow"`)
	assert.Contains(t, body, `href="/addresses/gone@example.com/forget"`)

	resp, body = e.get(t, c, "/addresses/once@example.net", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Not suppressed.")
	assert.Contains(t, body, "Soft bounces under the threshold: 1 on 1 days")
	assert.NotContains(t, body, `/allow"`, "nothing to allow")

	resp, body = e.get(t, c, "/addresses/nobody@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, body, "Not in this state")
	resp, _ = e.get(t, c, "/addresses/not-an-address", testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAddressSearch(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	resp, _ := e.get(t, c, "/addresses?q="+url.QueryEscape(" Full@Example.NET "), testToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "an address goes to its page")
	assert.Equal(t, "/addresses/full@example.net", resp.Header.Get("Location"))

	resp, body := e.get(t, c, "/addresses?q=outlook", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, a := range []string{"a@outlook.example", "b@outlook.example", "c@outlook.example"} {
		assert.Contains(t, body, `<a href="/addresses/`+a+`">`+a+`</a>`)
	}
	assert.NotContains(t, body, "gone@example.com")
	_, body = e.get(t, c, "/addresses?q=zzz", testToken)
	assert.Contains(t, body, "No address of the history contains")
}

func TestAllowWithConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	csrf := e.login(t, c)

	// The confirmation step: a form, nothing changed yet.
	resp, body := e.get(t, c, "/addresses/gone@example.com/allow", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Allow gone@example.com?")
	assert.Contains(t, body, `name="csrf" value="`+csrf+`"`)
	resp, _ = e.get(t, c, "/api/v1/suppressions/gone@example.com", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, "still suppressed")

	// No CSRF token: 403; no reason: 400, asked again; bad until: 400.
	resp, _ = e.post(t, c, "/addresses/gone@example.com/allow", url.Values{"reason": {"fixed"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, body = e.post(t, c, "/addresses/gone@example.com/allow", url.Values{"csrf": {csrf}, "reason": {"  "}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, "needs a reason")
	resp, _ = e.post(t, c, "/addresses/gone@example.com/allow", url.Values{"csrf": {csrf}, "reason": {"x"}, "until": {"soon"}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, _ = e.post(t, c, "/addresses/gone@example.com/allow", url.Values{"csrf": {csrf}, "reason": {"typo fixed"}, "until": {"2027-01-31"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body = e.get(t, c, resp.Header.Get("Location"), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Allowed: the address leaves the lists")
	assert.Contains(t, body, "typo fixed")
	assert.Contains(t, body, "2027-01-31 23:59 UTC")
	assert.Contains(t, body, "console, 127.0.0.1", "who allowed it")
	// Off the list at once: the console does not show an old snapshot.
	resp, _ = e.get(t, c, "/api/v1/suppressions/gone@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, body = e.get(t, c, "/suppressions", "")
	assert.NotContains(t, rowsOf(body), "gone@example.com")
}

func TestForgetWithConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	csrf := e.login(t, c)
	resp, body := e.get(t, c, "/addresses/gone@example.com/forget", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Forget gone@example.com?")
	assert.Contains(t, body, "The state holds 1 events of it.")

	resp, _ = e.post(t, c, "/addresses/gone@example.com/forget", url.Values{"csrf": {"nope"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = e.post(t, c, "/addresses/gone@example.com/forget", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body = e.get(t, c, resp.Header.Get("Location"), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Forgot gone@example.com: 1 events")
	assert.NotContains(t, rowsOf(body), "gone@example.com")
	resp, _ = e.get(t, c, "/addresses/gone@example.com", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestPendingPage(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/pending", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "1 addresses have soft bounces in the window")
	assert.Contains(t, body, ">once@example.net</a>")
	assert.Contains(t, body, "<td>1 of 3</td>")
	assert.NotContains(t, body, ">full@example.net</a>", "suppressed, not pending")
}

func TestUnverifiedPage(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.db.Record(context.Background(), &suppress.Message{
		Mailbox: "INBOX", Hash: suppress.Hash([]byte("forged")), Source: "imap",
		Events: []suppress.Event{{Address: "victim@example.com", Category: classify.CategoryNone, Reason: classify.ReasonUserUnknown,
			Date: latest, Proof: "unverified: no-proof", Diagnostic: "550 no such user"}},
	})
	require.NoError(t, err)
	resp, body := e.get(t, e.client(t), "/unverified", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "1 failures were recorded without proof")
	assert.Contains(t, body, ">victim@example.com</a>")
	assert.Contains(t, body, "unverified: no-proof")
	resp, _ = e.get(t, e.client(t), "/api/v1/suppressions/victim@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "suppresses nothing")
}

func TestAPIAddress(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/api/v1/addresses/full@example.net", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var h map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	assert.Equal(t, true, h["suppressed"])
	assert.Equal(t, "soft", h["category"])
	assert.Equal(t, "soft-threshold", h["rule"])
	assert.Equal(t, "2026-11-15T09:30:00Z", h["since"])
	assert.Equal(t, false, h["allowed"])
	events, ok := h["events"].([]any)
	require.True(t, ok)
	require.Len(t, events, 3)
	ev := events[0].(map[string]any)
	for _, k := range []string{"date", "category", "reason", "status", "diagnostic", "evidence", "recipient_from", "source"} {
		assert.Contains(t, ev, k)
	}
	assert.Equal(t, `phrase "mailboxfull"`, ev["evidence"])

	resp, body = e.get(t, e.client(t), "/api/v1/addresses/nobody@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, body, `"known": false`)
	resp, _ = e.get(t, e.client(t), "/api/v1/addresses/x", testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// apiPost sends POST path with the JSON body and the bearer token.
func (e *env) apiPost(t *testing.T, path, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	return do(t, e.client(t), req)
}

func TestAPIAllow(t *testing.T) {
	e := newEnv(t, nil)
	for _, bad := range []string{``, `{`, `{"reason": ""}`, `{"reason": "x", "until": "soon"}`, `{"reason": "x", "other": 1}`} {
		resp, body := e.apiPost(t, "/api/v1/addresses/gone@example.com/allow", bad)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		assert.Contains(t, body, `"error"`, bad)
	}
	resp, body := e.apiPost(t, "/api/v1/addresses/Gone@example.com/allow", `{"reason": "re-subscribed", "by": "crm"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var a suppress.Allow
	require.NoError(t, json.Unmarshal([]byte(body), &a))
	assert.Equal(t, "gone@example.com", a.Address)
	assert.Equal(t, "re-subscribed", a.Reason)
	assert.Equal(t, "crm", a.By)
	resp, _ = e.get(t, e.client(t), "/api/v1/suppressions/gone@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "lifted at once")
	resp, body = e.get(t, e.client(t), "/api/v1/addresses/gone@example.com", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"allowed": true`)
}

func TestAPIForget(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.apiPost(t, "/api/v1/addresses/full@example.net/forget", ``)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var rep suppress.ForgetReport
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Len(t, rep.Addresses, 1)
	assert.Equal(t, "full@example.net", rep.Addresses[0].Address)
	assert.Equal(t, 3, rep.Addresses[0].Events)
	resp, _ = e.get(t, e.client(t), "/api/v1/addresses/full@example.net", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = e.get(t, e.client(t), "/api/v1/suppressions/full@example.net", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestAPIStats(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.client(t), "/api/v1/stats?since=7d&by=domain", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The same report as bouncer stats --format json.
	want, err := e.db.Stats(context.Background(), suppress.StatsQuery{By: suppress.StatsByDomain, Since: latest.AddDate(0, 0, -7)})
	require.NoError(t, err)
	var got suppress.StatsReport
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, want.Events, got.Events)
	assert.Equal(t, want.Groups, got.Groups)
	assert.Equal(t, want.PolicyByDomain, got.PolicyByDomain)
	assert.Equal(t, 4, got.Suppressed)
	for _, q := range []string{"by=nope", "since=yesterday"} {
		resp, _ = e.get(t, e.client(t), "/api/v1/stats?"+q, testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}
}
