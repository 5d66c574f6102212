package push

// HTTP servers that stand in for the targets in the tests. Each enforces
// its target's documented request shape (method, path, authentication,
// content type, fields and their types) and answers as the target does,
// and counts what it accepted.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault decides the answer to the n-th request (from 1) about an address:
// 0 lets the server handle it, anything else is the status to answer.
type fault func(email string, n int) int

// base holds what every test server shares: its request counts and the
// requests it turned away for breaking the contract.
type base struct {
	mu         sync.Mutex
	fault      fault
	faultHdr   http.Header    // headers of a fault answer
	requests   int            // every request received
	tries      map[string]int // requests per address
	violations []string       // contract breaches (400/401/404/405/415 answers)
	// hold, when set, is called with each request before it is handled;
	// it may block (the SIGKILL test).
	hold func(email string, r *http.Request) bool
}

func (b *base) try(email string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tries == nil {
		b.tries = make(map[string]int)
	}
	b.tries[email]++
	if b.fault != nil {
		return b.fault(email, b.tries[email])
	}
	return 0
}

// failed answers the request with the fault for email, if there is one.
func (b *base) failed(w http.ResponseWriter, email, body string) bool {
	code := b.try(email)
	if code == 0 {
		return false
	}
	b.mu.Lock()
	for k, v := range b.faultHdr {
		w.Header()[k] = v
	}
	b.mu.Unlock()
	writeJSON(w, code, body)
	return true
}

func (b *base) count() {
	b.mu.Lock()
	b.requests++
	b.mu.Unlock()
}

// Requests is the number of requests received.
func (b *base) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// Tries is the number of well-formed requests about email.
func (b *base) Tries(email string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tries[email]
}

func (b *base) refuse(w http.ResponseWriter, code int, body string, format string, args ...any) {
	b.mu.Lock()
	b.violations = append(b.violations, fmt.Sprintf(format, args...))
	b.mu.Unlock()
	writeJSON(w, code, body)
}

func (b *base) Violations() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.violations...)
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// validEmail is listmonk's and Mautic's check, roughly: one addr-spec.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// --- listmonk ---

// listmonkBounceIn is a bounce as listmonk's handler reads it
// (models.Bounce): created_at must be an RFC 3339 time, meta any JSON.
type listmonkBounceIn struct {
	Email          string          `json:"email"`
	SubscriberUUID string          `json:"subscriber_uuid"`
	CampaignUUID   string          `json:"campaign_uuid"`
	Source         string          `json:"source"`
	Type           string          `json:"type"`
	CreatedAt      time.Time       `json:"created_at"`
	Meta           json.RawMessage `json:"meta"`
}

// listmonkServer is listmonk as bouncer meets it (knadh/listmonk, the
// v5/v6 App handlers): POST /webhooks/bounce (cmd/bounce.go BounceWebhook,
// validateBounceFields; queries/bounces.sql record-bounce), and the
// lookups GET /api/subscribers?query=SQL (cmd/subscribers.go
// QuerySubscribers) and GET /api/subscribers/ID/bounces (cmd/bounce.go
// GetSubscriberBounces), behind its API authentication ("Authorization:
// token USER:TOKEN", or basic auth) and its role permissions.
type listmonkServer struct {
	*httptest.Server
	base
	user, token string
	// perms is the API user's role; nil: every permission.
	perms map[string]bool
	// webhooksOff: Settings, Bounces, "Enable bounce webhooks" off: the
	// route is not registered (cmd/handlers.go: `if
	// a.cfg.BounceWebhooksEnabled { g.POST("/webhooks/bounce", …) }`), 404.
	webhooksOff bool
	// processingOff: "Enable bounce processing" off while webhooks are on:
	// a.bounce is nil and the handler answers 503 (cmd/bounce.go:138,
	// `if a.bounce == nil { return echo.NewHTTPError(http.StatusServiceUnavailable, …) }`).
	processingOff bool
	// actions are the bounce actions by type (Settings, Bounces); default
	// listmonk's own (schema.sql settings 'bounce.actions': soft 2 none,
	// hard 1 blocklist, complaint 1 blocklist).
	actions map[string]listmonkAction
	// subscribers by address; with autoSubscribe (the default) an
	// address the server has not seen is a new enabled subscriber, as
	// every address bouncer hears of was mailed by the list.
	subscribers   map[string]*listmonkSub
	autoSubscribe bool
	accepted      []listmonkBounceIn // every well-formed post answered 200
	recorded      []listmonkBounceIn // the bounces listmonk stored
	lookupFault   int                // when set, the lookups answer this status
	lookups       int
	updates       int // subscribers updated (PUT)
}

