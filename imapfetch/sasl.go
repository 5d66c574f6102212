package imapfetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/emersion/go-sasl"
)

// oauthError is the JSON error a server sends as a challenge when an
// OAuth2 token is refused (RFC 7628 section 3.2.2; XOAUTH2 uses the same
// shape).
type oauthError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

func parseOAuthError(challenge []byte) error {
	var e oauthError
	if err := json.Unmarshal(challenge, &e); err != nil || e.Status == "" {
		return fmt.Errorf("server challenge %q", challenge)
	}
	return fmt.Errorf("token refused: status %s", e.Status)
}

// xoauth2Client is a sasl.Client for XOAUTH2, which go-sasl lacks. Its
// initial response is "user=USER^Aauth=Bearer TOKEN^A^A". On failure the
// server sends a JSON challenge and expects an empty answer, then NO.
type xoauth2Client struct {
	user, token string
	failed      error
}

var _ sasl.Client = (*xoauth2Client)(nil)

func (c *xoauth2Client) Start() (string, []byte, error) {
	return string(MechanismXOAuth2), []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if c.failed != nil {
		return nil, errors.New("XOAUTH2: unexpected second challenge")
	}
	c.failed = parseOAuthError(challenge)
	return []byte{}, nil
}

// oauthBearerClient is a sasl.Client for OAUTHBEARER (RFC 7628). Unlike
// go-sasl's, it answers the server's error challenge with the dummy
// response %x01 (section 3.2.3), so the server ends the exchange with NO
// instead of leaving the connection waiting.
type oauthBearerClient struct {
	user, token, host string
	port              int
	failed            error
}

var _ sasl.Client = (*oauthBearerClient)(nil)

func (c *oauthBearerClient) Start() (string, []byte, error) {
	// gs2-header "n,a=USER," then key/value pairs separated by ^A.
	ir := "n,a=" + saslName(c.user) + ","
	if c.host != "" {
		ir += "\x01host=" + c.host
	}
	if c.port != 0 {
		ir += "\x01port=" + strconv.Itoa(c.port)
	}
	ir += "\x01auth=Bearer " + c.token + "\x01\x01"
	return string(MechanismOAuthBearer), []byte(ir), nil
}

func (c *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	if c.failed != nil {
		return nil, errors.New("OAUTHBEARER: unexpected second challenge")
	}
	c.failed = parseOAuthError(challenge)
	return []byte{0x01}, nil
}

// saslName escapes "," and "=" in a GS2 authzid (RFC 5801 section 4).
func saslName(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			out = append(out, "=2C"...)
		case '=':
			out = append(out, "=3D"...)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}
