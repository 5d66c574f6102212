package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrPermission reports a target that refuses what the pushes need: the
// API user lacks a permission, or the product's bounce handling is
// switched off. Deliverer.Check returns it before the mailbox is touched.
var ErrPermission = errors.New("push: the target refuses what the push needs")

// ListmonkPermissions are the permissions the role of listmonk's API user
// needs: the post (webhooks:post_bounce, cmd/handlers.go), the subscriber
// lookup by address (subscribers:get_all, and subscribers:sql_query for
// its query, cmd/subscribers.go QuerySubscribers; lists:get_all so that
// the subscribers of every list are found), and the lookup of a
// subscriber's bounces after a crash (subscribers:get, bounces:get).
var ListmonkPermissions = []string{"webhooks:post_bounce", "subscribers:get", "subscribers:get_all",
	"subscribers:sql_query", "lists:get_all", "bounces:get"}

// MauticPermissions are the permissions of Mautic's API user's role, as
// Mautic's role editor names them: the contact search lists others'
// contacts, the Do Not Contact entry edits them.
const MauticPermissions = `Contacts: "View others" and "Edit others"`

// checkAddress is the address the checks look up: one no list holds
// (RFC 2606 .invalid).
const checkAddress = "bouncer-permission-check@example.invalid"

// checkSubscriberID is the subscriber whose bounces the check reads: one
// that does not exist, so that the answer is empty.
const checkSubscriberID = 2147483647

// Check asks each target, before any push is due, whether its credentials
// may do what the pushes do: for listmonk one request per call the push
// makes (the subscriber lookup, the bounce lookup, and a post of an empty
// bounce, which listmonk refuses as invalid after it checked the
// permission); for Mautic the contact search. A target that refuses (401,
// 403; listmonk's bounce webhook off, 404, or its bounce processing off,
// 503) is an error wrapping ErrPermission, in one line that names what is
// missing; a target that does not answer is not: its pushes wait and are
// retried.
func (d *Deliverer) Check(ctx context.Context) error {
	var errs []error
	for _, t := range d.targets {
		if err := t.client.check(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refused returns the part of a check's error that is a refusal: "op:
// status message", or "" when err is none, or no refusal.
func refused(err error, codes ...int) string {
	var pe *Error
	if err == nil || !errors.As(err, &pe) {
		return ""
	}
	for _, c := range codes {
		if pe.StatusCode == c {
			msg := listmonkMessage(pe.Body)
			if msg == "" {
				msg = pe.Body
			}
			return fmt.Sprintf("%s: %d %s", pe.Op, pe.StatusCode, msg)
		}
	}
	return ""
}

func (c *listmonkClient) check(ctx context.Context) error {
	var missing []string
	q := url.Values{}
	q.Set("query", subscriberQuery(checkAddress))
	q.Set("per_page", "1")
	_, err := c.getRaw(ctx, "find subscriber", "/api/subscribers?"+q.Encode())
	missing = appendNonEmpty(missing, refused(err, http.StatusUnauthorized, http.StatusForbidden))
	_, err = c.getRaw(ctx, "look up bounce", "/api/subscribers/"+strconv.Itoa(checkSubscriberID)+"/bounces")
	missing = appendNonEmpty(missing, refused(err, http.StatusUnauthorized, http.StatusForbidden))
	// An empty bounce: listmonk checks the permission (403), that bounce
	// webhooks are on (the route exists: else 404) and bounce processing
	// too (503), then refuses it as invalid (400) and records nothing
	// (cmd/bounce.go, validateBounceFields).
	req, err := newRequest(ctx, c.t, "post bounce", http.MethodPost, c.t.endpoint("/webhooks/bounce"), []byte(`{}`))
	if err != nil {
		return err
	}
	c.header(req)
	req.Header.Set("Content-Type", "application/json")
	_, err = send(c.hc, c.t, "post bounce", req, MaxErrorBody)
	missing = appendNonEmpty(missing, refused(err, http.StatusUnauthorized, http.StatusForbidden))
	var off []string
	if s := refused(err, http.StatusNotFound); s != "" {
		off = append(off, "its bounce webhooks are off (Settings, Bounces: Enable bounce webhooks): "+s)
	}
	if s := refused(listmonkRefusal(err), http.StatusServiceUnavailable); s != "" && errors.Is(listmonkRefusal(err), ErrRejected) {
		off = append(off, "its bounce processing is off (Settings, Bounces: Enable bounce processing): "+s)
	}
	if len(missing) == 0 && len(off) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: listmonk refuses what the push needs:", c.t)
	if len(missing) > 0 {
		fmt.Fprintf(&b, " the API user lacks permissions (%s); give its role %s;",
			strings.Join(missing, "; "), strings.Join(ListmonkPermissions, ", "))
	}
	if len(off) > 0 {
		fmt.Fprintf(&b, " %s;", strings.Join(off, "; "))
	}
	return fmt.Errorf("%w: %s", ErrPermission, strings.TrimSuffix(b.String(), ";"))
}

func (c *mauticClient) check(ctx context.Context) error {
	_, err := c.find(ctx, checkAddress)
	s := refused(err, http.StatusUnauthorized, http.StatusForbidden)
	if s == "" {
		return nil
	}
	return fmt.Errorf("%w: %s: Mautic refuses the contact search (%s); the API user needs basic auth enabled and %s",
		ErrPermission, c.t, s, MauticPermissions)
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}
