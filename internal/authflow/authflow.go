// Package authflow is bouncer auth: it obtains the refresh token of a
// mailbox once, with the device authorization grant or a browser on this
// machine (package oauth), and stores it in the credentials file that
// bouncer run --oauth-credentials reads.
package authflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/bouncer-dev/bouncer/oauth"
)

// Flow is how the user authorizes.
type Flow string

const (
	// FlowDevice shows a URL and a code to enter in any browser
	// (oauth.Authorize, RFC 8628). The default, but for Google.
	FlowDevice Flow = "device"
	// FlowBrowser sends a browser on this machine to the provider and back
	// to a loopback listener (oauth.AuthorizeLoopback). The default for
	// Google, which refuses the device flow for its mail scope.
	FlowBrowser Flow = "browser"
)

// Request is what to authorize. The empty fields keep the file's values.
type Request struct {
	// File is the credentials file, read when it exists, then written.
	File             string
	Provider         oauth.Provider
	Tenant           string
	ClientID         string
	ClientSecretFile string // a file holding the client secret
	Scopes           []string
	Flow             Flow
	Port             int // the loopback port of FlowBrowser; 0: any
}

// RequestError is a request that cannot be run as it is: the fix is in
// the command line.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// Credentials returns the credentials to authorize: the file's, when it
// exists, with the fields of r.
func (r *Request) Credentials() (*oauth.Credentials, error) {
	c := &oauth.Credentials{}
	if _, err := os.Stat(r.File); err == nil {
		if c, err = oauth.ReadFile(r.File); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	p := string(c.Provider)
	set(&p, string(r.Provider))
	c.Provider = oauth.Provider(p)
	set(&c.Tenant, r.Tenant)
	set(&c.ClientID, r.ClientID)
	if len(r.Scopes) > 0 {
		c.Scopes = r.Scopes
	}
	if r.ClientSecretFile != "" {
		b, err := os.ReadFile(r.ClientSecretFile)
		if err != nil {
			return nil, &RequestError{Msg: fmt.Sprintf("--client-secret-file: %v", err)}
		}
		c.ClientSecret = strings.TrimSpace(string(b))
	}
	switch {
	case c.ClientID == "":
		return nil, &RequestError{Msg: "no client: give --client-id (and --provider)"}
	case c.Provider == oauth.ProviderCustom && c.TokenURL == "":
		return nil, &RequestError{Msg: "no provider: give --provider google or microsoft"}
	}
	return c, nil
}

// Authorize runs r: it shows the user what to do on prompt, waits for the
// authorization (bounded by ctx) and writes the tokens obtained into
// r.File (oauth.WriteFile).
func Authorize(ctx context.Context, r *Request, prompt io.Writer) error {
	c, err := r.Credentials()
	if err != nil {
		return err
	}
	flow := r.Flow
	if flow == "" {
		flow = FlowDevice
		if c.Provider == oauth.ProviderGoogle {
			flow = FlowBrowser
		}
	}
	var out *oauth.Credentials
	switch flow {
	case FlowDevice:
		out, err = oauth.Authorize(ctx, c, prompt, nil)
	case FlowBrowser:
		out, err = oauth.AuthorizeLoopback(ctx, c, prompt, &oauth.LoopbackOptions{Port: r.Port})
	default:
		return &RequestError{Msg: fmt.Sprintf("unknown --flow %q: want device or browser", r.Flow)}
	}
	if err != nil {
		return err
	}
	return oauth.WriteFile(r.File, out)
}
