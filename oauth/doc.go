// Package oauth keeps the OAuth2 access token of an IMAP mailbox fresh, for
// XOAUTH2 and OAUTHBEARER (RFC 7628) logins to Gmail and Microsoft 365.
//
// A credentials file (JSON, see Credentials) names the provider and the
// client, and holds either a user's refresh token (Gmail, Microsoft 365
// delegated access: the refresh token grant, RFC 6749 section 6) or the
// client's own secret (Microsoft 365 app-only access: the client
// credentials grant, RFC 6749 section 4.4). A Source (see NewSource) is an
// oauth2.TokenSource over that file: it hands out the access token stored
// in the file while it is valid for more than Options.RefreshBefore, and
// otherwise asks the token endpoint for a new one and stores it back in the
// file atomically (a temporary file in the same directory, mode 0600,
// synced, then renamed over the old one), the refresh token included when
// the provider rotates it. It reads the file again before each refresh, so
// a token refreshed by another process, or a refresh token obtained again,
// is picked up.
//
// Authorize obtains the refresh token once, with the device authorization
// grant (RFC 8628): it shows a URL and a code for the user to enter in a
// browser, anywhere, then polls the token endpoint (section 3.4), waiting
// longer when told slow_down (section 3.5). AuthorizeLoopback obtains it
// with the authorization code grant (RFC 6749 section 4.1) protected by
// PKCE (RFC 7636) and redirected to a listener on 127.0.0.1 (RFC 8252
// section 7.3), for a browser on the same machine: the way for Gmail.
//
// The token endpoint's answers are read as RFC 6749 section 5.1 and 5.2 say,
// through golang.org/x/oauth2. A refusal is reported with a sentinel error:
// ErrInvalidGrant when the refresh token (or device code) is refused —
// revoked, expired, or issued to another client: the user must authorize
// again — ErrClient when the client itself is refused, ErrRefused for other
// refusals; ErrEndpoint when the endpoint could not be reached or did not
// answer properly (worth retrying later). Each wraps the
// *oauth2.RetrieveError, when there is one.
//
// # Divergences
//
//   - Google does not allow the Gmail scope (https://mail.google.com/) with
//     the device authorization grant: for Gmail, use AuthorizeLoopback
//     (with a "Desktop app" OAuth client), from a machine with a browser or
//     through an SSH port forward (LoopbackOptions.Port).
//   - Two processes refreshing the same file at the same moment both write
//     it; the last write wins. With a provider that rotates refresh tokens
//     and revokes the old one at once, the loser's next refresh fails with
//     ErrInvalidGrant.
package oauth
