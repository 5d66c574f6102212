package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Suppression is the JSON of one address on the suppression list
// (GET /api/v1/suppressions/{address}).
type Suppression struct {
	Email      string            `json:"email"`
	Category   classify.Category `json:"category"`
	Reason     classify.Reason   `json:"reason"`
	Since      time.Time         `json:"since"`       // the first bounce the decision used
	LastBounce time.Time         `json:"last_bounce"` // the latest
	Bounces    int               `json:"bounces"`
	Status     string            `json:"status,omitempty"`
	ReplyCode  string            `json:"reply_code,omitempty"`
	Diagnostic string            `json:"diagnostic,omitempty"`
}

// suppressionOf is the JSON of an entry.
func suppressionOf(e suppress.Entry) Suppression {
	return Suppression{
		Email: e.Address, Category: e.Category, Reason: e.Reason, Since: e.FirstBounce, LastBounce: e.LastBounce,
		Bounces: e.Bounces, Status: e.Status, ReplyCode: e.ReplyCode, Diagnostic: e.Diagnostic,
	}
}

// SuppressionPage is the JSON of GET /api/v1/suppressions: one page of the
// filtered list.
type SuppressionPage struct {
	Total        int           `json:"total"`
	Page         int           `json:"page"`
	Pages        int           `json:"pages"`
	Now          time.Time     `json:"now"` // the moment the policy was applied for: the latest bounce
	Suppressions []Suppression `json:"suppressions"`
}

// apiSuppression answers whether one address is suppressed: 200 with the
// entry, 404 when it is not, 400 when it is not an address.
func (s *Server) apiSuppression(w http.ResponseWriter, r *http.Request) {
	addr, err := suppress.NormalizeAddress(r.PathValue("address"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	l := snap.lists.Suppressed
	i := sort.Search(len(l), func(i int) bool { return l[i].Address >= addr })
	if i == len(l) || l[i].Address != addr {
		writeJSON(w, http.StatusNotFound, struct {
			Error string `json:"error"`
			Email string `json:"email"`
		}{"not suppressed", addr})
		return
	}
	writeJSON(w, http.StatusOK, suppressionOf(l[i]))
}

// apiSuppressions answers one page of the filtered list (the filters of
// the list page; per= sets the page size, up to MaxPageSize).
func (s *Server) apiSuppressions(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r, s.opts.PageSize)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	all := f.apply(snap.lists)
	es, pages := f.page(all)
	p := SuppressionPage{Total: len(all), Page: f.Page, Pages: pages, Now: snap.lists.Now, Suppressions: []Suppression{}}
	for _, e := range es {
		p.Suppressions = append(p.Suppressions, suppressionOf(e))
	}
	writeJSON(w, http.StatusOK, p)
}

// Overview is the JSON of GET /api/v1/overview: the data of the overview
// page.
type Overview struct {
	Now          time.Time                 `json:"now"`
	Events       int                       `json:"events"`
	Suppressed   map[classify.Category]int `json:"suppressed"`
	Days         []DayJSON                 `json:"days"`
	PolicyBlocks []DomainJSON              `json:"policy_blocks"`
	Mailboxes    []MailboxJSON             `json:"mailboxes"`
}

// DayJSON is one day of the overview: its bounces by category and the
// list's size at its end.
type DayJSON struct {
	Day      string                    `json:"day"`
	Bounces  map[classify.Category]int `json:"bounces"`
	ListSize int                       `json:"list_size"`
}

// DomainJSON is one receiving domain's policy blocks of the week.
type DomainJSON struct {
	Domain    string                  `json:"domain"`
	Blocks    int                     `json:"blocks"`
	Addresses int                     `json:"addresses"`
	Reasons   map[classify.Reason]int `json:"reasons"`
}

// MailboxJSON is one mailbox of the state.
type MailboxJSON struct {
	Mailbox     string                   `json:"mailbox"`
	Messages    int                      `json:"messages"`
	ByOutcome   map[suppress.Outcome]int `json:"by_outcome"`
	Events      int                      `json:"events"`
	UIDValidity uint32                   `json:"uidvalidity,omitempty"`
	LastUID     uint32                   `json:"last_uid,omitempty"`
}

// apiOverview answers the overview's data.
func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) {
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, overviewJSON(snap))
}

