package oauth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Defaults of the Options fields.
const (
	// DefaultRefreshBefore: a token expiring within 5 minutes is
	// refreshed, so that it outlives the IMAP login that uses it.
	DefaultRefreshBefore = 5 * time.Minute
	// DefaultHTTPTimeout bounds each request to the token endpoint.
	DefaultHTTPTimeout = 30 * time.Second
)

// Options configures a Source and Authorize. The zero value means the
// defaults, and a nil *Options is the same as a zero one.
type Options struct {
	// RefreshBefore is how long before its expiry a token is refreshed.
	// Default DefaultRefreshBefore.
	RefreshBefore time.Duration
	// HTTPClient sends the requests to the endpoints. Default: a client
	// with the timeout DefaultHTTPTimeout.
	HTTPClient *http.Client
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.RefreshBefore <= 0 {
		v.RefreshBefore = DefaultRefreshBefore
	}
	if v.HTTPClient == nil {
		v.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return v
}

// context returns a context whose requests use the HTTP client.
func (o *Options) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.HTTPClient)
}

// Source is an oauth2.TokenSource backed by a credentials file (see the
// package doc). It is safe for concurrent use.
type Source struct {
	name string
	opts Options

	mu      sync.Mutex
	creds   *Credentials // last read or refreshed
	unsaved bool         // creds holds a token not yet written to the file
}

var _ oauth2.TokenSource = (*Source)(nil)

// NewSource returns a Source for the credentials file name, which it reads
// and checks now.
func NewSource(name string, opts *Options) (*Source, error) {
	c, err := ReadFile(name)
	if err != nil {
		return nil, err
	}
	if _, err := c.withDefaults(true); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, name)
	}
	return &Source{name: name, opts: opts.withDefaults(), creds: c}, nil
}

// Token returns an access token valid for at least Options.RefreshBefore,
// refreshing it and storing it in the file when needed.
func (s *Source) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsaved {
		if err := WriteFile(s.name, s.creds); err != nil {
			return nil, err
		}
		s.unsaved = false
	}
	if t := s.fresh(s.creds); t != nil {
		return t, nil
	}
	// Another process may have refreshed it, or the user authorized again.
	c, err := ReadFile(s.name)
	if err != nil {
		return nil, err
	}
	s.creds = c
	if t := s.fresh(c); t != nil {
		return t, nil
	}
	checked, err := c.withDefaults(true)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, s.name)
	}
	t, err := s.fetch(&checked)
	if err != nil {
		return nil, err
	}
	next := *c
	next.setToken(t)
	s.creds = &next
	if err := WriteFile(s.name, &next); err != nil {
		s.unsaved = true
		return nil, err
	}
	return t, nil
}

// fresh returns the token of c when it is valid for long enough.
func (s *Source) fresh(c *Credentials) *oauth2.Token {
	t := c.token()
	if t == nil || t.Expiry.IsZero() || time.Until(t.Expiry) < s.opts.RefreshBefore {
		// No expiry: unknown lifetime, refresh rather than guess.
		return nil
	}
	return t
}

// fetch asks the token endpoint for a new token.
func (s *Source) fetch(c *Credentials) (*oauth2.Token, error) {
	ctx := s.opts.context(context.Background())
	cfg := c.config()
	var (
		t   *oauth2.Token
		err error
	)
	switch c.Grant {
	case GrantClientCredentials:
		cc := &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.Endpoint.TokenURL,
			Scopes:       cfg.Scopes,
			AuthStyle:    cfg.Endpoint.AuthStyle,
		}
		t, err = cc.Token(ctx)
	default:
		t, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
	}
	if err != nil {
		return nil, endpointError(string(c.Grant)+" grant at "+c.TokenURL, err)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("%w: %s: no access_token in the answer", ErrEndpoint, c.TokenURL)
	}
	return t, nil
}
