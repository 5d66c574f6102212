// Package oauthtest runs an OAuth2 authorization server's token endpoint
// (RFC 6749 sections 3.2, 4.4, 5 and 6) and device authorization endpoint
// (RFC 8628 sections 3.1 to 3.5) on loopback for tests, enforcing the
// contract a client must follow:
//
//   - requests are POST with an application/x-www-form-urlencoded body and
//     no parameters in the query (RFC 6749 section 3.2);
//   - the client authenticates with HTTP Basic (client_id and secret
//     form-urlencoded, then base64, section 2.3.1) or with client_id and
//     client_secret in the body, never both (section 2.3); a public client
//     sends client_id and no secret;
//   - grant_type is refresh_token (with a refresh token this server issued
//     and did not revoke), client_credentials (confidential clients only),
//     authorization_code (section 4.1.3: the code once, the same
//     redirect_uri, and the PKCE code_verifier of RFC 7636 section 4.5), or
//     the device code grant (RFC 8628 section 3.4), polled no faster than
//     the interval, 5 s more after each slow_down (section 3.5);
//   - the authorization endpoint (a user who approves at once, or declines
//     with DenyAuthorization) gets response_type=code, a loopback
//     redirect_uri (RFC 8252 section 7.3), a state and an S256 PKCE
//     challenge.
//
// Answers are JSON with Cache-Control: no-store (section 5.1); errors are
// 400 (401 for invalid_client, with WWW-Authenticate after Basic) with the
// section 5.2 error codes. A client that breaks the contract gets the
// error answer and fails the test.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// DeviceCodeGrant is the grant_type of RFC 8628 section 3.4.
const DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

// pollTolerance is how much earlier than the interval a device poll may
// come without being a violation (timer jitter).
const pollTolerance = 200 * time.Millisecond

// slowDownStep is what RFC 8628 section 3.5 adds to the interval after
// slow_down.
const slowDownStep = 5 * time.Second

// Server is a running authorization server. Set its exported fields
// before the client's first request.
type Server struct {
	TokenURL      string
	DeviceAuthURL string
	AuthURL       string
	ClientID      string
	ClientSecret  string // empty: a public client

	// AccessTokenTTL is the expires_in of issued access tokens. Default 1 h.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens issues a new refresh token with each refresh and
	// revokes the old one, as Microsoft's identity platform may.
	RotateRefreshTokens bool
	// DeviceInterval is the polling interval the device authorization
	// answers with. Default 1 s.
	DeviceInterval time.Duration
	// DeviceScript lists the errors answered to successive device polls
	// (authorization_pending, slow_down, access_denied, expired_token)
	// before the token is issued.
	DeviceScript []string
	// DenyAuthorization makes the user decline at the authorization
	// endpoint (error=access_denied).
	DenyAuthorization bool

	tb  testing.TB
	srv *httptest.Server

	mu            sync.Mutex
	refreshTokens map[string]bool // issued and valid
	accessTokens  map[string]time.Time
	grants        map[string]int // requests per grant_type
	devices       map[string]*device
	codes         map[string]authCode
}

type authCode struct {
	redirectURI, challenge string
}

type device struct {
	userCode string
	interval time.Duration
	lastPoll time.Time
	polls    int
	done     bool
}

// Start starts a server for the client clientID (and clientSecret, empty
// for a public client) and stops it when the test ends.
func Start(tb testing.TB, clientID, clientSecret string) *Server {
	tb.Helper()
	s := &Server{
		ClientID:       clientID,
		ClientSecret:   clientSecret,
		AccessTokenTTL: time.Hour,
		DeviceInterval: time.Second,
		tb:             tb,
		refreshTokens:  map[string]bool{},
		accessTokens:   map[string]time.Time{},
		grants:         map[string]int{},
		devices:        map[string]*device{},
		codes:          map[string]authCode{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.token)
	mux.HandleFunc("/devicecode", s.deviceAuth)
	mux.HandleFunc("/authorize", s.authorize)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	s.TokenURL = s.srv.URL + "/token"
	s.DeviceAuthURL = s.srv.URL + "/devicecode"
	s.AuthURL = s.srv.URL + "/authorize"
	return s
}

// IssueRefreshToken returns a new valid refresh token, as if a user had
// authorized the client.
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newRefreshToken()
}