func overviewJSON(snap *snapshot) Overview {
	o := Overview{Now: snap.lists.Now, Events: snap.events, Suppressed: map[classify.Category]int{},
		Days: []DayJSON{}, PolicyBlocks: []DomainJSON{}, Mailboxes: []MailboxJSON{}}
	for _, e := range snap.lists.Suppressed {
		o.Suppressed[e.Category]++
	}
	for i, d := range snap.days {
		o.Days = append(o.Days, DayJSON{Day: d.Day.Format(time.DateOnly), Bounces: d.Count, ListSize: snap.sizes[i].Size})
	}
	for _, b := range snap.blocks {
		d := DomainJSON{Domain: b.Domain, Blocks: b.Blocks, Addresses: b.Addresses, Reasons: map[classify.Reason]int{}}
		for _, rc := range b.Reasons {
			d.Reasons[rc.Reason] = rc.Count
		}
		o.PolicyBlocks = append(o.PolicyBlocks, d)
	}
	for _, m := range snap.mailboxes {
		o.Mailboxes = append(o.Mailboxes, MailboxJSON{Mailbox: m.Mailbox, Messages: m.Messages, ByOutcome: m.ByOutcome,
			Events: m.Events, UIDValidity: m.UIDValidity, LastUID: m.LastUID})
	}
	return o
}

// apiAddress answers the history of an address: suppress.DB.Why, the
// JSON of bouncer why --format json (one object); 404 with known false
// when the state holds nothing about it.
func (s *Server) apiAddress(w http.ResponseWriter, r *http.Request) {
	hs, err := s.db.Why(r.Context(), s.opts.Policy, r.PathValue("address"))
	if errors.Is(err, suppress.ErrBadAddress) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	code := http.StatusOK
	if !hs[0].Known {
		code = http.StatusNotFound
	}
	writeJSON(w, code, hs[0])
}

// AllowBody is the body of POST /api/v1/addresses/{address}/allow.
type AllowBody struct {
	Reason string `json:"reason"`          // required
	Until  string `json:"until,omitempty"` // 2006-01-02 or RFC 3339
	By     string `json:"by,omitempty"`    // who; default "api, CLIENT"
}

// apiAllow lifts the suppression of an address (suppress.DB.Allow, as
// bouncer allow) and answers the allow record.
func (s *Server) apiAllow(w http.ResponseWriter, r *http.Request) {
	var b AllowBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "the body must be JSON: {\"reason\": \"…\"}: " + err.Error()})
		return
	}
	by := strings.TrimSpace(b.By)
	if by == "" {
		by = "api, " + clientOf(r)
	}
	req, err := allowRequest(r.PathValue("address"), b.Reason, strings.TrimSpace(b.Until), by)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	as, err := s.db.Allow(r.Context(), req)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.snap.lift(req.Addresses[0], false)
	writeJSON(w, http.StatusOK, as[0])
}

// apiForget erases every trace of an address (suppress.DB.Forget, as
// bouncer forget) and answers what was erased.
func (s *Server) apiForget(w http.ResponseWriter, r *http.Request) {
	rep, err := s.db.Forget(r.Context(), []string{r.PathValue("address")})
	if errors.Is(err, suppress.ErrBadAddress) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	for _, a := range rep.Addresses {
		s.snap.lift(a.Address, true)
	}
	writeJSON(w, http.StatusOK, rep)
}

// apiStats answers suppress.DB.Stats, the JSON of bouncer stats --format
// json: since= (a date, or a duration back from the latest bounce: 30d)
// and by= (day, category, reason, domain).
func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	by, err := suppress.ParseStatsBy(r.URL.Query().Get("by"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	q := suppress.StatsQuery{By: by, Policy: s.opts.Policy}
	var back time.Duration
	if v := r.URL.Query().Get("since"); v != "" {
		if q.Since, back, err = suppress.ParseSince(v); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
			return
		}
	}
	rep, err := s.db.Stats(r.Context(), q)
	if err == nil && back > 0 {
		q.Since = rep.Now.Add(-back)
		rep, err = s.db.Stats(r.Context(), q)
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
