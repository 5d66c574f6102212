package oauth

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// loopbackReadTimeout bounds the reading of the browser's request to the
// loopback redirect.
const loopbackReadTimeout = 10 * time.Second

// LoopbackOptions configures AuthorizeLoopback. A nil *LoopbackOptions is
// the same as a zero one.
type LoopbackOptions struct {
	Options
	// Port is the loopback port the browser is redirected to. Default 0:
	// one picked by the system (Google's and Microsoft's desktop clients
	// accept any port of http://127.0.0.1). Set it to forward the port over
	// SSH when the browser runs on another machine.
	Port int
}

// AuthorizeLoopback obtains a refresh token for c with the authorization
// code grant (RFC 6749 section 4.1), PKCE (RFC 7636, S256) and a loopback
// redirect (RFC 8252 section 7.3): it listens on 127.0.0.1, writes to
// prompt the URL of the provider's authorization page for the user to open
// in a browser on this machine, waits for the browser to come back with
// the code (or the refusal: ErrDenied), and exchanges the code for the
// tokens. This is the way for Gmail, whose scope the device authorization
// grant does not allow. It returns a copy of c holding the refresh and
// access tokens, ready for WriteFile; ctx bounds the wait.
func AuthorizeLoopback(ctx context.Context, c *Credentials, prompt io.Writer, opts *LoopbackOptions) (*Credentials, error) {
	checked, err := c.forUser()
	if err != nil {
		return nil, err
	}
	if checked.AuthURL == "" {
		return nil, fmt.Errorf("%w: no auth_url", ErrFile)
	}
	var lo LoopbackOptions
	if opts != nil {
		lo = *opts
	}
	o := lo.Options.withDefaults()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(lo.Port)))
	if err != nil {
		return nil, fmt.Errorf("oauth: loopback redirect: %w", err)
	}
	defer ln.Close()
	cfg := checked.config()
	cfg.RedirectURL = "http://" + ln.Addr().String() + "/"
	state := rand.Text()
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(verifier))

	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: loopbackReadTimeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not our redirect (a favicon, a stale tab): ignore it.
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		res := result{code: q.Get("code")}
		if e := q.Get("error"); e != "" || res.code == "" {
			res.err = fmt.Errorf("%w: %s: %s", ErrDenied, cmpOr(e, "no code"), q.Get("error_description"))
			fmt.Fprintf(w, "<p>Authorization failed: %s. You can close this window.</p>\n", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprintln(w, "<p>bouncer is authorized. You can close this window.</p>")
		}
		// The page reaches the browser before the caller may close the
		// server: a close racing an unflushed reply ends it with an EOF.
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case results <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer func() {
		// Shutdown lets the reply being written finish; Close ends what
		// is left after loopbackReadTimeout.
		sctx, cancel := context.WithTimeout(context.Background(), loopbackReadTimeout)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	fmt.Fprintf(prompt, "To authorize access to the mailbox, open this URL in a browser on this machine:\n\n    %s\n\nWaiting for the authorization…\n", authURL)
	var res result
	select {
	case res = <-results:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the authorization: %w", ErrDenied, ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	t, err := cfg.Exchange(o.context(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, endpointError("authorization code grant at "+checked.TokenURL, err)
	}
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("%w: %s issued no refresh token", ErrEndpoint, checked.TokenURL)
	}
	out := *c
	out.Scopes = append([]string(nil), c.Scopes...)
	out.setToken(t)
	return &out, nil
}
