package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// Serving defaults and limits.
const (
	// DefaultListen is the address bouncer serve listens on: loopback only.
	DefaultListen = "127.0.0.1:8025"
	// MinTokenBytes is the shortest token accepted: a token is the only
	// key to the console.
	MinTokenBytes = 16
	// MaxTokenBytes is the most bytes of a token file read.
	MaxTokenBytes = 4096
	// ShutdownTimeout bounds the wait for requests under way when the
	// context ends.
	ShutdownTimeout   = 5 * time.Second
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 5 * time.Minute // a download of a large list
	idleTimeout       = 2 * time.Minute
)

// Sentinel errors of Serve and LoadToken.
var (
	// ErrTokenFile reports a token file that cannot be used: unreadable,
	// readable by other users, empty or too short.
	ErrTokenFile = errors.New("console: token file")
	// ErrExposed reports a listening address reachable from other hosts
	// without TLS, and without ServeOptions.InsecureHTTP.
	ErrExposed = errors.New("console: refusing to serve the token and the list in clear text on a non-loopback address")
	// ErrNoState reports a state file that does not exist.
	ErrNoState = errors.New("console: no state")
)

// LoadToken reads the access token from path: its content without the
// line end. The file must be readable by its owner only (mode 0600 or
// 0400), like the IMAP password file, and hold at least MinTokenBytes.
func LoadToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file", ErrTokenFile, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%w: %s can be read or written by other users (mode %04o); chmod 600 it", ErrTokenFile, path, perm)
	}
	buf := make([]byte, MaxTokenBytes+1)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return "", fmt.Errorf("%w: %s is empty", ErrTokenFile, path)
	}
	if n > MaxTokenBytes {
		return "", fmt.Errorf("%w: %s holds more than %d bytes", ErrTokenFile, path, MaxTokenBytes)
	}
	tok := strings.TrimRight(string(buf[:n]), "\r\n")
	if strings.ContainsAny(tok, "\r\n") || strings.TrimSpace(tok) != tok {
		return "", fmt.Errorf("%w: %s must hold the token on one line, without spaces around it", ErrTokenFile, path)
	}
	if len(tok) < MinTokenBytes {
		return "", fmt.Errorf("%w: %s holds %d bytes; a token needs at least %d (openssl rand -hex 32 > %s)", ErrTokenFile, path, len(tok), MinTokenBytes, path)
	}
	return tok, nil
}

// CheckListen refuses to listen on addr in clear text unless addr is a
// loopback address (127.0.0.0/8, ::1, localhost) or insecure is set.
func CheckListen(addr string, tls, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("console: listen address %q: %w", addr, err)
	}
	if tls || insecure || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w (%s): give --tls-cert and --tls-key, or --insecure-http behind a TLS proxy", ErrExposed, addr)
}

// isLoopback reports whether host names the loopback interface only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ServeOptions configures Serve.
type ServeOptions struct {
	State     string // the state file or postgres:// URL; required
	Listen    string // default DefaultListen
	TokenFile string // required (LoadToken)
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert, TLSKey string
	// InsecureHTTP allows clear HTTP on a non-loopback address.
	InsecureHTTP bool
	// Policy decides who is suppressed; nil means the defaults.
	Policy *suppress.Policy
	// Ready, if set, is called with the console's URL once it listens.
	Ready func(url string)
}

// Serve opens the state, checks the token file and the address, and
// serves the console until ctx ends.
func Serve(ctx context.Context, o *ServeOptions) error {
	listen := o.Listen
	if listen == "" {
		listen = DefaultListen
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("console: give both a TLS certificate and its key, or neither")
	}
	secure := o.TLSCert != ""
	if err := CheckListen(listen, secure, o.InsecureHTTP); err != nil {
		return err
	}
	token, err := LoadToken(o.TokenFile)
	if err != nil {
		return err
	}
	var cert tls.Certificate
	if secure {
		if cert, err = tls.LoadX509KeyPair(o.TLSCert, o.TLSKey); err != nil {
			return fmt.Errorf("console: TLS: %w", err)
		}
	}
	if _, err := os.Stat(o.State); errors.Is(err, fs.ErrNotExist) && !suppress.IsURL(o.State) {
		return fmt.Errorf("%w %s: %w", ErrNoState, o.State, err)
	}
	db, err := suppress.Open(ctx, o.State, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := New(db, &Options{Token: token, Policy: o.Policy, Secure: secure})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	scheme := "http"
	if secure {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	if o.Ready != nil {
		o.Ready(scheme + "://" + ln.Addr().String() + "/")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("console: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}
