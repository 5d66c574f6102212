package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bouncer-dev/bouncer/internal/secretfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Provider names a known OAuth2 provider, whose endpoints and default
// scopes need not be written in the credentials file.
type Provider string

const (
	// ProviderCustom: Credentials.TokenURL (and DeviceAuthURL for
	// Authorize) must be given.
	ProviderCustom Provider = ""
	// ProviderGoogle is Google (Gmail).
	ProviderGoogle Provider = "google"
	// ProviderMicrosoft is the Microsoft identity platform (Microsoft 365,
	// Outlook.com), in Credentials.Tenant.
	ProviderMicrosoft Provider = "microsoft"
)

// Grant is how a Source gets new access tokens.
type Grant string

const (
	// GrantRefreshToken uses a user's refresh token (RFC 6749 section 6):
	// Gmail, Microsoft 365 delegated access. Authorize obtains it.
	GrantRefreshToken Grant = "refresh_token"
	// GrantClientCredentials authenticates as the client itself (RFC 6749
	// section 4.4): Microsoft 365 app-only access, which needs
	// Credentials.ClientSecret and a tenant.
	GrantClientCredentials Grant = "client_credentials"
)

// ClientAuth is how the client authenticates to the token endpoint (RFC
// 6749 section 2.3.1).
type ClientAuth string

const (
	// ClientAuthAuto sends client_id (and client_secret) in the form for a
	// client without secret and for Google and Microsoft; otherwise it
	// tries HTTP Basic first, then the form.
	ClientAuthAuto ClientAuth = ""
	// ClientAuthBasic sends the client's credentials with HTTP Basic
	// authentication (client_secret_basic).
	ClientAuthBasic ClientAuth = "basic"
	// ClientAuthPost sends them in the form (client_secret_post).
	ClientAuthPost ClientAuth = "post"
)

// Endpoints and scopes of the known providers.
const (
	GoogleTokenURL      = "https://oauth2.googleapis.com/token"
	GoogleDeviceAuthURL = "https://oauth2.googleapis.com/device/code"
	GoogleAuthURL       = "https://accounts.google.com/o/oauth2/v2/auth"
	// GoogleScope is Gmail's scope for IMAP.
	GoogleScope = "https://mail.google.com/"

	// MicrosoftTokenURL and MicrosoftDeviceAuthURL take the tenant.
	MicrosoftTokenURL      = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
	MicrosoftDeviceAuthURL = "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode"
	MicrosoftAuthURL       = "https://login.microsoftonline.com/%s/oauth2/v2.0/authorize"
	// DefaultMicrosoftTenant is the tenant of delegated access when none is
	// given: any work, school or personal account.
	DefaultMicrosoftTenant = "common"
	// MicrosoftDelegatedScope is IMAP as the signed-in user;
	// offline_access asks for a refresh token.
	MicrosoftDelegatedScope = "https://outlook.office.com/IMAP.AccessAsUser.All"
	MicrosoftOfflineScope   = "offline_access"
	// MicrosoftAppScope is app-only access to Exchange Online (IMAP with
	// the IMAP.AccessAsApp application permission).
	MicrosoftAppScope = "https://outlook.office365.com/.default"
)

// MaxFileBytes caps the size of a credentials file.
const MaxFileBytes = 64 << 10

// FileMode is the permission of credentials files written by WriteFile.
const FileMode os.FileMode = 0o600

