package oauth

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// Sentinel errors; the errors of this package wrap one of them, and the
// *oauth2.RetrieveError of the token endpoint when there is one.
var (
	// ErrFile: the credentials file cannot be read or is wrong.
	ErrFile = errors.New("oauth: bad credentials file")
	// ErrStore: a new token could not be written to the credentials file.
	// The Source keeps it in memory and tries again at the next call.
	ErrStore = errors.New("oauth: cannot store the token")
	// ErrInvalidGrant: the token endpoint refused the refresh token or the
	// device code (RFC 6749 section 5.2 invalid_grant): revoked, expired,
	// or issued to another client. Authorize again.
	ErrInvalidGrant = errors.New("oauth: the refresh token was refused (revoked or expired): authorize again")
	// ErrClient: the token endpoint refused the client (invalid_client,
	// unauthorized_client): check client_id, client_secret, tenant.
	ErrClient = errors.New("oauth: the client was refused")
	// ErrDenied: the user declined the authorization (RFC 8628
	// access_denied), or the device code expired before the user approved
	// (expired_token).
	ErrDenied = errors.New("oauth: authorization not granted")
	// ErrRefused: any other refusal of the token endpoint (invalid_scope,
	// invalid_request, unsupported_grant_type, a 4xx answer).
	ErrRefused = errors.New("oauth: the token endpoint refused the request")
	// ErrEndpoint: the token endpoint could not be reached, failed (5xx) or
	// answered something that is not a token. Worth retrying later.
	ErrEndpoint = errors.New("oauth: token endpoint failed")
)

// RFC 6749 section 5.2 and RFC 8628 section 3.5 error codes.
const (
	codeInvalidGrant       = "invalid_grant"
	codeInvalidClient      = "invalid_client"
	codeUnauthorizedClient = "unauthorized_client"
	codeAccessDenied       = "access_denied"
	codeExpiredToken       = "expired_token"
)

// endpointError classifies an error of a token request: what was asked
// ("refresh", "device authorization"…) and the error of x/oauth2.
func endpointError(what string, err error) error {
	re, ok := errorsAs[*oauth2.RetrieveError](err)
	if !ok {
		return fmt.Errorf("%w: %s: %w", ErrEndpoint, what, err)
	}
	detail := re.ErrorCode
	if re.ErrorDescription != "" {
		detail += ": " + re.ErrorDescription
	}
	if detail == "" && re.Response != nil {
		detail = re.Response.Status
	}
	var sentinel error
	switch {
	case re.ErrorCode == codeInvalidGrant:
		sentinel = ErrInvalidGrant
	case re.ErrorCode == codeInvalidClient, re.ErrorCode == codeUnauthorizedClient:
		sentinel = ErrClient
	case re.ErrorCode == codeAccessDenied, re.ErrorCode == codeExpiredToken:
		sentinel = ErrDenied
	case re.Response != nil && re.Response.StatusCode >= http.StatusInternalServerError:
		sentinel = ErrEndpoint
	case re.ErrorCode == "" && (re.Response == nil || re.Response.StatusCode < http.StatusBadRequest):
		sentinel = ErrEndpoint
	default:
		sentinel = ErrRefused
	}
	return &endpointErr{sentinel: sentinel, what: what, detail: detail, cause: re}
}

// endpointErr is an error of the token endpoint, on one line.
type endpointErr struct {
	sentinel     error
	what, detail string
	cause        *oauth2.RetrieveError
}

func (e *endpointErr) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.sentinel, e.what, e.detail)
}

func (e *endpointErr) Unwrap() []error { return []error{e.sentinel, e.cause} }
