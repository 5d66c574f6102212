package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Authorize obtains a refresh token for c with the device authorization
// grant (RFC 8628). It asks c's device authorization endpoint for a code
// (section 3.1), writes to prompt the URL the user must open and the code
// to enter there (section 3.3), then polls the token endpoint (section 3.4)
// at the interval the server asked for, 5 s more after each slow_down
// (section 3.5), until the user approved, declined (ErrDenied), the code
// expired (ErrDenied) or ctx is done. It returns a copy of c holding the
// refresh and access tokens, ready for WriteFile; c itself is unchanged.
func Authorize(ctx context.Context, c *Credentials, prompt io.Writer, opts *Options) (*Credentials, error) {
	checked, err := c.forUser()
	if err != nil {
		return nil, err
	}
	if checked.DeviceAuthURL == "" {
		return nil, fmt.Errorf("%w: no device_auth_url", ErrFile)
	}
	o := opts.withDefaults()
	ctx = o.context(ctx)
	cfg := checked.config()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, endpointError("device authorization at "+checked.DeviceAuthURL, err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("%w: %s: incomplete device authorization answer", ErrEndpoint, checked.DeviceAuthURL)
	}
	fmt.Fprintf(prompt, "To authorize access to the mailbox, open\n\n    %s\n\nand enter the code\n\n    %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(prompt, "(or open %s)\n\n", da.VerificationURIComplete)
	}
	if !da.Expiry.IsZero() {
		fmt.Fprintf(prompt, "The code expires at %s. Waiting for the authorization…\n", da.Expiry.Format("15:04:05"))
	}
	t, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w: waiting for the authorization: %w", ErrDenied, err)
		case errors.Is(err, context.DeadlineExceeded):
			return nil, fmt.Errorf("%w: the code expired before the authorization", ErrDenied)
		}
		return nil, endpointError("device code grant at "+checked.TokenURL, err)
	}
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("%w: %s issued no refresh token (for Microsoft, the scopes need %s)", ErrEndpoint, checked.TokenURL, MicrosoftOfflineScope)
	}
	out := *c
	out.Scopes = append([]string(nil), c.Scopes...)
	out.setToken(t)
	out.RefreshToken = t.RefreshToken
	return &out, nil
}

// AuthorizeFile runs Authorize for the credentials file name (which names
// the provider and the client) and stores the tokens obtained in it
// (WriteFile).
func AuthorizeFile(ctx context.Context, name string, prompt io.Writer, opts *Options) error {
	c, err := ReadFile(name)
	if err != nil {
		return err
	}
	out, err := Authorize(ctx, c, prompt, opts)
	if err != nil {
		return err
	}
	return WriteFile(name, out)
}
