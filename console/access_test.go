package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccessWithoutCredentials(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	for _, tc := range []struct {
		name, method, path string
		wantLoginForm      bool
	}{
		{"overview page", http.MethodGet, "/", true},
		{"list page", http.MethodGet, "/suppressions?category=hard", true},
		{"download", http.MethodGet, "/suppressions/download?format=plain", true},
		{"outbox page", http.MethodGet, "/outbox", true},
		{"requeue", http.MethodPost, "/outbox/requeue", false},
		{"search", http.MethodGet, "/addresses?q=gone", true},
		{"address page", http.MethodGet, "/addresses/gone@example.com", true},
		{"allow confirmation", http.MethodGet, "/addresses/gone@example.com/allow", true},
		{"allow", http.MethodPost, "/addresses/gone@example.com/allow", false},
		{"forget", http.MethodPost, "/addresses/gone@example.com/forget", false},
		{"pending", http.MethodGet, "/pending", true},
		{"unverified", http.MethodGet, "/unverified", true},
		{"API history", http.MethodGet, "/api/v1/addresses/gone@example.com", false},
		{"API allow", http.MethodPost, "/api/v1/addresses/gone@example.com/allow", false},
		{"API forget", http.MethodPost, "/api/v1/addresses/gone@example.com/forget", false},
		{"API stats", http.MethodGet, "/api/v1/stats", false},
		{"logout", http.MethodPost, "/logout", false},
		{"API address", http.MethodGet, "/api/v1/suppressions/gone@example.com", false},
		{"API list", http.MethodGet, "/api/v1/suppressions", false},
		{"API overview", http.MethodGet, "/api/v1/overview", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				resp *http.Response
				body string
			)
			if tc.method == http.MethodPost {
				resp, body = e.post(t, c, tc.path, url.Values{"target": {"x"}})
			} else {
				resp, body = e.get(t, c, tc.path, "")
			}
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			assert.Equal(t, tc.wantLoginForm, strings.Contains(body, `action="/login"`), "login form in %s", body)
			assert.NotContains(t, body, "userunknown", "data leaked without credentials")
		})
	}
	// Nothing changed: the address is still suppressed and known.
	resp, _ := e.get(t, c, "/api/v1/suppressions/gone@example.com", testToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAccessBearer(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	resp, body := e.get(t, c, "/api/v1/suppressions/gone@example.com", "wrong-token-0123456789")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	assert.NotContains(t, body, "userunknown")

	resp, _ = e.get(t, c, "/api/v1/suppressions/gone@example.com", testToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// The pages take the bearer token too (curl), and need no CSRF token
	// with it: a browser never sends it on its own.
	resp, body = e.get(t, c, "/suppressions", testToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "gone@example.com")
	resp, _ = e.post(t, c, "/outbox/requeue", url.Values{"target": {"x"}}, "Authorization", "Bearer "+testToken)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	// A session cookie does not open the API.
	e.login(t, c)
	resp, _ = e.get(t, c, "/api/v1/suppressions/gone@example.com", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestLoginSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, &Options{Secure: secure})
		c := e.client(t)
		resp, body := e.post(t, c, "/login", url.Values{"token": {"nope-nope-nope-nope"}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, body, "Wrong token")
		assert.Empty(t, resp.Cookies())

		resp, _ = e.post(t, c, "/login", url.Values{"token": {testToken}, "next": {"/suppressions"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/suppressions", resp.Header.Get("Location"))
		require.Len(t, resp.Cookies(), 1)
		ck := resp.Cookies()[0]
		assert.Equal(t, sessionCookie, ck.Name)
		assert.True(t, ck.HttpOnly, "HttpOnly")
		assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		assert.Equal(t, secure, ck.Secure, "Secure under TLS only")
		assert.GreaterOrEqual(t, len(ck.Value), 43, "a session ID of 32 random bytes")
	}
}

func TestLoginNextStaysOnSite(t *testing.T) {
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
		e := newEnv(t, nil)
		resp, _ := e.post(t, e.client(t), "/login", url.Values{"token": {testToken}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"), "next=%q", next)
	}
}

func TestLoginFromOtherOrigin(t *testing.T) {
	e := newEnv(t, nil)
	resp, _ := e.post(t, e.client(t), "/login", url.Values{"token": {testToken}}, "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Cookies())
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	csrf := e.login(t, c)
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
		want   int
	}{
		{"missing", url.Values{"target": {"x"}}, nil, http.StatusForbidden},
		{"wrong", url.Values{"target": {"x"}, "csrf": {csrf + "x"}}, nil, http.StatusForbidden},
		{"another session's", url.Values{"target": {"x"}, "csrf": {e.login(t, e.client(t))}}, nil, http.StatusForbidden},
		{"right, in the form", url.Values{"target": {"x"}, "csrf": {csrf}}, nil, http.StatusSeeOther},
		{"right, in the header", url.Values{"target": {"x"}}, []string{csrfHeader, csrf}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.post(t, c, "/outbox/requeue", tc.form, tc.header...)
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
	// Logging out needs it too, and ends the session.
	resp, _ := e.post(t, c, "/logout", url.Values{})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = e.post(t, c, "/logout", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = e.get(t, c, "/", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestLoginRateLimited(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, &Options{Now: func() time.Time { return now }})
	c := e.client(t)
	for i := 0; i < LoginFailures; i++ {
		resp, _ := e.post(t, c, "/login", url.Values{"token": {"guess-guess-guess-guess"}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	// Blocked now, even with the right token, and for the API as well.
	resp, _ := e.post(t, c, "/login", url.Values{"token": {testToken}})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	resp, _ = e.get(t, c, "/api/v1/overview", testToken)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	// The window passes.
	now = now.Add(LoginWindow)
	resp, _ = e.post(t, c, "/login", url.Values{"token": {testToken}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestWrongBearerCountsAsFailedLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	for i := 0; i < LoginFailures; i++ {
		resp, _ := e.get(t, c, "/api/v1/overview", "guess-guess-guess-guess")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	resp, _ := e.get(t, c, "/api/v1/overview", testToken)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}

func TestSessionExpires(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, &Options{Now: func() time.Time { return now }, SessionTTL: time.Hour})
	c := e.client(t)
	e.login(t, c)
	now = now.Add(time.Hour + time.Second)
	resp, _ := e.get(t, c, "/", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	for _, path := range []string{"/", "/login", "/static/style.css", "/api/v1/overview"} {
		resp, _ := e.get(t, c, path, "")
		assert.Equal(t, ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
	}
	assert.NotContains(t, ContentSecurityPolicy, "script-src", "no script is allowed at all (default-src 'none')")
}

func TestTokenEqual(t *testing.T) {
	assert.True(t, tokenEqual(testToken, testToken))
	assert.False(t, tokenEqual(testToken+"x", testToken))
	assert.False(t, tokenEqual("", testToken))
	assert.False(t, tokenEqual(testToken[:len(testToken)-1], testToken))
}

func TestSessionsCapped(t *testing.T) {
	s := newSessions(time.Hour)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	first, _ := s.create(now)
	for i := 1; i <= MaxSessions; i++ {
		s.create(now.Add(time.Duration(i) * time.Second))
	}
	assert.Len(t, s.m, MaxSessions)
	assert.Nil(t, s.get(first, now), "the oldest session gave way")
}
