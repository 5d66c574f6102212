package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// Limits of a request.
const (
	// MaxFormBytes is the most bytes of a request body read (a login, an
	// API call's JSON).
	MaxFormBytes = 64 << 10
	// DefaultPageSize is the rows of a list page when Options.PageSize is
	// zero; MaxPageSize caps a page asked for with ?per=.
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ContentSecurityPolicy is the Content-Security-Policy of every answer: no
// script at all, styles from the console's own stylesheet, images from
// itself (the charts are inline SVG), forms posted to itself only, never
// framed.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ErrNoToken reports Options without a token.
var ErrNoToken = errors.New("console: no access token")

//go:embed templates/*.html static/*
var assets embed.FS

// Options configures New. The zero value of each field means its default;
// Token is required.
type Options struct {
	// Token is the secret that opens the console: the API's bearer token
	// and the password of the login form.
	Token string
	// Policy decides who is suppressed, as for bouncer export; nil means
	// the defaults.
	Policy *suppress.Policy
	// Secure marks the session cookie Secure: set it when the console is
	// served over TLS.
	Secure bool
	// SessionTTL is how long a login lasts; default DefaultSessionTTL.
	SessionTTL time.Duration
	// PageSize is the rows of a list page; default DefaultPageSize.
	PageSize int
	// Refresh is how often at most the state is asked whether it changed;
	// default DefaultRefresh.
	Refresh time.Duration
	// Now is the clock of sessions and the login limiter; default
	// time.Now. The pages' dates come from the history, never the clock.
	Now func() time.Time
	// Log receives the errors of requests; nil: the standard logger.
	Log *log.Logger
}

// Server is the console: an http.Handler over one state.
type Server struct {
	db       *suppress.DB
	opts     Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	static   http.Handler
	sessions *sessions
	limiter  *limiter
	snap     *snapshots
}

// New returns the console over db. It only reads db, except where a page
// or an API call changes the state on purpose (a requeue), and it reads it
// while another process writes it (bouncer run --watch).
func New(db *suppress.DB, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Token == "" {
		return nil, ErrNoToken
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = log.Default()
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	s := &Server{
		db: db, opts: o, mux: http.NewServeMux(), pages: pages,
		static:   http.StripPrefix("/static/", http.FileServerFS(static)),
		sessions: newSessions(o.SessionTTL), limiter: newLimiter(),
		snap: newSnapshots(db, o.Policy, o.Refresh),
	}
	s.routes()
	return s, nil
}

// routes registers the handlers: the pages, which take a session or the
// bearer token, and the API, which takes the bearer token only.
func (s *Server) routes() {
	s.mux.Handle("GET /static/", s.static)
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.page(s.logout))
	s.mux.HandleFunc("GET /{$}", s.page(s.overview))
	s.mux.HandleFunc("GET /suppressions", s.page(s.suppressions))
	s.mux.HandleFunc("GET /suppressions/download", s.page(s.download))
	s.mux.HandleFunc("GET /outbox", s.page(s.outbox))
	s.mux.HandleFunc("POST /outbox/requeue", s.page(s.requeue))
	s.mux.HandleFunc("GET /addresses", s.page(s.search))
	s.mux.HandleFunc("GET /addresses/{address}", s.page(s.address))
	s.mux.HandleFunc("GET /addresses/{address}/allow", s.page(s.confirm("allow")))
	s.mux.HandleFunc("POST /addresses/{address}/allow", s.page(s.allow))
	s.mux.HandleFunc("GET /addresses/{address}/forget", s.page(s.confirm("forget")))
	s.mux.HandleFunc("POST /addresses/{address}/forget", s.page(s.forget))
	s.mux.HandleFunc("GET /pending", s.page(s.pending))
	s.mux.HandleFunc("GET /unverified", s.page(s.unverified))
	s.mux.HandleFunc("GET /api/v1/suppressions/{address}", s.api(s.apiSuppression))
	s.mux.HandleFunc("GET /api/v1/addresses/{address}", s.api(s.apiAddress))
	s.mux.HandleFunc("POST /api/v1/addresses/{address}/allow", s.api(s.apiAllow))
	s.mux.HandleFunc("POST /api/v1/addresses/{address}/forget", s.api(s.apiForget))
	s.mux.HandleFunc("GET /api/v1/stats", s.api(s.apiStats))
	s.mux.HandleFunc("GET /api/v1/suppressions", s.api(s.apiSuppressions))
	s.mux.HandleFunc("GET /api/v1/overview", s.api(s.apiOverview))
}

// ServeHTTP implements http.Handler: the security headers, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // with no-referrer, a browser posts forms with "Origin: null"
	h.Set("Cache-Control", "no-store")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	}
	s.mux.ServeHTTP(w, r)
}

// request is what a page handler gets besides the request: the CSRF token
// to put in its forms ("" when the request came with the bearer token).
type request struct {
	csrf string
	sid  string
}

// page wraps a page handler with the access rules of the pages: a valid
// session cookie (and, for a request that changes something, its CSRF
// token: 403 when wrong or missing) or the bearer token; nothing at all is
// 401, with the login form for a GET.
func (s *Server) page(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.opts.Now()
		if _, ok := bearer(r); ok {
			if s.checkBearer(w, r, now) {
				h(w, r, &request{})
			}
			return
		}
		c, err := r.Cookie(sessionCookie)
		var se *session
		if err == nil {
			se = s.sessions.get(c.Value, now)
		}
		if se == nil {
			s.unauthorized(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostFormValue(csrfField)
			}
			if got == "" || !tokenEqual(got, se.csrf) {
				s.fail(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
				return
			}
		}
		h(w, r, &request{csrf: se.csrf, sid: c.Value})
	}
}

// api wraps an API handler with its access rule: the bearer token, 401
// without it or when wrong.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer(r); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bouncer"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "this API needs an Authorization: Bearer header"})
			return
		}
		if s.checkBearer(w, r, s.opts.Now()) {
			h(w, r)
		}
	}
}

// checkBearer checks the bearer token of r, counting a wrong one as a
// failed login; it answers r itself (401, 429) and returns false when the
// request must stop.
func (s *Server) checkBearer(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	client := clientOf(r)
	if blocked, wait := s.limiter.blocked(client, now); blocked {
		tooMany(w, wait)
		return false
	}
	tok, _ := bearer(r)
	if tok != "" && tokenEqual(tok, s.opts.Token) {
		return true
	}
	s.limiter.fail(client, now)
	w.Header().Set("WWW-Authenticate", `Bearer realm="bouncer", error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, apiError{Error: "wrong token"})
	return false
}

// tooMany answers 429 with the seconds to wait (RFC 6585 section 4).
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	http.Error(w, "too many failed logins; try again later", http.StatusTooManyRequests)
}

// unauthorized answers a request without credentials: 401, with the login
// form for a page.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="bouncer"`)
	if r.Method != http.MethodGet {
		http.Error(w, "log in first", http.StatusUnauthorized)
		return
	}
	s.render(w, r, http.StatusUnauthorized, "login", &loginView{Next: r.URL.RequestURI()})
}

// apiError is the body of an API error.
type apiError struct {
	Error string `json:"error"`
}

// writeJSON writes v as the JSON answer with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// fail answers a page request with an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", &errorView{Code: code, Message: msg})
}

// internal logs err and answers 500 without its details.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.opts.Log.Printf("console: %s %s: %v", r.Method, r.URL.Path, err)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "the state could not be read; see the server's log"})
		return
	}
	s.fail(w, r, http.StatusInternalServerError, "The state could not be read; see the server's log.")
}
