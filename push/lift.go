package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// Lifts: an address allowed again (suppress.DB.Allow, bouncer allow) is
// told to each target that acted on a suppression the allow lifts
// (suppress.DB.DueLifts), once: listmonk enables the subscriber again,
// Mautic removes the Do Not Contact entry, the webhook gets a
// suppression.lifted event. A target is told only of lifts of what bouncer
// told it.

// ResultNotBlocklisted: listmonk's subscriber was not blocklisted (someone
// enabled it already): nothing was changed.
const ResultNotBlocklisted Result = "not-blocklisted"

// EventLifted is the type of a webhook Event that lifts a suppression.
const EventLifted EventType = "suppression.lifted"

// LiftInfo is what a suppression.lifted webhook Event says of the allow.
type LiftInfo struct {
	Reason string    `json:"reason"` // why it was allowed
	By     string    `json:"by"`
	Until  time.Time `json:"until,omitzero"` // events up to it do not count either
}

// liftKey identifies the lift of allow id for good (the Event.ID of a
// suppression.lifted).
func liftKey(l *suppress.Lift) string {
	s := sha256.Sum256([]byte("lift\x00" + strconv.FormatInt(l.AllowID, 10) + "\x00" + l.Address))
	return hex.EncodeToString(s[:16])
}

// deliverLifts tells t of the lifts due for it. A lift that fails in a way
// worth another try is left for the next pass, and so is the rest of t's:
// it returns true when t must be left alone.
func (d *Deliverer) deliverLifts(ctx context.Context, t deliveryTarget, st *Stats) (stop bool, err error) {
	lifts, err := d.db.DueLifts(ctx, t.name, d.batch)
	if err != nil {
		return false, err
	}
	for i := range lifts {
		l := &lifts[i]
		if err := ctx.Err(); err != nil {
			return true, err
		}
		result, perr := t.client.lift(ctx, l)
		mctx := context.WithoutCancel(ctx)
		var pe *Error
		switch {
		case perr == nil:
			st.Lifted++
			if err := d.db.MarkLift(mctx, t.name, l.AllowID, suppress.OutboxDelivered, string(result), nil, d.now()); err != nil {
				return true, err
			}
		case errors.As(perr, &pe) && pe.Permanent():
			st.Failed++
			st.add(perr)
			d.log.Warn("push: lift refused", "target", t.name, "email", l.Address, "err", perr)
			if err := d.db.MarkLift(mctx, t.name, l.AllowID, suppress.OutboxFailed, "", perr, d.now()); err != nil {
				return true, err
			}
			if errors.Is(perr, ErrUnauthorized) {
				return true, nil
			}
		default:
			st.Retried++
			st.add(perr)
			d.log.Warn("push: lift will be tried again next pass", "target", t.name, "email", l.Address, "err", perr)
			return true, nil
		}
	}
	return false, nil
}

// lift enables listmonk's subscriber again (PUT /api/subscribers/ID with
// status "enabled", its name, attributes and lists as they are; listmonk's
// role permission subscribers:manage).
func (c *listmonkClient) lift(ctx context.Context, l *suppress.Lift) (Result, error) {
	sub, err := c.subscriber(ctx, l.Address)
	switch {
	case err != nil:
		return "", err
	case sub == nil:
		return ResultNotSubscriber, nil
	case sub.Status != listmonkBlocklisted:
		return ResultNotBlocklisted, nil
	}
	lists := make([]int64, 0, len(sub.Lists))
	for _, li := range sub.Lists {
		lists = append(lists, li.ID)
	}
	attribs := sub.Attribs
	if len(attribs) == 0 {
		attribs = json.RawMessage("{}")
	}
	body, err := marshal(map[string]any{"email": sub.Email, "name": sub.Name, "status": "enabled",
		"lists": lists, "attribs": attribs, "preconfirm_subscriptions": false})
	if err != nil {
		return "", err
	}
	const op = "enable subscriber"
	req, err := newRequest(ctx, c.t, op, http.MethodPut, c.t.endpoint("/api/subscribers/"+strconv.FormatInt(sub.ID, 10)), body)
	if err != nil {
		return "", err
	}
	c.header(req)
	req.Header.Set("Content-Type", "application/json")
	_, err = send(c.hc, c.t, op, req, MaxErrorBody)
	return "", err
}

// lift removes the Do Not Contact entry of every contact with the
// address (POST /api/contacts/ID/dnc/email/remove).
func (c *mauticClient) lift(ctx context.Context, l *suppress.Lift) (Result, error) {
	ids, err := c.find(ctx, l.Address)
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return ResultNotSubscriber, nil
	}
	const op = "remove do-not-contact"
	for _, id := range ids {
		req, err := newRequest(ctx, c.t, op, http.MethodPost,
			c.t.endpoint("/api/contacts/"+strconv.FormatInt(id, 10)+"/dnc/email/remove"), []byte("{}"))
		if err != nil {
			return "", err
		}
		c.header(req)
		req.Header.Set("Content-Type", "application/json")
		if _, err := send(c.hc, c.t, op, req, MaxErrorBody); err != nil {
			return "", err
		}
	}
	return "", nil
}

// lift posts a suppression.lifted Event.
func (c *webhookClient) lift(ctx context.Context, l *suppress.Lift) (Result, error) {
	ev := Event{ID: liftKey(l), Type: EventLifted, Date: l.At.UTC(), Email: l.Address,
		Lift: &LiftInfo{Reason: l.Reason, By: l.By, Until: l.Until}}
	return "", c.send(ctx, ev)
}
