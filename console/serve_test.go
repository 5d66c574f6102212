package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// writeToken writes tok to a file of mode perm and returns its path.
func writeToken(t *testing.T, tok string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(p, []byte(tok), perm))
	require.NoError(t, os.Chmod(p, perm))
	return p
}

func TestLoadToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		perm    os.FileMode
		want    string // "" when refused
	}{
		{"owner only, line end", testToken + "\n", 0o600, testToken},
		{"read-only, CRLF", testToken + "\r\n", 0o400, testToken},
		{"readable by the group", testToken, 0o640, ""},
		{"readable by all", testToken, 0o644, ""},
		{"writable by others", testToken, 0o602, ""},
		{"empty", "", 0o600, ""},
		{"too short", "short-token", 0o600, ""},
		{"two lines", testToken + "\nmore\n", 0o600, ""},
		{"spaces", " " + testToken, 0o600, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadToken(writeToken(t, tc.content, tc.perm))
			if tc.want == "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrTokenFile)
				assert.NotContains(t, err.Error(), testToken, "the error never shows the token")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := LoadToken(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, ErrTokenFile)
	_, err = LoadToken(t.TempDir())
	assert.ErrorIs(t, err, ErrTokenFile)
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr            string
		tls, insecure   bool
		wantErr         error
		wantOtherRefuse bool
	}{
		{"127.0.0.1:8025", false, false, nil, false},
		{"127.0.0.2:0", false, false, nil, false},
		{"[::1]:8025", false, false, nil, false},
		{"localhost:8025", false, false, nil, false},
		{"0.0.0.0:8025", false, false, ErrExposed, false},
		{":8025", false, false, ErrExposed, false},
		{"192.0.2.10:8025", false, false, ErrExposed, false},
		{"0.0.0.0:8025", true, false, nil, false},
		{"0.0.0.0:8025", false, true, nil, false},
		{"nonsense", false, false, nil, true},
	} {
		err := CheckListen(tc.addr, tc.tls, tc.insecure)
		switch {
		case tc.wantErr != nil:
			assert.ErrorIs(t, err, tc.wantErr, tc.addr)
		case tc.wantOtherRefuse:
			assert.Error(t, err, tc.addr)
		default:
			assert.NoError(t, err, tc.addr)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bouncer test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serve runs Serve with o in the background and returns the console's URL
// and the channel of Serve's result; the test's end stops it.
func serve(t *testing.T, o *ServeOptions) (string, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	o.Ready = func(u string) { urls <- u }
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		<-errc
	})
	select {
	case u := <-urls:
		return u, errc
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not start")
	}
	return "", nil
}

// stateFile returns a state holding testHistory.
func stateFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "state.db")
	db, err := suppress.Open(context.Background(), p, nil)
	require.NoError(t, err)
	record(t, db, "INBOX", testHistory)
	require.NoError(t, db.Close())
	return p
}

func TestServeTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	u, _ := serve(t, &ServeOptions{State: stateFile(t), Listen: "127.0.0.1:0", TokenFile: writeToken(t, testToken, 0o600), TLSCert: cert, TLSKey: key})
	require.Regexp(t, `^https://127\.0\.0\.1:\d+/$`, u)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, u+"api/v1/suppressions/gone@example.com", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// Under TLS the session cookie is Secure.
	resp, err = c.PostForm(u+"login", map[string][]string{"token": {testToken}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, resp.Cookies(), 1)
	assert.True(t, resp.Cookies()[0].Secure)
}

func TestServeRefuses(t *testing.T) {
	good := writeToken(t, testToken, 0o600)
	state := stateFile(t)
	typo := filepath.Join(t.TempDir(), "typo.db")
	for _, tc := range []struct {
		name string
		o    ServeOptions
		want error
	}{
		{"clear text on all interfaces", ServeOptions{State: state, Listen: "0.0.0.0:0", TokenFile: good}, ErrExposed},
		{"token readable by others", ServeOptions{State: state, Listen: "127.0.0.1:0", TokenFile: writeToken(t, testToken, 0o644)}, ErrTokenFile},
		{"no token file", ServeOptions{State: state, Listen: "127.0.0.1:0"}, ErrTokenFile},
		{"missing state", ServeOptions{State: typo, Listen: "127.0.0.1:0", TokenFile: good}, ErrNoState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Serve(context.Background(), &tc.o)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	err := Serve(context.Background(), &ServeOptions{State: state, Listen: "127.0.0.1:0", TokenFile: good, TLSCert: "c.pem"})
	assert.Error(t, err, "a certificate without its key")
	_, statErr := os.Stat(typo)
	assert.True(t, errors.Is(statErr, os.ErrNotExist), "a missing state is not created")
}

func TestServeInsecureHTTP(t *testing.T) {
	u, _ := serve(t, &ServeOptions{State: stateFile(t), Listen: "0.0.0.0:0", TokenFile: writeToken(t, testToken, 0o600), InsecureHTTP: true})
	require.Regexp(t, `^http://`, u)
}
