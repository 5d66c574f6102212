package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// pageNames are the templates of templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "error", "overview", "suppressions", "outbox", "search", "address", "confirm", "pending", "unverified"}

// funcs are the template functions.
var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format(time.DateOnly)
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"count":      func(m map[classify.Category]int, c classify.Category) int { return m[c] },
	"outcome":    func(m map[suppress.Outcome]int, o string) int { return m[suppress.Outcome(o)] },
	"addressURL": addressURL,
}

func parseTemplates() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// layout is what layout.html gets: the page's own data in Page.
type layout struct {
	Title string
	Nav   string // the menu entry to mark as current
	CSRF  string // for the logout form; "" when not logged in with a session
	User  bool   // logged in (session or bearer token)
	Page  any
}

// render writes the page name with status code. It renders into a buffer
// first, so that a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, page any) {
	s.renderAs(w, r, code, name, nil, page)
}

// renderAs is render for a logged-in request q.
func (s *Server) renderAs(w http.ResponseWriter, r *http.Request, code int, name string, q *request, page any) {
	l := layout{Title: titles[name], Nav: name, Page: page}
	if q != nil {
		l.CSRF, l.User = q.csrf, true
	}
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, l); err != nil {
		s.opts.Log.Printf("console: render %s: %v", name, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// titles are the pages' titles.
var titles = map[string]string{
	"login": "Log in", "error": "Error", "overview": "Overview",
	"suppressions": "Suppression list", "outbox": "Push outbox", "search": "Address search",
	"address": "Address", "confirm": "Confirm", "pending": "Soft bounces under the threshold",
	"unverified": "Unverified failures",
}

// loginView is the data of the login form.
type loginView struct {
	Next    string
	Message string
}

// errorView is the data of an error page.
type errorView struct {
	Code    int
	Message string
}

// loginForm shows the login form.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", &loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// login checks the token of the login form and starts a session: an
// HttpOnly, SameSite=Strict cookie, Secure under TLS. Failures count
// against the client's budget (LoginFailures per LoginWindow).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	client := clientOf(r)
	if blocked, wait := s.limiter.blocked(client, now); blocked {
		tooMany(w, wait)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r) {
		s.fail(w, r, http.StatusForbidden, "This login form was posted from another site.")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if tok := r.PostFormValue("token"); tok == "" || !tokenEqual(tok, s.opts.Token) {
		s.limiter.fail(client, now)
		s.render(w, r, http.StatusUnauthorized, "login", &loginView{Next: next, Message: "Wrong token."})
		return
	}
	id, _ := s.sessions.create(now)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: int(s.opts.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.opts.Secure,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, q *request) {
	if q.sid != "" {
		s.sessions.end(q.sid)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.opts.Secure})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns next when it is a path of this site, else "/": the
// login form never sends the browser elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// sameOrigin reports whether the Origin header o names the host r was
// sent to.
func sameOrigin(o string, r *http.Request) bool {
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// overviewView is the data of the overview.
type overviewView struct {
	Now        time.Time
	Events     int
	Suppressed int
	ByCategory []categoryCount
	Reported   int // addresses in the policy report
	Categories []classify.Category
	Bars       template.HTML
	Days       []dayCount // newest first, for the table
	Line       template.HTML
	Sizes      []sizePoint // newest first, for the table
	BlocksFrom time.Time
	Blocks     []domainRow
	More       int // domains past TopDomains
	Mailboxes  []suppress.MailboxSummary
	Built      time.Duration
}

// categoryCount is how many entries of the list have a category.
type categoryCount struct {
	Category classify.Category
	Count    int
}

// overview shows the overview: bounces per day, the list's size over
// time, this week's policy blocks by domain and the mailboxes.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, q *request) {
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.renderAs(w, r, http.StatusOK, "overview", q, overviewOf(snap))
}

// overviewOf builds the overview's data from a snapshot.
func overviewOf(snap *snapshot) *overviewView {
	v := &overviewView{
		Now: snap.lists.Now, Events: snap.events, Suppressed: len(snap.lists.Suppressed),
		Reported: len(snap.lists.Policy), Categories: chartCategories,
		Bars: barChart(snap.days), Days: reversed(snap.days), Line: lineChart(snap.sizes), Sizes: reversed(snap.sizes),
		BlocksFrom: snap.lists.Now.Add(-BlockDays * 24 * time.Hour), Blocks: snap.blocks,
		Mailboxes: snap.mailboxes, Built: snap.built.Round(time.Millisecond),
	}
	by := map[classify.Category]int{}
	for _, e := range snap.lists.Suppressed {
		by[e.Category]++
	}
	for _, c := range chartCategories {
		v.ByCategory = append(v.ByCategory, categoryCount{Category: c, Count: by[c]})
	}
	if len(v.Blocks) > TopDomains {
		v.More = len(v.Blocks) - TopDomains
		v.Blocks = v.Blocks[:TopDomains]
	}
	return v
}

// reversed returns a reversed copy of s.
func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