// Credentials is the content of a credentials file, a JSON object with
// these keys; the token fields are written back by a Source.
//
//	{
//	  "provider": "microsoft",
//	  "tenant": "contoso.onmicrosoft.com",
//	  "client_id": "…",
//	  "refresh_token": "…"
//	}
type Credentials struct {
	Provider Provider `json:"provider,omitempty"`
	// Tenant is the Microsoft directory (tenant ID or domain). Default
	// DefaultMicrosoftTenant for GrantRefreshToken; required for
	// GrantClientCredentials.
	Tenant string `json:"tenant,omitempty"`
	// TokenURL, DeviceAuthURL (for Authorize) and AuthURL (the
	// authorization endpoint, for AuthorizeLoopback) override the
	// provider's endpoints; TokenURL is required with ProviderCustom.
	TokenURL      string `json:"token_url,omitempty"`
	DeviceAuthURL string `json:"device_auth_url,omitempty"`
	AuthURL       string `json:"auth_url,omitempty"`

	ClientID string `json:"client_id"`
	// ClientSecret is required with GrantClientCredentials, optional
	// otherwise (public clients have none).
	ClientSecret string     `json:"client_secret,omitempty"`
	ClientAuth   ClientAuth `json:"client_auth,omitempty"`
	// Scopes default to the provider's scope for IMAP and the grant.
	Scopes []string `json:"scopes,omitempty"`
	// Grant defaults to GrantRefreshToken.
	Grant Grant `json:"grant,omitempty"`

	// RefreshToken is required with GrantRefreshToken (see Authorize).
	RefreshToken string `json:"refresh_token,omitempty"`
	// The current access token, written by a Source.
	AccessToken string    `json:"access_token,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
}

// forUser returns c checked, with the provider's defaults, for an
// authorization by a user (Authorize, AuthorizeLoopback): only the
// refresh-token grant needs one.
func (c *Credentials) forUser() (Credentials, error) {
	if c.Grant != "" && c.Grant != GrantRefreshToken {
		return Credentials{}, fmt.Errorf("%w: grant %s needs no authorization by a user", ErrFile, c.Grant)
	}
	return c.withDefaults(false)
}

// withDefaults returns a copy of c with the provider's defaults filled in,
// after checking it. needRefreshToken is false for Authorize, which is
// about to obtain one.
func (c *Credentials) withDefaults(needRefreshToken bool) (Credentials, error) {
	v := *c
	v.Scopes = append([]string(nil), c.Scopes...)
	if v.Grant == "" {
		v.Grant = GrantRefreshToken
	}
	if v.ClientID == "" {
		return v, fmt.Errorf("%w: no client_id", ErrFile)
	}
	switch v.Grant {
	case GrantRefreshToken:
		if needRefreshToken && v.RefreshToken == "" {
			return v, fmt.Errorf("%w: no refresh_token (obtain one with the device authorization)", ErrFile)
		}
	case GrantClientCredentials:
		if v.ClientSecret == "" {
			return v, fmt.Errorf("%w: grant client_credentials needs a client_secret", ErrFile)
		}
	default:
		return v, fmt.Errorf("%w: unknown grant %q (want %s or %s)", ErrFile, v.Grant, GrantRefreshToken, GrantClientCredentials)
	}
	switch v.ClientAuth {
	case ClientAuthAuto, ClientAuthBasic, ClientAuthPost:
	default:
		return v, fmt.Errorf("%w: unknown client_auth %q (want %s or %s)", ErrFile, v.ClientAuth, ClientAuthBasic, ClientAuthPost)
	}
	switch v.Provider {
	case ProviderCustom:
		if v.TokenURL == "" {
			return v, fmt.Errorf("%w: no provider and no token_url", ErrFile)
		}
	case ProviderGoogle:
		if v.Grant == GrantClientCredentials {
			return v, fmt.Errorf("%w: Google has no client_credentials grant for Gmail", ErrFile)
		}
		v.TokenURL = cmpOr(v.TokenURL, GoogleTokenURL)
		v.DeviceAuthURL = cmpOr(v.DeviceAuthURL, GoogleDeviceAuthURL)
		v.AuthURL = cmpOr(v.AuthURL, GoogleAuthURL)
		if len(v.Scopes) == 0 {
			v.Scopes = []string{GoogleScope}
		}
	case ProviderMicrosoft:
		if v.Tenant == "" {
			if v.Grant == GrantClientCredentials {
				return v, fmt.Errorf("%w: Microsoft app-only access needs the tenant", ErrFile)
			}
			v.Tenant = DefaultMicrosoftTenant
		}
		if strings.ContainsAny(v.Tenant, "/?#%") {
			return v, fmt.Errorf("%w: bad tenant %q", ErrFile, v.Tenant)
		}
		v.TokenURL = cmpOr(v.TokenURL, fmt.Sprintf(MicrosoftTokenURL, v.Tenant))
		v.DeviceAuthURL = cmpOr(v.DeviceAuthURL, fmt.Sprintf(MicrosoftDeviceAuthURL, v.Tenant))
		v.AuthURL = cmpOr(v.AuthURL, fmt.Sprintf(MicrosoftAuthURL, v.Tenant))
		if len(v.Scopes) == 0 {
			v.Scopes = []string{MicrosoftDelegatedScope, MicrosoftOfflineScope}
			if v.Grant == GrantClientCredentials {
				v.Scopes = []string{MicrosoftAppScope}
			}
		}
	default:
		return v, fmt.Errorf("%w: unknown provider %q (want %s or %s)", ErrFile, v.Provider, ProviderGoogle, ProviderMicrosoft)
	}
	return v, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// config returns the oauth2 configuration of checked credentials.
func (c *Credentials) config() *oauth2.Config {
	style := oauth2.AuthStyleAutoDetect
	switch {
	case c.ClientAuth == ClientAuthBasic:
		style = oauth2.AuthStyleInHeader
	case c.ClientAuth == ClientAuthPost, c.ClientSecret == "", c.Provider != ProviderCustom:
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Scopes:       c.Scopes,
		Endpoint: oauth2.Endpoint{
			TokenURL:      c.TokenURL,
			DeviceAuthURL: c.DeviceAuthURL,
			AuthURL:       c.AuthURL,
			AuthStyle:     style,
		},
	}
}

// token returns the stored access token, nil when there is none.
func (c *Credentials) token() *oauth2.Token {
	if c.AccessToken == "" {
		return nil
	}
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.TokenType, RefreshToken: c.RefreshToken, Expiry: c.Expiry}
}

// setToken stores t, keeping the refresh token when t has none (RFC 6749
// section 6: the server may issue a new one).
func (c *Credentials) setToken(t *oauth2.Token) {
	c.AccessToken = t.AccessToken
	c.TokenType = t.TokenType
	c.Expiry = t.Expiry
	if t.RefreshToken != "" {
		c.RefreshToken = t.RefreshToken
	}
}

// ReadFile reads and checks the credentials file name, of at most
// MaxFileBytes.
func ReadFile(name string) (*Credentials, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	defer f.Close()
	if err := secretfile.Check(f, name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFile, name, MaxFileBytes)
	}
	var c Credentials
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFile, name, err)
	}
	if _, err := c.withDefaults(false); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, name)
	}
	return &c, nil
}

// WriteFile writes c to name atomically: into a temporary file of the same
// directory, with mode FileMode, synced, then renamed over name, and the
// directory synced. A reader sees the old file or the new one, never a
// part; a crash leaves at worst a stray temporary file.
func WriteFile(name string, c *Credentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(FileMode); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		// The rename is durable once the directory is synced; a failure
		// here does not undo it.
		d.Sync()
		d.Close()
	}
	return nil
}

// errorsAs is errors.As for a target type, returning the match.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
