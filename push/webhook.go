package push

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// EventType is the "type" of a webhook Event.
type EventType string

const (
	EventHardBounce  EventType = "bounce.hard"   // category hard
	EventSoftBounce  EventType = "bounce.soft"   // category soft
	EventPolicyBlock EventType = "bounce.policy" // category policy: the sender or message was refused
	EventComplaint   EventType = "complaint"     // category complaint
	EventNotice      EventType = "notice"        // category none: an auto-reply or delivery notice
)

// EventTypeOf returns the event type of category c.
func EventTypeOf(c classify.Category) EventType {
	switch c {
	case classify.CategoryHard:
		return EventHardBounce
	case classify.CategorySoft:
		return EventSoftBounce
	case classify.CategoryPolicy:
		return EventPolicyBlock
	case classify.CategoryComplaint:
		return EventComplaint
	}
	return EventNotice
}

// Event is the JSON body the webhook posts, one event a request.
type Event struct {
	// ID identifies the event for good (also in the Webhook-Id header):
	// a receiver that has seen it drops the repeat.
	ID   string    `json:"id"`
	Type EventType `json:"type"`
	// Date is when the bounce happened, from the report, RFC 3339 UTC.
	Date       time.Time         `json:"date"`
	Email      string            `json:"email"` // normalised
	Category   classify.Category `json:"category"`
	Reason     classify.Reason   `json:"reason"`
	Status     string            `json:"status"`     // RFC 3463 enhanced status code, or ""
	ReplyCode  string            `json:"reply_code"` // RFC 5321 reply code, or ""
	Diagnostic string            `json:"diagnostic"` // what the remote server said
	// MessageID is the Message-ID of the original message that bounced;
	// BounceMessageID that of the bounce.
	MessageID       string `json:"message_id"`
	BounceMessageID string `json:"bounce_message_id"`
	Source          string `json:"source"` // what read the event ("rfc3464", "arf", …)
	// Lift is set, and Type is EventLifted, when the address was allowed
	// again (the other fields but ID, Date and Email are then empty).
	Lift *LiftInfo `json:"lift,omitempty"`
}

// Webhook headers.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// Sign returns the Webhook-Signature value for a request with the given
// timestamp (Unix seconds, the Webhook-Timestamp value) and body:
// "v1=" and the lower-case hex of HMAC-SHA256(secret, timestamp "." body).
func Sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

type webhookClient struct {
	t      Target
	secret secret
	hc     *http.Client
	ua     string
	now    func() time.Time
}

func (c *webhookClient) push(ctx context.Context, e *suppress.OutboxEntry) (Result, error) {
	return "", c.post(ctx, e)
}

// check: a webhook has no permissions to ask about.
func (c *webhookClient) check(context.Context) error { return nil }

// post sends the Event of e.
func (c *webhookClient) post(ctx context.Context, e *suppress.OutboxEntry) error {
	return c.send(ctx, Event{
		ID:              e.Key,
		Type:            EventTypeOf(e.Event.Category),
		Date:            e.Event.Date.UTC(),
		Email:           e.Event.Address,
		Category:        e.Event.Category,
		Reason:          e.Event.Reason,
		Status:          e.Event.Status,
		ReplyCode:       e.Event.ReplyCode,
		Diagnostic:      e.Event.Diagnostic,
		MessageID:       e.Event.MessageID,
		BounceMessageID: e.BounceMessageID,
		Source:          e.Event.Source,
	})
}

// send posts ev, signed.
func (c *webhookClient) send(ctx context.Context, ev Event) error {
	body, err := marshal(ev)
	if err != nil {
		return err
	}
	req, err := newRequest(ctx, c.t, "post event", http.MethodPost, c.t.URL.String(), body)
	if err != nil {
		return err
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set(HeaderID, ev.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign([]byte(c.secret), ts, body))
	_, err = send(c.hc, c.t, "post event", req, MaxErrorBody)
	return err
}