type listmonkAction struct {
	count  int
	action string // none, blocklist, unsubscribe, delete
}

type listmonkSub struct {
	id           int
	uuid, email  string
	status       string // enabled, blocklisted
	unsubscribed bool   // from its lists (action unsubscribe)
	deleted      bool
}

var listmonkEmailQuery = regexp.MustCompile(`^LOWER\(subscribers\.email\) = '((?:[^']|'')*)'$`)
var listmonkBouncesPath = regexp.MustCompile(`^/api/subscribers/([0-9]+)/bounces$`)

// listmonkUUID is listmonk's reUUID (cmd/init.go).
var listmonkUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func newListmonk(t *testing.T, user, token string) *listmonkServer {
	s := &listmonkServer{user: user, token: token, autoSubscribe: true, subscribers: map[string]*listmonkSub{},
		actions: map[string]listmonkAction{"soft": {2, "none"}, "hard": {1, "blocklist"}, "complaint": {1, "blocklist"}}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// subscribe adds a subscriber (s.mu held or before serving).
func (s *listmonkServer) subscribe(email, status string) *listmonkSub {
	n := len(s.subscribers) + 1
	sub := &listmonkSub{id: n, uuid: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), email: email, status: status}
	s.subscribers[email] = sub
	return sub
}

// find returns the subscriber with email (s.mu held), making one with
// autoSubscribe.
func (s *listmonkServer) find(email string) *listmonkSub {
	sub := s.subscribers[email]
	if sub == nil && s.autoSubscribe {
		sub = s.subscribe(email, "enabled")
	}
	if sub != nil && sub.deleted {
		return nil
	}
	return sub
}

// permitted answers 403 as listmonk's permission middleware does
// (cmd/handlers.go pm: the user must hold one of the route's permissions;
// the message is i18n globals.messages.permissionDenied, "Permission
// denied: NAME") unless the user holds one of perms.
func (s *listmonkServer) permitted(w http.ResponseWriter, perms ...string) bool {
	if s.perms == nil {
		return true
	}
	for _, p := range perms {
		if s.perms[p] {
			return true
		}
	}
	writeJSON(w, http.StatusForbidden, `{"message":"Permission denied: `+perms[0]+`"}`)
	return false
}

// lookup answers the two GETs.
func (s *listmonkServer) lookup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.lookups++
	fault := s.lookupFault
	s.mu.Unlock()
	if fault != 0 {
		writeJSON(w, fault, `{"message":"permission denied"}`)
		return
	}
	if r.URL.Path == "/api/subscribers" {
		// cmd/handlers.go: GET /api/subscribers, pm(…, "subscribers:get_all", "subscribers:get");
		// cmd/subscribers.go QuerySubscribers: a query needs subscribers:sql_query.
		if !s.permitted(w, "subscribers:get_all", "subscribers:get") {
			return
		}
		q := r.URL.Query().Get("query")
		if q != "" && !s.permitted(w, "subscribers:sql_query") {
			return
		}
		m := listmonkEmailQuery.FindStringSubmatch(q)
		if m == nil {
			s.refuse(w, http.StatusBadRequest, `{"message":"invalid query"}`, "query %q", q)
			return
		}
		email := strings.ReplaceAll(m[1], "''", "'")
		results := []map[string]any{}
		s.mu.Lock()
		if sub := s.find(email); sub != nil {
			results = append(results, map[string]any{"id": sub.id, "uuid": sub.uuid, "email": sub.email, "status": sub.status,
				"name": sub.email, "attribs": map[string]any{"city": "Bern"}, "lists": []map[string]any{{"id": 1, "name": "News"}}})
		}
		s.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"data": map[string]any{"results": results, "query": q,
			"total": len(results), "per_page": 1, "page": 1}})
		writeJSON(w, http.StatusOK, string(b))
		return
	}
	m := listmonkBouncesPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.refuse(w, http.StatusNotFound, `{"message":"Unknown URL"}`, "path %s", r.URL.Path)
		return
	}
	// cmd/handlers.go: GET /api/subscribers/:id/bounces, pm(…, "bounces:get").
	if !s.permitted(w, "bounces:get") {
		return
	}
	id, _ := strconv.Atoi(m[1])
	out := []map[string]any{}
	s.mu.Lock()
	for i, b := range s.recorded {
		if sub := s.subscribers[b.Email]; sub != nil && sub.id == id {
			out = append(out, map[string]any{"id": i + 1, "type": b.Type, "source": b.Source,
				"meta": b.Meta, "created_at": b.CreatedAt, "campaign": nil})
		}
	}
	s.mu.Unlock()
	// GetSubscriberBounces answers the bounces of any id, [] for one
	// that has none or does not exist (core.QueryBounces).
	bs, _ := json.Marshal(map[string]any{"data": out})
	writeJSON(w, http.StatusOK, string(bs))
}

