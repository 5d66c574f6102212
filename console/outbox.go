package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/bouncer-dev/bouncer/suppress"
)

// OutboxRows is the most entries of each state the outbox page lists per
// target (the counts above them are complete).
const OutboxRows = 100

// outboxView is the data of the outbox page.
type outboxView struct {
	Targets  []targetView
	Requeued string // the target just requeued
	Count    int    // how many entries it got back
}

// targetView is one push target in the outbox page.
type targetView struct {
	Name    string
	Counts  suppress.OutboxCounts
	Failed  []suppress.OutboxEntry
	Pending []suppress.OutboxEntry
}

// outbox shows, per push target, the pending entries and the failed ones
// with the target's answer, and a button to queue the failed ones again.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request, q *request) {
	v, err := s.outboxData(r)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if t := r.URL.Query().Get("requeued"); t != "" {
		v.Requeued = t
		v.Count, _ = strconv.Atoi(r.URL.Query().Get("n"))
	}
	s.renderAs(w, r, http.StatusOK, "outbox", q, v)
}

// outboxData reads the outbox of every target.
func (s *Server) outboxData(r *http.Request) (*outboxView, error) {
	ctx := r.Context()
	names, err := s.db.OutboxTargets(ctx)
	if err != nil {
		return nil, err
	}
	v := &outboxView{}
	for _, n := range names {
		t := targetView{Name: n}
		if t.Counts, err = s.db.OutboxCount(ctx, n); err != nil {
			return nil, err
		}
		if t.Failed, err = s.db.Outbox(ctx, n, suppress.OutboxFailed, OutboxRows); err != nil {
			return nil, err
		}
		if t.Pending, err = s.db.Outbox(ctx, n, suppress.OutboxPending, OutboxRows); err != nil {
			return nil, err
		}
		v.Targets = append(v.Targets, t)
	}
	return v, nil
}

// requeue queues the failed entries of a target again
// (suppress.DB.RequeueFailed, as bouncer push --requeue-failed does).
func (s *Server) requeue(w http.ResponseWriter, r *http.Request, q *request) {
	target := r.PostFormValue("target")
	if target == "" {
		s.fail(w, r, http.StatusBadRequest, "no target to requeue")
		return
	}
	n, err := s.db.RequeueFailed(r.Context(), target)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/outbox?"+url.Values{"requeued": {target}, "n": {strconv.Itoa(n)}}.Encode(), http.StatusSeeOther)
}