func (s *Server) newRefreshToken() string {
	rt := "rt-" + random()
	s.refreshTokens[rt] = true
	return rt
}

// Revoke revokes a refresh token, as a user or an administrator would.
func (s *Server) Revoke(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refreshTokens, refreshToken)
}

// ValidRefreshToken reports whether rt is issued and not revoked.
func (s *Server) ValidRefreshToken(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshTokens[rt]
}

// ValidAccessToken reports whether the server issued tok and it has not
// expired, as a resource server (IMAP) checks it.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.accessTokens[tok]
	return ok && time.Now().Before(exp)
}

// Requests returns the number of token requests seen for grantType.
func (s *Server) Requests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grantType]
}

func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// violation fails the test for a broken contract and answers the error.
func (s *Server) violation(w http.ResponseWriter, status int, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.tb.Errorf("oauthtest: client broke the contract: %s", msg)
	writeError(w, status, code, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// form checks the request shape and returns the body parameters.
func (s *Server) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method != http.MethodPost {
		s.violation(w, http.StatusMethodNotAllowed, "invalid_request", "method %s, want POST", r.Method)
		return nil, false
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		s.violation(w, http.StatusBadRequest, "invalid_request", "Content-Type %q, want application/x-www-form-urlencoded", ct)
		return nil, false
	}
	if r.URL.RawQuery != "" {
		s.violation(w, http.StatusBadRequest, "invalid_request", "parameters in the query: %s", r.URL.RawQuery)
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		s.violation(w, http.StatusBadRequest, "invalid_request", "bad form: %v", err)
		return nil, false
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			s.violation(w, http.StatusBadRequest, "invalid_request", "parameter %s repeated", k)
			return nil, false
		}
	}
	return r.PostForm, true
}

// authenticate checks the client's authentication (RFC 6749 section
// 2.3.1) and reports whether it is the registered client.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			s.violation(w, http.StatusBadRequest, "invalid_request", "Basic credentials not form-urlencoded")
			return false
		}
		if form.Has("client_secret") {
			s.violation(w, http.StatusBadRequest, "invalid_request", "client authenticated with Basic and client_secret both")
			return false
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			s.violation(w, http.StatusBadRequest, "invalid_request", "client_id %q differs from the Basic user %q", fid, id)
			return false
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" {
			s.violation(w, http.StatusBadRequest, "invalid_request", "no client_id and no Basic authentication")
			return false
		}
	}
	if s.ClientSecret == "" && secret != "" {
		s.violation(w, http.StatusBadRequest, "invalid_request", "a public client sent a secret")
		return false
	}
	if id != s.ClientID || secret != s.ClientSecret {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
		}
		writeError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return false
	}
	return true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	form, ok := s.form(w, r)
	if !ok || !s.authenticate(w, r, form) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := form.Get("grant_type")
	s.grants[grant]++
	switch grant {
	case "refresh_token":
		rt := form.Get("refresh_token")
		if rt == "" {
			s.violation(w, http.StatusBadRequest, "invalid_request", "refresh_token grant without refresh_token")
			return
		}
		if !s.refreshTokens[rt] {
			writeError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The refresh token has expired or been revoked.")
			return
		}
		newRT := ""
		if s.RotateRefreshTokens {
			delete(s.refreshTokens, rt)
			newRT = s.newRefreshToken()
		}
		s.issue(w, newRT)
	case "client_credentials":
		if s.ClientSecret == "" {
			writeError(w, http.StatusBadRequest, "unauthorized_client", "public clients cannot use client_credentials")
			return
		}
		if form.Get("scope") == "" {
			writeError(w, http.StatusBadRequest, "invalid_scope", "scope required")
			return
		}
		s.issue(w, "")
	case DeviceCodeGrant:
		s.devicePoll(w, form)
	case "authorization_code":
		s.exchange(w, form)
	case "":
		s.violation(w, http.StatusBadRequest, "invalid_request", "no grant_type")
	default:
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", grant)
	}
}