var listmonkSubscriberPath = regexp.MustCompile(`^/api/subscribers/([0-9]+)$`)

// update is PUT /api/subscribers/ID (cmd/handlers.go: pm(…,
// "subscribers:manage"); cmd/subscribers.go UpdateSubscriber: the
// subscriber's email, name and status are validated and stored, its lists
// replaced by those given).
func (s *listmonkServer) update(w http.ResponseWriter, r *http.Request, id int) {
	if !s.permitted(w, "subscribers:manage") {
		return
	}
	var body struct {
		Email   string          `json:"email"`
		Name    string          `json:"name"`
		Status  string          `json:"status"`
		Lists   []int           `json:"lists"`
		Attribs json.RawMessage `json:"attribs"`
	}
	if !isJSON(r) || json.NewDecoder(r.Body).Decode(&body) != nil {
		s.refuse(w, http.StatusBadRequest, `{"message":"invalid data"}`, "update body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sub *listmonkSub
	for _, x := range s.subscribers {
		if x.id == id && !x.deleted {
			sub = x
		}
	}
	switch {
	case sub == nil:
		writeJSON(w, http.StatusBadRequest, `{"message":"subscriber not found"}`)
	case body.Email != sub.email || body.Name == "" || len(body.Lists) == 0 || string(body.Attribs) != `{"city":"Bern"}`:
		// bouncer must send back what it read, or the update changes it.
		s.violations = append(s.violations, fmt.Sprintf("update changes the subscriber: %+v", body))
		writeJSON(w, http.StatusBadRequest, `{"message":"invalid data"}`)
	case body.Status != "enabled" && body.Status != "blocklisted":
		writeJSON(w, http.StatusBadRequest, `{"message":"invalid status"}`)
	default:
		sub.status = body.Status
		s.updates++
		writeJSON(w, http.StatusOK, `{"data":{"id":`+strconv.Itoa(id)+`}}`)
	}
}

func (s *listmonkServer) serve(w http.ResponseWriter, r *http.Request) {
	s.count()
	if m := listmonkSubscriberPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPut {
		if r.Header.Get("Authorization") != "token "+s.user+":"+s.token {
			s.refuse(w, http.StatusForbidden, `{"message":"invalid API credentials"}`, "bad credentials")
			return
		}
		id, _ := strconv.Atoi(m[1])
		s.update(w, r, id)
		return
	}
	lookup := strings.HasPrefix(r.URL.Path, "/api/subscribers")
	switch {
	case lookup:
	case r.URL.Path != "/webhooks/bounce":
		s.refuse(w, http.StatusNotFound, `{"message":"Not Found"}`, "path %s", r.URL.Path)
		return
	case s.webhooksOff:
		writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		return
	}
	if want := map[bool]string{true: http.MethodGet, false: http.MethodPost}[lookup]; r.Method != want {
		s.refuse(w, http.StatusMethodNotAllowed, `{"message":"Method Not Allowed"}`, "method %s", r.Method)
		return
	}
	auth := r.Header.Get("Authorization")
	user, pass, basic := r.BasicAuth()
	switch {
	case auth == "":
		s.refuse(w, http.StatusUnauthorized, `{"message":"invalid API credentials"}`, "no Authorization")
		return
	case auth == "token "+s.user+":"+s.token, basic && user == s.user && pass == s.token:
	default:
		s.refuse(w, http.StatusForbidden, `{"message":"invalid API credentials"}`, "bad credentials %q", auth)
		return
	}
	if lookup {
		s.lookup(w, r)
		return
	}
	s.post(w, r)
}

// post is POST /webhooks/bounce.
func (s *listmonkServer) post(w http.ResponseWriter, r *http.Request) {
	// cmd/handlers.go: pm(a.BounceWebhook, "webhooks:post_bounce").
	if !s.permitted(w, "webhooks:post_bounce") {
		return
	}
	if s.processingOff {
		// cmd/bounce.go:138: i18n globals.messages.internalError.
		writeJSON(w, http.StatusServiceUnavailable, `{"message":"Internal error"}`)
		return
	}
	if !isJSON(r) {
		s.refuse(w, http.StatusBadRequest, `{"message":"invalid data"}`, "content type %q", r.Header.Get("Content-Type"))
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var b listmonkBounceIn
	if err := json.Unmarshal(raw, &b); err != nil {
		s.refuse(w, http.StatusBadRequest, `{"message":"invalid data: `+jsonEscape(err.Error())+`"}`, "body: %v", err)
		return
	}
	if string(raw) == "{}" {
		// The permission check's empty bounce: refused by
		// validateBounceFields (cmd/bounce.go), nothing recorded.
		writeJSON(w, http.StatusBadRequest, `{"message":"Invalid email / subscriber_uuid"}`)
		return
	}
	if msg := s.invalid(b); msg != "" {
		s.refuse(w, http.StatusBadRequest, `{"message":"`+msg+`"}`, "%s: %s", msg, raw)
		return
	}
	if s.hold != nil && !s.hold(b.Email, r) {
		return
	}
	if s.failed(w, b.Email, `{"message":"injected"}`) {
		return
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, b)
	s.record(b)
	s.mu.Unlock()
	// cmd/bounce.go:164-171: the bounce is recorded, an error of Record
	// (no such subscriber: internal/core/bounces.go:78-81) only logged,
	// and the answer is 200 either way.
	writeJSON(w, http.StatusOK, `{"data":true}`)
}

// invalid checks b as validateBounceFields does (cmd/bounce.go), and what
// bouncer promises in meta (issue 11).
func (s *listmonkServer) invalid(b listmonkBounceIn) string {
	switch {
	case b.Email == "" && b.SubscriberUUID == "":
		return "invalid email / subscriber_uuid"
	case b.SubscriberUUID != "" && !listmonkUUID.MatchString(b.SubscriberUUID):
		return "invalid subscriber_uuid"
	case b.Email != "" && !validEmail(b.Email):
		return "invalid email"
	case b.Type != "hard" && b.Type != "soft" && b.Type != "complaint":
		return "invalid type"
	case b.Source == "":
		return "invalid source"
	case b.CreatedAt.IsZero():
		return "invalid created_at"
	}
	var meta map[string]any
	if err := json.Unmarshal(b.Meta, &meta); err != nil {
		return "invalid meta"
	}
	for _, k := range []string{"reason", "status", "diagnostic", "message_id", "bouncer_id"} {
		if _, ok := meta[k].(string); !ok {
			return "invalid meta"
		}
	}
	return ""
}

// record is queries/bounces.sql record-bounce (s.mu held):
//   - line 4: the subscriber by subscriber_uuid when given, else by email;
//     none: the insert fails on subscriber_id and the error is dropped
//     (internal/core/bounces.go:78-81);
//   - line 11: num counts the subscriber's bounces of this type, forever
//     (no window), plus this one;
//   - lines 14-21: at num >= count, the action (blocklist, unsubscribe),
//     unless already blocklisted; lines 28-30: delete;
//   - lines 22-27: the bounce is stored unless the subscriber was
//     blocklisted already or num > count.
func (s *listmonkServer) record(b listmonkBounceIn) {
	var sub *listmonkSub
	if b.SubscriberUUID != "" {
		for _, x := range s.subscribers {
			if x.uuid == b.SubscriberUUID && !x.deleted {
				sub = x
			}
		}
	} else {
		sub = s.find(b.Email)
	}
	if sub == nil {
		return
	}
	num := 1
	for _, r := range s.recorded {
		if r.Email == sub.email && r.Type == b.Type {
			num++
		}
	}
	act := s.actions[b.Type]
	wasBlocklisted := sub.status == "blocklisted"
	if num >= act.count && !wasBlocklisted {
		switch act.action {
		case "blocklist":
			sub.status = "blocklisted"
		case "unsubscribe":
			sub.unsubscribed = true
		}
	}
	if !wasBlocklisted && num <= act.count {
		b.Email = sub.email
		s.recorded = append(s.recorded, b)
	}
	if act.action == "delete" && num >= act.count {
		sub.deleted = true
	}
}

// Lookups is the number of lookup requests answered.
func (s *listmonkServer) Lookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

// Accepted are the well-formed posts answered 200.
func (s *listmonkServer) Accepted() []listmonkBounceIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]listmonkBounceIn(nil), s.accepted...)
}

