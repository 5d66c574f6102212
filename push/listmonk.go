package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// listmonkType is a bounce type of listmonk (models.BounceType*).
type listmonkType string

const (
	listmonkHard      listmonkType = "hard"
	listmonkSoft      listmonkType = "soft"
	listmonkComplaint listmonkType = "complaint"
)

// ListmonkSource is the "source" of every bounce bouncer posts to listmonk,
// shown in listmonk's bounce list.
const ListmonkSource = "bouncer"

// listmonkBounce is the body of POST /webhooks/bounce (listmonk's
// models.Bounce, the fields a bounce from outside sets).
type listmonkBounce struct {
	Email string `json:"email"`
	// SubscriberUUID and CampaignUUID come from the returned original's
	// X-Listmonk-Subscriber and X-Listmonk-Campaign; the subscriber's only
	// when the subscriber with the event's address has that UUID.
	SubscriberUUID string       `json:"subscriber_uuid,omitempty"`
	CampaignUUID   string       `json:"campaign_uuid,omitempty"`
	Source         string       `json:"source"`
	Type           listmonkType `json:"type"`
	CreatedAt      time.Time    `json:"created_at"`
	Meta           listmonkMeta `json:"meta"`
}

// listmonkMeta is what bouncer knows of the bounce, kept in the bounce
// record's meta (JSONB).
type listmonkMeta struct {
	Reason          classify.Reason   `json:"reason"`
	Category        classify.Category `json:"category"`
	Status          string            `json:"status"`
	ReplyCode       string            `json:"reply_code"`
	Diagnostic      string            `json:"diagnostic"`
	MessageID       string            `json:"message_id"` // of the original message
	BounceMessageID string            `json:"bounce_message_id"`
	BouncerID       string            `json:"bouncer_id"` // OutboxEntry.Key
	// Decision says why a soft bounce is sent as hard: bouncer's soft
	// threshold suppressed the address (suppress.SoftThreshold.String).
	Decision string `json:"decision,omitempty"`
}

type listmonkClient struct {
	t      Target
	auth   secret // "user:token"
	hc     *http.Client
	ua     string
	db     *suppress.DB
	policy *suppress.Policy
	soft   SoftMode
}

// listmonkBlocklisted is the status of a blocklisted subscriber
// (models.SubscriberStatusBlockListed).
const listmonkBlocklisted = "blocklisted"

func (c *listmonkClient) push(ctx context.Context, e *suppress.OutboxEntry) (Result, error) {
	b := listmonkBounce{
		Email:     e.Event.Address,
		Source:    ListmonkSource,
		CreatedAt: e.Event.Date.UTC(),
		Meta: listmonkMeta{
			Reason:          e.Event.Reason,
			Category:        e.Event.Category,
			Status:          e.Event.Status,
			ReplyCode:       e.Event.ReplyCode,
			Diagnostic:      e.Event.Diagnostic,
			MessageID:       e.Event.MessageID,
			BounceMessageID: e.BounceMessageID,
			BouncerID:       e.Key,
		},
	}
	switch e.Event.Category {
	case classify.CategoryHard:
		b.Type = listmonkHard
	case classify.CategoryComplaint:
		b.Type = listmonkComplaint
	case classify.CategorySoft:
		b.Type = listmonkSoft
		if c.soft != SoftAll {
			// listmonk counts every soft bounce forever: it hears of one
			// only when bouncer's own threshold suppresses the address,
			// as one hard bounce, which its default action acts on once.
			th, err := c.db.SoftThresholdReached(ctx, e.EventID, c.policy)
			if err != nil {
				return "", err
			}
			if !th.Reached {
				return ResultBelowThreshold, nil
			}
			b.Type, b.Meta.Decision = listmonkHard, th.String()
		}
	default:
		return "", refusedCategory(c.t, "post bounce", "listmonk", e.Event.Category)
	}
	sub, err := c.subscriber(ctx, e.Event.Address)
	switch {
	case err != nil:
		return "", err
	case sub == nil:
		// listmonk would answer 200 and drop it (internal/core/bounces.go).
		return ResultNotSubscriber, nil
	}
	if e.Uncertain {
		// An earlier attempt may have reached listmonk, which would count
		// a second post again: look for it first.
		has, err := c.has(ctx, sub.ID, e)
		if err != nil {
			return "", err
		}
		if has {
			return "", nil
		}
	}
	if sub.Status == listmonkBlocklisted {
		// listmonk would answer 200 and record nothing (queries/bounces.sql).
		return ResultAlreadyBlocklisted, nil
	}
	if sub.UUID != "" && strings.EqualFold(sub.UUID, e.Event.ListSubscriber) {
		b.SubscriberUUID = e.Event.ListSubscriber
	}
	b.CampaignUUID = e.Event.ListCampaign
	return "", c.post(ctx, b)
}