// issue answers a new access token (and refresh token, when not empty).
// s.mu is held.
func (s *Server) issue(w http.ResponseWriter, refreshToken string) {
	at := "at-" + random()
	s.accessTokens[at] = time.Now().Add(s.AccessTokenTTL)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(s.AccessTokenTTL / time.Second)}
	if refreshToken != "" {
		resp["refresh_token"] = refreshToken
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) deviceAuth(w http.ResponseWriter, r *http.Request) {
	form, ok := s.form(w, r)
	if !ok {
		return
	}
	if form.Get("client_id") != s.ClientID {
		writeError(w, http.StatusUnauthorized, "invalid_client", "unknown client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "dc-" + random()
	d := &device{userCode: strings.ToUpper(random()[:8]), interval: s.DeviceInterval}
	s.devices[code] = d
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               code,
		"user_code":                 d.userCode,
		"verification_uri":          s.srv.URL + "/device",
		"verification_uri_complete": s.srv.URL + "/device?code=" + d.userCode,
		"expires_in":                900,
		"interval":                  int(s.DeviceInterval / time.Second),
	})
}

// devicePoll answers a device code poll. s.mu is held.
func (s *Server) devicePoll(w http.ResponseWriter, form url.Values) {
	if form.Get("client_id") == "" {
		s.violation(w, http.StatusBadRequest, "invalid_request", "device code grant without client_id")
		return
	}
	d := s.devices[form.Get("device_code")]
	if d == nil || d.done {
		writeError(w, http.StatusBadRequest, "invalid_grant", "unknown or used device code")
		return
	}
	now := time.Now()
	if !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval-pollTolerance {
		s.tb.Errorf("oauthtest: device polled after %v, interval %v", now.Sub(d.lastPoll), d.interval)
		d.interval += slowDownStep
		d.lastPoll = now
		writeError(w, http.StatusBadRequest, "slow_down", "polling too fast")
		return
	}
	d.lastPoll = now
	if d.polls < len(s.DeviceScript) {
		code := s.DeviceScript[d.polls]
		d.polls++
		if code == "slow_down" {
			d.interval += slowDownStep
		}
		writeError(w, http.StatusBadRequest, code, "scripted")
		return
	}
	d.done = true
	s.issue(w, s.newRefreshToken())
}

// authorize is the authorization endpoint (RFC 6749 section 4.1.1): the
// user approves at once and the browser is redirected with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.violation(w, http.StatusMethodNotAllowed, "invalid_request", "authorization request with %s, want GET", r.Method)
		return
	}
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
		s.violation(w, http.StatusBadRequest, "invalid_request", "redirect_uri %q is not a loopback http://127.0.0.1:PORT/", q.Get("redirect_uri"))
		return
	}
	switch {
	case q.Get("response_type") != "code":
		s.violation(w, http.StatusBadRequest, "invalid_request", "response_type %q, want code", q.Get("response_type"))
		return
	case q.Get("client_id") != s.ClientID:
		s.violation(w, http.StatusBadRequest, "invalid_request", "client_id %q", q.Get("client_id"))
		return
	case q.Get("state") == "":
		s.violation(w, http.StatusBadRequest, "invalid_request", "no state (RFC 6749 section 10.12)")
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		s.violation(w, http.StatusBadRequest, "invalid_request", "no S256 PKCE challenge")
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if s.DenyAuthorization {
		back.Set("error", "access_denied")
		back.Set("error_description", "the user declined")
	} else {
		code := "code-" + random()
		s.mu.Lock()
		s.codes[code] = authCode{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		s.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// exchange answers the authorization code grant. s.mu is held.
func (s *Server) exchange(w http.ResponseWriter, form url.Values) {
	code, ok := s.codes[form.Get("code")]
	delete(s.codes, form.Get("code")) // once only
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	if form.Get("redirect_uri") != code.redirectURI {
		s.violation(w, http.StatusBadRequest, "invalid_grant", "redirect_uri %q differs from the authorization request's", form.Get("redirect_uri"))
		return
	}
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != code.challenge {
		s.violation(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the challenge")
		return
	}
	s.issue(w, s.newRefreshToken())
}