// Recorded are the bounces listmonk stored.
func (s *listmonkServer) Recorded() []listmonkBounceIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]listmonkBounceIn(nil), s.recorded...)
}

// Status is the status of the subscriber with email ("" if none).
func (s *listmonkServer) Status(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subscribers[email]; sub != nil && !sub.deleted {
		return sub.status
	}
	return ""
}

// --- Mautic ---

// mauticServer is Mautic's contact API (docs: REST API, Contacts: "List
// Contacts" GET /api/contacts?search=…, "Add Do Not Contact" POST
// /api/contacts/ID/dnc/CHANNEL/add) with basic authentication.
type mauticServer struct {
	*httptest.Server
	base
	user, pass string
	contacts   map[int]string   // id → email
	dnc        map[int][]int    // id → reasons added, in order
	comments   map[int][]string // id → the comments of the entries added, in order
	removed    []int            // ids whose Do Not Contact entry was removed
	searches   int
}

func newMautic(t *testing.T, user, pass string, contacts map[int]string) *mauticServer {
	s := &mauticServer{user: user, pass: pass, contacts: contacts, dnc: make(map[int][]int)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

const mauticDenied = `{"errors":[{"code":401,"message":"API authorization denied.","details":[]}]}`
const mauticNotFound = `{"errors":[{"code":404,"message":"Item was not found.","details":[]}]}`

var dncPath = regexp.MustCompile(`^/api/contacts/([0-9]+)/dnc/([a-z]+)/(add|remove)$`)

func (s *mauticServer) serve(w http.ResponseWriter, r *http.Request) {
	s.count()
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.user || pass != s.pass {
		s.refuse(w, http.StatusUnauthorized, mauticDenied, "credentials")
		return
	}
	if r.URL.Path == "/api/contacts" {
		if r.Method != http.MethodGet {
			s.refuse(w, http.StatusMethodNotAllowed, mauticNotFound, "method %s", r.Method)
			return
		}
		s.search(w, r)
		return
	}
	m := dncPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.refuse(w, http.StatusNotFound, mauticNotFound, "path %s", r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		s.refuse(w, http.StatusMethodNotAllowed, mauticNotFound, "method %s", r.Method)
		return
	}
	id, _ := strconv.Atoi(m[1])
	email, exists := s.contacts[id]
	if !exists {
		s.refuse(w, http.StatusNotFound, mauticNotFound, "no contact %d", id)
		return
	}
	if m[3] == "remove" {
		// LeadApiController::removeDncAction($id, $channel): 404 for no
		// contact (above), 403 without edit access, then
		// removeDncForContact and {"recordFound": bool, "contact": …}.
		s.mu.Lock()
		found := len(s.dnc[id]) > 0
		delete(s.dnc, id)
		s.removed = append(s.removed, id)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"recordFound":%t,"contact":{"id":%d}}`, found, id))
		return
	}
	if m[2] != "email" {
		s.refuse(w, http.StatusBadRequest, `{"errors":[{"code":400,"message":"channel"}]}`, "channel %s", m[2])
		return
	}
	if !isJSON(r) {
		s.refuse(w, http.StatusBadRequest, `{"errors":[{"code":400,"message":"body"}]}`, "content type %q", r.Header.Get("Content-Type"))
		return
	}
	var body struct {
		Reason   *int    `json:"reason"`
		Comments *string `json:"comments"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Reason == nil || body.Comments == nil {
		s.refuse(w, http.StatusBadRequest, `{"errors":[{"code":400,"message":"body"}]}`, "dnc body: %v", err)
		return
	}
	if *body.Reason < 1 || *body.Reason > 3 {
		s.refuse(w, http.StatusBadRequest, `{"errors":[{"code":400,"message":"reason"}]}`, "reason %d", *body.Reason)
		return
	}
	if s.hold != nil && !s.hold(email, r) {
		return
	}
	if s.failed(w, email, `{"errors":[{"code":500,"message":"injected"}]}`) {
		return
	}
	s.mu.Lock()
	s.dnc[id] = append(s.dnc[id], *body.Reason)
	if s.comments == nil {
		s.comments = map[int][]string{}
	}
	s.comments[id] = append(s.comments[id], *body.Comments)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"contact":{"id":%d,"fields":{"all":{"id":%d,"email":"%s"}}}}`, id, id, email))
}

// search answers as Mautic does: loosely (a LIKE on the field), the
// contacts keyed by id, an empty result as [].
func (s *mauticServer) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("search")
	want, ok := strings.CutPrefix(q, "email:")
	if !ok || want == "" {
		s.refuse(w, http.StatusBadRequest, `{"errors":[{"code":400,"message":"search"}]}`, "search %q", q)
		return
	}
	s.mu.Lock()
	s.searches++
	s.mu.Unlock()
	found := map[string]any{}
	for id, email := range s.contacts {
		if strings.Contains(email, want) {
			found[strconv.Itoa(id)] = map[string]any{"id": id, "isPublished": true,
				"fields": map[string]any{"all": map[string]any{"id": strconv.Itoa(id), "email": email}}}
		}
	}
	var contacts any = found
	if len(found) == 0 {
		contacts = []any{}
	}
	b, _ := json.Marshal(map[string]any{"total": strconv.Itoa(len(found)), "contacts": contacts})
	writeJSON(w, http.StatusOK, string(b))
}

func (s *mauticServer) DNC() map[int][]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int][]int)
	for k, v := range s.dnc {
		out[k] = append([]int(nil), v...)
	}
	return out
}

// --- webhook ---

// webhookServer is a receiver of bouncer's webhook as the package doc tells
// one to be written: it checks the signature over the raw body in constant
// time, refuses a stale timestamp, and drops repeats by Webhook-Id.
type webhookServer struct {
	*httptest.Server
	base
	secret    []byte
	now       func() time.Time
	tolerance time.Duration
	events    []Event        // accepted, repeats dropped
	seen      map[string]int // Webhook-Id → deliveries received
}

func newWebhook(t *testing.T, secret string, now func() time.Time) *webhookServer {
	s := &webhookServer{secret: []byte(secret), now: now, tolerance: 5 * time.Minute, seen: make(map[string]int)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// verify checks a delivery as a receiver does, without using package push.
func verifySignature(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get("Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %d is %v from now", sec, d)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, part := range strings.Split(h.Get("Webhook-Signature"), " ") {
		v, ok := strings.CutPrefix(part, "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("signature %q does not match", h.Get("Webhook-Signature"))
}

func (s *webhookServer) serve(w http.ResponseWriter, r *http.Request) {
	s.count()
	if r.Method != http.MethodPost {
		s.refuse(w, http.StatusMethodNotAllowed, `{}`, "method %s", r.Method)
		return
	}
	if !isJSON(r) {
		s.refuse(w, http.StatusUnsupportedMediaType, `{}`, "content type %q", r.Header.Get("Content-Type"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if err := verifySignature(s.secret, r.Header, body, s.now(), s.tolerance); err != nil {
		s.refuse(w, http.StatusUnauthorized, `{"error":"bad signature"}`, "%v", err)
		return
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		s.refuse(w, http.StatusBadRequest, `{}`, "body: %v", err)
		return
	}
	for _, k := range []string{"id", "type", "date", "email", "category", "reason", "status", "reply_code",
		"diagnostic", "message_id", "bounce_message_id", "source"} {
		if _, ok := raw[k].(string); !ok {
			s.refuse(w, http.StatusBadRequest, `{}`, "field %s missing or not a string: %s", k, body)
			return
		}
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		s.refuse(w, http.StatusBadRequest, `{}`, "body: %v", err)
		return
	}
	if ev.ID != r.Header.Get("Webhook-Id") {
		s.refuse(w, http.StatusBadRequest, `{}`, "Webhook-Id %q, body id %q", r.Header.Get("Webhook-Id"), ev.ID)
		return
	}
	if s.hold != nil && !s.hold(ev.Email, r) {
		return
	}
	if s.failed(w, ev.Email, `{"error":"injected"}`) {
		return
	}
	s.mu.Lock()
	s.seen[ev.ID]++
	if s.seen[ev.ID] == 1 {
		s.events = append(s.events, ev)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, `{}`)
}

func (s *webhookServer) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

func (s *webhookServer) Seen() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int)
	for k, v := range s.seen {
		out[k] = v
	}
	return out
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
