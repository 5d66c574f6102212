package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// mauticReason is a Do Not Contact reason of Mautic (DoNotContact::*).
type mauticReason int

const (
	mauticUnsubscribed mauticReason = 1
	mauticBounced      mauticReason = 2
)

// Limits of the Mautic client.
const (
	// MaxMauticContacts is how many contacts one search returns (Mautic's
	// "limit"): all those with the address, since Mautic allows
	// duplicates.
	MaxMauticContacts = 30
	// MaxMauticAnswer is the most bytes read of a contact search answer.
	MaxMauticAnswer = 1 << 20
	// MaxMauticComment is the most bytes of the Do Not Contact comment.
	MaxMauticComment = 1000
)

type mauticClient struct {
	t      Target
	auth   secret // "user:password"
	hc     *http.Client
	ua     string
	db     *suppress.DB
	policy *suppress.Policy
}

// mauticDNC is the body of POST /api/contacts/ID/dnc/email/add.
type mauticDNC struct {
	Reason   mauticReason `json:"reason"`
	Comments string       `json:"comments"`
}

// push adds the Do Not Contact entry of e. A soft bounce does so only when
// it brings its address to bouncer's soft (or permanent) threshold
// (suppress.DB.SoftThresholdReached), as a bounce whose comment says so:
// Mautic keeps no count of soft bounces, and one entry stops the contact
// for good. The others are done with ResultBelowThreshold.
func (c *mauticClient) push(ctx context.Context, e *suppress.OutboxEntry) (Result, error) {
	comment := mauticComment(e)
	if e.Event.Category == classify.CategorySoft {
		th, err := c.db.SoftThresholdReached(ctx, e.EventID, c.policy)
		if err != nil {
			return "", err
		}
		if !th.Reached {
			return ResultBelowThreshold, nil
		}
		comment = "bouncer: " + th.String() + "; " + strings.TrimPrefix(comment, "bouncer: ")
	}
	return "", c.add(ctx, e, comment)
}

// add adds the Do Not Contact entry of e, saying comment, to every contact
// with its address.
func (c *mauticClient) add(ctx context.Context, e *suppress.OutboxEntry, comment string) error {
	var reason mauticReason
	switch e.Event.Category {
	case classify.CategoryHard, classify.CategorySoft:
		reason = mauticBounced
	case classify.CategoryComplaint:
		// As Mautic's own feedback-loop processing records a complaint.
		reason = mauticUnsubscribed
	default:
		return refusedCategory(c.t, "add do-not-contact", "Mautic", e.Event.Category)
	}
	ids, err := c.find(ctx, e.Event.Address)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return &Error{Target: c.t.String(), Op: "find contact", Err: ErrNoContact}
	}
	body, err := marshal(mauticDNC{Reason: reason, Comments: cut(comment, MaxMauticComment)})
	if err != nil {
		return err
	}
	// Adding a Do Not Contact entry twice leaves one: a repeat after a
	// crash does no harm.
	for _, id := range ids {
		req, err := newRequest(ctx, c.t, "add do-not-contact", http.MethodPost,
			c.t.endpoint("/api/contacts/"+strconv.FormatInt(id, 10)+"/dnc/email/add"), body)
		if err != nil {
			return err
		}
		c.header(req)
		req.Header.Set("Content-Type", "application/json")
		if _, err := send(c.hc, c.t, "add do-not-contact", req, MaxErrorBody); err != nil {
			return err
		}
	}
	return nil
}

func (c *mauticClient) header(req *http.Request) {
	user, pass, _ := strings.Cut(string(c.auth), ":")
	req.SetBasicAuth(user, pass)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
}

// mauticComment says why, for the contact's Do Not Contact entry.
func mauticComment(e *suppress.OutboxEntry) string {
	parts := []string{"bouncer:", string(e.Event.Category), string(e.Event.Reason)}
	if e.Event.Status != "" {
		parts = append(parts, e.Event.Status)
	}
	s := strings.Join(parts, " ")
	if e.Event.Diagnostic != "" {
		s += ": " + e.Event.Diagnostic
	}
	return s
}

// find returns the ids of the contacts whose email is addr
// (GET /api/contacts?search=email:ADDR). Mautic's search matches loosely, so
// the answer is filtered to the exact address.
func (c *mauticClient) find(ctx context.Context, addr string) ([]int64, error) {
	q := url.Values{}
	q.Set("search", "email:"+addr)
	q.Set("limit", strconv.Itoa(MaxMauticContacts))
	req, err := newRequest(ctx, c.t, "find contact", http.MethodGet, c.t.endpoint("/api/contacts")+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	c.header(req)
	body, err := send(c.hc, c.t, "find contact", req, MaxMauticAnswer)
	if err != nil {
		return nil, err
	}
	contacts, err := parseMauticContacts(body)
	if err != nil {
		return nil, answerError(c.t, "find contact", body, err)
	}
	var ids []int64
	for _, ct := range contacts {
		if strings.EqualFold(ct.Fields.All.Email, addr) && ct.ID > 0 {
			ids = append(ids, int64(ct.ID))
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

type mauticContact struct {
	ID     flexInt `json:"id"`
	Fields struct {
		All struct {
			Email string `json:"email"`
		} `json:"all"`
	} `json:"fields"`
}

// parseMauticContacts reads a contact list answer: {"total": N, "contacts":
// {"ID": contact, …}}, where PHP writes an empty "contacts" as [].
func parseMauticContacts(body []byte) ([]mauticContact, error) {
	var r struct {
		Contacts json.RawMessage `json:"contacts"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("contact list: %w", err)
	}
	raw := bytes.TrimSpace(r.Contacts)
	switch {
	case len(raw) == 0:
		return nil, fmt.Errorf("contact list without \"contacts\"")
	case raw[0] == '[':
		var list []mauticContact
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("contact list: %w", err)
		}
		return list, nil
	}
	var m map[string]mauticContact
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("contact list: %w", err)
	}
	list := make([]mauticContact, 0, len(m))
	for _, c := range m {
		list = append(list, c)
	}
	return list, nil
}

// flexInt reads a JSON number or a string holding one (PHP writes ids
// either way).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s: %w", b, err)
	}
	*n = flexInt(v)
	return nil
}
