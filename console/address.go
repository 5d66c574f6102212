package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// MaxSearchResults is the most addresses an address search lists.
const MaxSearchResults = 100

// searchView is the data of the address search.
type searchView struct {
	Query   string
	Results []string
	More    bool // there were more than MaxSearchResults
}

// addressURL is the page of an address.
func addressURL(addr string) string { return "/addresses/" + url.PathEscape(addr) }

// search finds addresses: an exact address goes to its page (known or
// not); any other text lists the addresses of the history that contain it.
func (s *Server) search(w http.ResponseWriter, r *http.Request, q *request) {
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	if addr, err := suppress.NormalizeAddress(text); err == nil {
		http.Redirect(w, r, addressURL(addr), http.StatusSeeOther)
		return
	}
	v := &searchView{Query: text}
	if needle := strings.ToLower(text); needle != "" {
		snap, err := s.snap.get(r.Context())
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, a := range snap.addresses {
			if strings.Contains(a, needle) {
				if len(v.Results) == MaxSearchResults {
					v.More = true
					break
				}
				v.Results = append(v.Results, a)
			}
		}
	}
	s.renderAs(w, r, http.StatusOK, "search", q, v)
}

// addressView is the data of an address page.
type addressView struct {
	H    *suppress.AddressHistory
	Note string // what the console just did
}

// why returns the history of the address in r's path (suppress.DB.Why, as
// bouncer why), or answers r itself and returns nil.
func (s *Server) why(w http.ResponseWriter, r *http.Request) *suppress.AddressHistory {
	hs, err := s.db.Why(r.Context(), s.opts.Policy, r.PathValue("address"))
	if errors.Is(err, suppress.ErrBadAddress) {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return nil
	}
	if err != nil {
		s.internal(w, r, err)
		return nil
	}
	return &hs[0]
}

// address shows what bouncer why shows: the decision, its rule, the
// allows and every event with its evidence; with Allow and Forget.
func (s *Server) address(w http.ResponseWriter, r *http.Request, q *request) {
	h := s.why(w, r)
	if h == nil {
		return
	}
	code := http.StatusOK
	if !h.Known {
		code = http.StatusNotFound
	}
	s.renderAs(w, r, code, "address", q, &addressView{H: h, Note: r.URL.Query().Get("note")})
}

// confirmView is the data of a confirmation page.
type confirmView struct {
	Action  string // allow or forget
	Address string
	H       *suppress.AddressHistory
	Error   string
	Reason  string
	Until   string
}

// confirm shows the confirmation step of an Allow or a Forget.
func (s *Server) confirm(action string) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		h := s.why(w, r)
		if h == nil {
			return
		}
		s.renderAs(w, r, http.StatusOK, "confirm", q, &confirmView{Action: action, Address: h.Normalized, H: h})
	}
}

// allow lifts the suppression of the address (suppress.DB.Allow, as
// bouncer allow), with the reason of the confirmation form and, if given,
// the date it stays allowed until.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, q *request) {
	addr := r.PathValue("address")
	v := &confirmView{Action: "allow", Address: addr, Reason: r.PostFormValue("reason"), Until: strings.TrimSpace(r.PostFormValue("until"))}
	req, err := allowRequest(addr, v.Reason, v.Until, "console, "+clientOf(r))
	if err == nil {
		_, err = s.db.Allow(r.Context(), req)
	}
	switch {
	case errors.Is(err, suppress.ErrBadAddress):
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, suppress.ErrNoReason) || errors.Is(err, errBadUntil):
		v.Error = err.Error()
		s.renderAs(w, r, http.StatusBadRequest, "confirm", q, v)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.snap.lift(req.Addresses[0], false)
	http.Redirect(w, r, addressURL(req.Addresses[0])+"?note="+url.QueryEscape("Allowed: the address leaves the lists from the next write."), http.StatusSeeOther)
}

// errBadUntil reports an allow's until date that cannot be read.
var errBadUntil = errors.New("console: bad until date: want 2006-01-02 or an RFC 3339 time")

// allowRequest builds the request of an allow from its form or JSON.
func allowRequest(addr, reason, until, by string) (suppress.AllowRequest, error) {
	n, err := suppress.NormalizeAddress(addr)
	if err != nil {
		return suppress.AllowRequest{}, err
	}
	req := suppress.AllowRequest{Addresses: []string{n}, Reason: reason, By: by}
	if strings.TrimSpace(reason) == "" {
		return req, suppress.ErrNoReason
	}
	if until != "" {
		if req.Until, err = parseUntil(until); err != nil {
			return req, err
		}
	}
	return req, nil
}

// parseUntil reads an until date: a day (to its end, UTC) or an RFC 3339
// time, as bouncer allow --until does.
func parseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", errBadUntil, s)
	}
	return t, nil
}

// forget erases every trace of the address (suppress.DB.Forget, as
// bouncer forget) and goes back to the list, saying what was erased.
func (s *Server) forget(w http.ResponseWriter, r *http.Request, q *request) {
	rep, err := s.db.Forget(r.Context(), []string{r.PathValue("address")})
	if errors.Is(err, suppress.ErrBadAddress) {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	for _, a := range rep.Addresses {
		s.snap.lift(a.Address, true)
	}
	note := "Forgotten."
	if len(rep.Addresses) == 1 {
		a := rep.Addresses[0]
		note = fmt.Sprintf("Forgot %s: %d events, %d outbox entries, %d allows, %d pruned summaries erased, %d mentions scrubbed.",
			a.Address, a.Events, a.Outbox, a.Allows, a.Pruned, a.Scrubbed)
	}
	if !rep.Compacted && rep.Note != "" {
		note += " " + rep.Note
	}
	http.Redirect(w, r, "/suppressions?note="+url.QueryEscape(note), http.StatusSeeOther)
}

// pendingView is the data of the soft bounces under the threshold.
type pendingView struct {
	Entries []suppress.PendingEntry
	Total   int
	Rule    string
}

// pending lists the soft bounces under the threshold (suppress's Pending,
// as bouncer export --category pending).
func (s *Server) pending(w http.ResponseWriter, r *http.Request, q *request) {
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	_, rule := s.opts.Policy.Rule("soft")
	v := &pendingView{Entries: snap.pending, Total: len(snap.pending), Rule: rule}
	if len(v.Entries) > MaxPageSize {
		v.Entries = v.Entries[:MaxPageSize]
	}
	s.renderAs(w, r, http.StatusOK, "pending", q, v)
}

// unverifiedView is the data of the unverified failures.
type unverifiedView struct {
	Events []suppress.Event
	Total  int
}

// unverified lists the failures recorded without proof that we sent to
// their recipient, which suppress nothing.
func (s *Server) unverified(w http.ResponseWriter, r *http.Request, q *request) {
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	v := &unverifiedView{Events: snap.unverified, Total: snap.unverifiedTotal}
	s.renderAs(w, r, http.StatusOK, "unverified", q, v)
}