// post sends b to POST /webhooks/bounce.
func (c *listmonkClient) post(ctx context.Context, b listmonkBounce) error {
	body, err := marshal(b)
	if err != nil {
		return err
	}
	req, err := newRequest(ctx, c.t, "post bounce", http.MethodPost, c.t.endpoint("/webhooks/bounce"), body)
	if err != nil {
		return err
	}
	c.header(req)
	req.Header.Set("Content-Type", "application/json")
	_, err = send(c.hc, c.t, "post bounce", req, MaxErrorBody)
	return listmonkRefusal(err)
}

func (c *listmonkClient) header(req *http.Request) {
	req.Header.Set("Authorization", "token "+string(c.auth))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
}

// listmonkRefusal turns listmonk's own 503, its answer when bounce
// processing is switched off (cmd/bounce.go), into a refusal: it will not
// pass by itself, and retrying it for hours changes nothing. A 503 without
// listmonk's JSON answer (a proxy's page) is retried as usual.
func listmonkRefusal(err error) error {
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusServiceUnavailable || listmonkMessage(pe.Body) == "" {
		return err
	}
	const why = "listmonk's bounce processing is off (Settings, Bounces: Enable bounce processing)"
	pe.Err = fmt.Errorf("%w: %s", ErrRejected, why)
	pe.Body = why + "; it answered " + pe.Body
	pe.RetryAfter = 0
	return pe
}

// listmonkMessage returns the "message" of a listmonk error answer
// ({"message": "…"}), or "".
func listmonkMessage(body string) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(body), &m) != nil {
		return ""
	}
	return m.Message
}

// MaxListmonkAnswer is the most bytes read of a listmonk lookup answer.
const MaxListmonkAnswer = 1 << 20

// listmonkSubscriber is a subscriber of a lookup answer.
type listmonkSubscriber struct {
	ID      int64           `json:"id"`
	UUID    string          `json:"uuid"`
	Email   string          `json:"email"`
	Name    string          `json:"name"`
	Status  string          `json:"status"`
	Attribs json.RawMessage `json:"attribs"`
	Lists   []struct {
		ID int64 `json:"id"`
	} `json:"lists"`
}

// subscriberQuery is listmonk's query for the subscriber with address
// addr: an SQL expression on its subscribers table.
func subscriberQuery(addr string) string {
	return "LOWER(subscribers.email) = '" + strings.ReplaceAll(addr, "'", "''") + "'"
}

// subscriber returns the subscriber with address addr (GET
// /api/subscribers?query=…), or nil when there is none.
func (c *listmonkClient) subscriber(ctx context.Context, addr string) (*listmonkSubscriber, error) {
	q := url.Values{}
	q.Set("query", subscriberQuery(addr))
	q.Set("per_page", "1")
	var subs struct {
		Data struct {
			Results []listmonkSubscriber `json:"results"`
		} `json:"data"`
	}
	if err := c.get(ctx, "find subscriber", "/api/subscribers?"+q.Encode(), &subs); err != nil {
		return nil, err
	}
	for _, s := range subs.Data.Results {
		if strings.EqualFold(s.Email, addr) {
			return &s, nil
		}
	}
	return nil, nil
}

// has reports whether listmonk holds the bounce of e already: the bounces
// of subscriber id (GET /api/subscribers/ID/bounces) include one whose
// meta.bouncer_id is e.Key.
func (c *listmonkClient) has(ctx context.Context, id int64, e *suppress.OutboxEntry) (bool, error) {
	var bounces struct {
		Data []struct {
			Meta struct {
				BouncerID string `json:"bouncer_id"`
			} `json:"meta"`
		} `json:"data"`
	}
	if err := c.get(ctx, "look up bounce", "/api/subscribers/"+strconv.FormatInt(id, 10)+"/bounces", &bounces); err != nil {
		return false, err
	}
	for _, b := range bounces.Data {
		if b.Meta.BouncerID == e.Key {
			return true, nil
		}
	}
	return false, nil
}

// get reads the JSON answer of GET path into v.
func (c *listmonkClient) get(ctx context.Context, op, path string, v any) error {
	body, err := c.getRaw(ctx, op, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return answerError(c.t, op, body, err)
	}
	return nil
}

// getRaw returns the answer of GET path, or an *Error for a status other
// than 2xx.
func (c *listmonkClient) getRaw(ctx context.Context, op, path string) ([]byte, error) {
	u := *c.t.URL
	ref, err := url.Parse(path)
	if err != nil {
		return nil, &Error{Target: c.t.String(), Op: op, Err: fmt.Errorf("%w: %w", ErrRejected, err)}
	}
	u.Path += ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	req, err := newRequest(ctx, c.t, op, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	c.header(req)
	return send(c.hc, c.t, op, req, MaxListmonkAnswer)
}

// marshal encodes v as JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("push: encode: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
