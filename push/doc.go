// Package push delivers bounce events to the tools that act on them: listmonk's
// bounce API, Mautic's Do Not Contact API, and a signed JSON webhook.
//
// The events come from the outbox of a suppress.DB: New registers the
// targets with the state (suppress.DB.SetOutbox), after which each event
// that Record stores is queued, in the same transaction, for every target
// that takes its category. A Deliverer drains the queue: Deliver makes one
// pass, Run passes until its context ends. No transaction is held during a
// request, so the mailbox work never waits for a target.
//
// # Targets
//
// A target is KIND=URL (ParseTarget; the --push flag); for Mautic the URL
// is its root (https://crm.example.org, with /index.php when Mautic runs
// without URL rewriting). Credentials come
// from a secret file (Options.SecretFile; --push-secret-file), never from
// the URL: one "NAME SECRET" a line, NAME a kind or a whole target.
//
// listmonk=URL (hard, soft and complaint events): first GET
// URL/api/subscribers with query LOWER(subscribers.email) = 'ADDR' finds
// the subscriber; then POST URL/webhooks/bounce, listmonk's bounce API,
// with "Authorization: token API_USER:TOKEN" (listmonk API users) and a
// JSON body
//
//	{"email": "a@example.com", "source": "bouncer", "type": "hard",
//	 "created_at": "2026-01-04T04:00:00Z",
//	 "subscriber_uuid": "…", "campaign_uuid": "…",
//	 "meta": {"reason": "userunknown", "category": "hard", "status": "5.1.1",
//	          "reply_code": "550", "diagnostic": "550 5.1.1 user unknown",
//	          "message_id": "<original@list.example>", "bounce_message_id": "<…>",
//	          "bouncer_id": "9f…", "decision": "soft threshold: …"}}
//
// listmonk answers 200 to a bounce for an address it has no subscriber
// for, and to one for a blocklisted subscriber, and does nothing; the
// lookup finds both, nothing is posted, and the entry is done with
// ResultNotSubscriber or ResultAlreadyBlocklisted (counted apart in
// Stats). listmonk counts every bounce type forever, so a soft bounce is
// posted only when it brings its address to bouncer's soft threshold
// (Options.Policy), once, as type hard with meta.decision saying so;
// the others are done with ResultBelowThreshold (SoftThreshold; SoftAll
// posts them as soft). campaign_uuid and subscriber_uuid come from the
// returned original's X-Listmonk-Campaign and X-Listmonk-Subscriber
// (suppress.Event.ListCampaign, ListSubscriber); the subscriber's only when
// the subscriber found has it. listmonk's own 503 (bounce processing off)
// is a refusal (ErrRejected), not retried; a proxy's 503 is.
//
// An entry whose address was allowed again (suppress.DB.Allow) after it
// was queued is never sent, to any target: it is done with ResultAllowed
// (counted in Stats.Allowed), or, when an earlier attempt may have reached
// the target, as acted on, so that the lift goes out and undoes it.
//
// Before any push, Deliverer.Check asks each target whether the
// credentials may do what the pushes do (listmonk: ListmonkPermissions;
// Mautic: MauticPermissions) and returns ErrPermission, naming what is
// missing, for a refusal; bouncer run exits before it touches the mailbox.
//
// mautic=URL (hard, soft and complaint events): GET URL/api/contacts?search=email:ADDR
// finds the contacts with the address (the answer is filtered to the exact
// address), then POST URL/api/contacts/ID/dnc/email/add with
// {"reason": 2, "comments": "bouncer: hard userunknown 5.1.1: …"} for each,
// with HTTP basic auth (USER:PASSWORD; Mautic's API with basic auth
// enabled). Reason 2 is Mautic's DoNotContact::BOUNCED for a hard bounce; a
// complaint gets 1, DoNotContact::UNSUBSCRIBED, as Mautic's own feedback-loop
// processing records it. Mautic keeps no count of soft bounces, and one
// entry stops the contact for good, so a soft bounce is sent (as reason 2,
// its comment saying the threshold) only when it brings its address to
// bouncer's threshold, as for listmonk; the others are done with
// ResultBelowThreshold. An address without a
// contact is recorded as failed with ErrNoContact.
//
// webhook=URL (every event, policy blocks and notices included): POST URL
// with an Event as JSON and three headers:
//
//	Webhook-Id: <Event.ID>
//	Webhook-Timestamp: <Unix seconds>
//	Webhook-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// (Sign computes the signature.) A receiver recomputes the HMAC over the raw
// body with the shared secret, compares it in constant time
// (hmac.Equal), refuses a timestamp more than a few minutes from its clock,
// and drops an Event.ID it has seen.
//
// Policy blocks (the receiver refused the sender or the message) are not the
// subscriber's fault: they go to the webhook only.
//
// # Delivery
//
// Each event is sent to each target until the target accepts it (2xx); the
// acceptance is then recorded in one atomic update, and the event is never
// sent again, across runs, restarts and retries. A 5xx, 408, 425, 429, a
// redirect or no answer is retried after a backoff (Options.MinBackoff,
// doubling, at most Options.MaxBackoff, longer if Retry-After says so), at
// most Options.MaxAttempts times; then the event is recorded as failed
// (ErrGaveUp). Any other 4xx (400, 404, 422 …) is recorded as failed at once
// with the answer (ErrRejected); 401 and 403 too (ErrUnauthorized). After a
// retried failure or a refused credential the target is left alone for the
// rest of the pass: a target that is down costs a pass one timeout, and a
// wrong token one event, not the queue. suppress.DB.RequeueFailed sends
// failed events again after the cause is fixed.
//
// The window that remains: a crash (or a lost answer: a timeout after the
// target acted) between the target's acceptance and the update that records
// it sends that event again. Before each request the attempt is recorded,
// so such an event is known (Stats.Uncertain, a warning in the log). What a
// repeat does depends on the target:
//   - Mautic: nothing; a Do Not Contact entry added twice is one entry.
//   - webhook: the same Webhook-Id; a receiver that drops repeats by it sees
//     each event once.
//   - listmonk: its bounce API has no idempotency key, and a second post is
//     counted again toward its bounce actions. So before sending such an
//     event again, the client looks for it: GET
//     URL/api/subscribers/ID/bounces of the subscriber found, and a bounce
//     whose meta.bouncer_id is the event's key means it arrived; it is then
//     marked delivered without a post. A lookup that fails fails the
//     attempt (Check makes sure the role may look up). listmonk records
//     bounces asynchronously, so one posted just before the crash may not
//     show yet when the next run starts at once; the window is narrow, not
//     closed. Repeats can be found by meta.bouncer_id, which names the
//     event for good.
//
// # Lifts
//
// An address allowed again (suppress.DB.Allow) is told, once, to each
// target that acted on a suppression the allow lifts
// (suppress.DB.DueLifts), after the target's events in each pass: listmonk
// enables the subscriber again (PUT URL/api/subscribers/ID, its name,
// attributes and lists as read; the role needs subscribers:manage),
// Mautic removes the Do Not Contact entry (POST
// URL/api/contacts/ID/dnc/email/remove), the webhook gets an Event of type
// suppression.lifted with Lift set. A refusal is recorded as failed; a
// failure worth another try is tried at the next pass.
package push
