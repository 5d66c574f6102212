package push

import (
	"bytes"
	"context"
	"encoding/json"
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
	Email     string       `json:"email"`
	Source    string       `json:"source"`
	Type      listmonkType `json:"type"`
	CreatedAt time.Time    `json:"created_at"`
	Meta      listmonkMeta `json:"meta"`
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
}

type listmonkClient struct {
	t    Target
	auth secret // "user:token"
	hc   *http.Client
	ua   string
}

func (c *listmonkClient) push(ctx context.Context, e *suppress.OutboxEntry) error {
	var typ listmonkType
	switch e.Event.Category {
	case classify.CategoryHard:
		typ = listmonkHard
	case classify.CategorySoft:
		typ = listmonkSoft
	case classify.CategoryComplaint:
		typ = listmonkComplaint
	default:
		return refusedCategory(c.t, "post bounce", "listmonk", e.Event.Category)
	}
	body, err := marshal(listmonkBounce{
		Email:     e.Event.Address,
		Source:    ListmonkSource,
		Type:      typ,
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
	})
	if err != nil {
		return err
	}
	if e.Uncertain {
		// An earlier attempt may have reached listmonk, which would count
		// a second post again: look for it first. If the lookup fails
		// (the API user may not read subscribers), send it again.
		if has, err := c.has(ctx, e); err == nil && has {
			return nil
		}
	}
	req, err := newRequest(ctx, c.t, "post bounce", http.MethodPost, c.t.endpoint("/webhooks/bounce"), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+string(c.auth))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	_, err = send(c.hc, c.t, "post bounce", req, MaxErrorBody)
	return err
}

// MaxListmonkAnswer is the most bytes read of a listmonk lookup answer.
const MaxListmonkAnswer = 1 << 20

// has reports whether listmonk holds the bounce of e already: the bounces
// of the subscriber with e's address (GET /api/subscribers?query=…, then
// GET /api/subscribers/ID/bounces) include one whose meta.bouncer_id is
// e.Key. No subscriber means no bounce: listmonk drops a bounce for an
// address it does not know.
func (c *listmonkClient) has(ctx context.Context, e *suppress.OutboxEntry) (bool, error) {
	q := url.Values{}
	// listmonk's query is an SQL expression on its subscribers table.
	q.Set("query", "LOWER(subscribers.email) = '"+strings.ReplaceAll(e.Event.Address, "'", "''")+"'")
	q.Set("per_page", "1")
	var subs struct {
		Data struct {
			Results []struct {
				ID int64 `json:"id"`
			} `json:"results"`
		} `json:"data"`
	}
	if err := c.get(ctx, "/api/subscribers?"+q.Encode(), &subs); err != nil {
		return false, err
	}
	if len(subs.Data.Results) == 0 {
		return false, nil
	}
	var bounces struct {
		Data []struct {
			Meta struct {
				BouncerID string `json:"bouncer_id"`
			} `json:"meta"`
		} `json:"data"`
	}
	if err := c.get(ctx, "/api/subscribers/"+strconv.FormatInt(subs.Data.Results[0].ID, 10)+"/bounces", &bounces); err != nil {
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
func (c *listmonkClient) get(ctx context.Context, path string, v any) error {
	u := *c.t.URL
	ref, err := url.Parse(path)
	if err != nil {
		return &Error{Target: c.t.String(), Op: "look up bounce", Err: fmt.Errorf("%w: %w", ErrRejected, err)}
	}
	u.Path += ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	req, err := newRequest(ctx, c.t, "look up bounce", http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+string(c.auth))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	body, err := send(c.hc, c.t, "look up bounce", req, MaxListmonkAnswer)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return answerError(c.t, "look up bounce", body, err)
	}
	return nil
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
