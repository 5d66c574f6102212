package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Access limits.
const (
	// DefaultSessionTTL is how long a login lasts when
	// Options.SessionTTL is zero.
	DefaultSessionTTL = 12 * time.Hour
	// MaxSessions is the most sessions kept at once; a login past it ends
	// the session closest to expiry.
	MaxSessions = 1000
	// LoginFailures is how many failed logins (or wrong bearer tokens) one
	// client address may make per LoginWindow before it gets 429.
	LoginFailures = 5
	// LoginWindow is the period LoginFailures counts over.
	LoginWindow = time.Minute
	// MaxTrackedClients is the most client addresses the login limiter
	// remembers; past it, every client shares one budget of LoginFailures,
	// so that a flood of addresses cannot wipe the counts.
	MaxTrackedClients = 10000
	// sessionCookie names the session cookie.
	sessionCookie = "bouncer_session"
	// csrfField names the form field (and csrfHeader the header) that
	// carries the CSRF token of a state-changing request.
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// tokenEqual compares a presented secret with the expected one in constant
// time: both are hashed first, so that neither their content nor their
// length shows in the time taken.
func tokenEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// randomToken returns 32 random bytes, base64url: a session ID or a CSRF
// token.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is one login of the pages.
type session struct {
	csrf    string
	expires time.Time
}

// sessions holds the logins, by session ID.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

// create starts a session and returns its ID.
func (s *sessions) create(now time.Time) (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= MaxSessions {
		s.evict(now)
	}
	id := randomToken()
	se := &session{csrf: randomToken(), expires: now.Add(s.ttl)}
	s.m[id] = se
	return id, se
}

// evict drops the expired sessions or, when none is, the one closest to
// expiry. The caller holds mu.
func (s *sessions) evict(now time.Time) {
	var oldest string
	for id, se := range s.m {
		if now.After(se.expires) {
			delete(s.m, id)
			continue
		}
		if oldest == "" || se.expires.Before(s.m[oldest].expires) {
			oldest = id
		}
	}
	if len(s.m) >= MaxSessions && oldest != "" {
		delete(s.m, oldest)
	}
}

// get returns the live session id names, or nil.
func (s *sessions) get(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.m[id]
	if se == nil {
		return nil
	}
	if now.After(se.expires) {
		delete(s.m, id)
		return nil
	}
	return se
}

// end ends the session id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// limiter counts failed logins per client address in fixed windows.
type limiter struct {
	mu      sync.Mutex
	window  time.Time // start of the current window
	fails   map[string]int
	overall int // failures of clients not tracked (past MaxTrackedClients)
}

func newLimiter() *limiter { return &limiter{fails: map[string]int{}} }

// roll starts a new window when the current one is over. The caller holds
// mu.
func (l *limiter) roll(now time.Time) {
	if now.Sub(l.window) >= LoginWindow {
		l.window = now
		clear(l.fails)
		l.overall = 0
	}
}

// blocked reports whether client has used its failures of the window, and
// when it may try again.
func (l *limiter) blocked(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	n, ok := l.fails[client]
	if !ok && len(l.fails) >= MaxTrackedClients {
		n = l.overall
	}
	if n < LoginFailures {
		return false, 0
	}
	return true, l.window.Add(LoginWindow).Sub(now)
}

// fail counts a failure of client.
func (l *limiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if _, ok := l.fails[client]; !ok && len(l.fails) >= MaxTrackedClients {
		l.overall++
		return
	}
	l.fails[client]++
}

// clientOf returns the client address of r, without its port: the key of
// the login limiter. X-Forwarded-For is not trusted (the console is not
// meant to sit behind a proxy that the client could speak for).
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bearer returns the token of an "Authorization: Bearer" header (RFC 6750
// section 2.1), and whether there was one.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", h != ""
	}
	return strings.TrimSpace(tok), true
}
