package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// Sentinel errors; the errors returned wrap them with %w.
var (
	// ErrBadTarget reports a --push value that ParseTarget refuses.
	ErrBadTarget = errors.New("push: bad target")
	// ErrInsecure reports an http:// target on a host that is not
	// loopback: its credentials and the addresses would cross the
	// network in clear (Options.AllowInsecure lifts it).
	ErrInsecure = errors.New("push: insecure target")
	// ErrSecret reports a secret file that cannot be read, or that lacks
	// (or has a malformed) secret for a target.
	ErrSecret = errors.New("push: secret")
	// ErrRejected: the target refused the event for good (a 4xx other
	// than 401, 403, 408, 425 and 429); it is recorded as failed and not
	// sent again.
	ErrRejected = errors.New("push: refused by the target")
	// ErrUnauthorized: the target refused the credentials (401, 403). The
	// event is recorded as failed and the target is left alone for the
	// rest of the pass, so a wrong token fails one event, not all.
	ErrUnauthorized = errors.New("push: credentials refused by the target")
	// ErrUnavailable: no answer, or one that is worth another try (5xx,
	// 408, 425, 429, a redirect); retried with backoff.
	ErrUnavailable = errors.New("push: target unavailable")
	// ErrNoContact: Mautic has no contact with the event's address; there
	// is nothing to mark, and the event is recorded as failed.
	ErrNoContact = errors.New("push: no contact with this address")
	// ErrGaveUp: the attempts ran out (Options.MaxAttempts).
	ErrGaveUp = errors.New("push: gave up")
)

// MaxErrorBody is the most bytes of a target's answer kept in an Error.
const MaxErrorBody = 512

// maxDrain is the most bytes of an answer read past what is kept, so that
// the connection can serve the next request.
const maxDrain = 64 << 10

// Error is a failed request to a target.
type Error struct {
	Target     string        // Target.String()
	Op         string        // "post bounce", "find contact", "add do-not-contact", "post event"
	StatusCode int           // the HTTP status; 0 when there was no answer
	Body       string        // the start of the answer (MaxErrorBody bytes), on one line
	RetryAfter time.Duration // from a Retry-After header, 0 if none
	// Err is ErrRejected, ErrUnauthorized, ErrUnavailable or ErrNoContact,
	// joined with the transport error when there was no answer.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "push: %s: %s: ", e.Target, e.Op)
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Body != "" {
			fmt.Fprintf(&b, ": %s", e.Body)
		}
	case e.Err != nil:
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "push: "))
	default:
		b.WriteString("failed")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether the event must not be sent again: the target
// refused it, refused the credentials, or has no contact for it.
func (e *Error) Permanent() bool {
	return errors.Is(e.Err, ErrRejected) || errors.Is(e.Err, ErrUnauthorized) || errors.Is(e.Err, ErrNoContact)
}

// statusClass is the sentinel for an HTTP status that is not 2xx.
func statusClass(code int) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrUnauthorized
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests:
		return ErrUnavailable
	case code >= 400 && code < 500:
		return ErrRejected
	}
	return ErrUnavailable
}

// send runs req and returns the answer's body (at most limit bytes) when the
// status is 2xx, else an *Error.
func send(hc *http.Client, t Target, op string, req *http.Request, limit int64) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &Error{Target: t.String(), Op: op, Err: fmt.Errorf("%w: %w", ErrUnavailable, stripURL(err))}
	}
	defer func() {
		// Read a little more so that the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		resp.Body.Close()
	}()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, limit))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Target: t.String(), Op: op, StatusCode: resp.StatusCode, Body: oneLine(body),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: statusClass(resp.StatusCode)}
	}
	if rerr != nil {
		return nil, &Error{Target: t.String(), Op: op, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%w: reading the answer: %w", ErrUnavailable, rerr)}
	}
	return body, nil
}

// stripURL returns the error under a *url.Error: the Error already names
// the target, and the URL of a Mautic search holds an address.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header (RFC 9110 section 10.2.3): seconds,
// or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// oneLine folds an answer's body onto one line of at most MaxErrorBody
// bytes.
func oneLine(b []byte) string {
	return textcut.Bytes(textcut.OneLine(string(b[:min(len(b), 4*MaxErrorBody)])), MaxErrorBody)
}

// cut is textcut.Bytes.
func cut(s string, n int) string { return textcut.Bytes(s, n) }

// newRequest returns the request of op (method on the URL u, with body;
// nil: none) to target t, or an *Error of ErrRejected when u makes none.
func newRequest(ctx context.Context, t Target, op, method, u string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, &Error{Target: t.String(), Op: op, Err: fmt.Errorf("%w: %w", ErrRejected, err)}
	}
	return req, nil
}

// answerError is the *Error of op when t's 2xx answer body does not read
// (err): ErrUnavailable, as the answer may be a proxy's page.
func answerError(t Target, op string, body []byte, err error) error {
	return &Error{Target: t.String(), Op: op, StatusCode: http.StatusOK, Body: oneLine(body),
		Err: fmt.Errorf("%w: %v", ErrUnavailable, err)}
}

// refusedCategory is the *Error of op when service, the kind of t, takes
// no events of category c: ErrRejected, never retried.
func refusedCategory(t Target, op, service string, c classify.Category) error {
	return &Error{Target: t.String(), Op: op, Err: fmt.Errorf("%w: %s takes no %s events", ErrRejected, service, c)}
}
