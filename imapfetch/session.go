package imapfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// session is one authenticated connection with the mailbox selected.
type session struct {
	c           *imapclient.Client
	caps        imap.CapSet
	uidValidity uint32
	newMail     chan struct{} // signalled on unilateral EXISTS
	timeout     time.Duration
	timer       *time.Timer
	timedOut    atomic.Bool
	g           *guardConn // the connection as go-imap reads it
	log         *slog.Logger
	fresh       bool // selected and not used by a pass yet
	tls         bool // the connection is encrypted
	keywords    bool // the selected mailbox keeps keywords (PERMANENTFLAGS \*)
	addr        string
	mailbox     string // the mailbox of the URL
}

// arm starts (or restarts) the command watchdog: when it fires the
// connection is closed, which fails the blocked command. The server's
// bytes are expected from now on: each read is bounded by the I/O timeout.
func (s *session) arm() {
	s.g.expect(true)
	s.timer.Reset(s.timeout)
}

// disarm stops the watchdog; reads wait without a deadline (IDLE, between
// commands).
func (s *session) disarm() {
	s.timer.Stop()
	s.g.expect(false)
}

// pause stops the watchdog while the Handler has a message, but not the
// I/O timeout: the Handler's time is its own, a stalled body is not.
func (s *session) pause() { s.timer.Stop() }

func (s *session) close() {
	s.timer.Stop()
	s.c.Close()
}

// wrap classifies an error of a command on this session, about the
// selected mailbox.
func (s *session) wrap(op string, err error) error {
	return s.wrapIn(op, "", err)
}

// wrapIn classifies an error of a command about mailbox (empty: the
// selected one).
func (s *session) wrapIn(op, mailbox string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if mailbox == "" {
		mailbox = s.mailbox
	}
	e = &Error{Kind: KindDisconnected, Addr: s.addr, Mailbox: mailbox, Op: op, Err: err}
	var imapErr *imap.Error
	limit, stalled := s.g.fault()
	if limit == nil {
		errors.As(err, &limit)
	}
	switch {
	case limit != nil:
		e.Kind, e.Err = KindTooLarge, limit
	case stalled:
		e.Kind = KindTimeout
		e.Err = fmt.Errorf("no data from the server for %v (I/O timeout)", s.g.timeout)
	case s.timedOut.Load():
		e.Kind = KindTimeout
		e.Err = fmt.Errorf("no answer within %v", s.timeout)
	case errors.As(err, &imapErr) && refusedForGood(imapErr):
		e.Kind = KindRefused
	case errors.As(err, &imapErr) && imapErr.Type != imap.StatusResponseTypeBye:
		e.Kind = KindServer
	}
	return e
}

// dial connects, authenticates and selects the mailbox. On any error the
// connection is closed.
func dial(ctx context.Context, u *URL, o *Options, tlsConfig *tls.Config) (*session, error) {
	secret, err := o.secret()
	if err != nil {
		e := newError(KindSecret, "", "", "", err)
		if e.Kind == KindToken {
			e.Addr = u.Addr()
		}
		return nil, e
	}
	conn, err := dialConn(ctx, u, o, tlsConfig)
	if err != nil {
		return nil, err
	}
	s := newSession(conn, u, o)
	if err := s.startClient(conn, u, o, tlsConfig); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { s.c.Close() })
	defer stop()

	if err := s.open(u, o, secret); err != nil {
		s.close()
		return nil, err
	}
	if ctx.Err() != nil {
		s.close()
		return nil, ctx.Err()
	}
	return s, nil
}

// newSession returns the session of conn, its watchdog armed: when a
// command goes unanswered for o.CommandTimeout, the watchdog closes conn.
// Its reads and writes go through a guardConn, the greeting to come.
func newSession(conn net.Conn, u *URL, o *Options) *session {
	s := &session{newMail: make(chan struct{}, 1), timeout: o.CommandTimeout, log: o.Logger, addr: u.Addr(), mailbox: u.Mailbox}
	s.g = newGuardConn(conn, o.IOTimeout, newScanner(o.wireLimits(), false))
	raw := conn // conn may be wrapped later; the watchdog closes the socket
	s.timer = time.AfterFunc(time.Hour, func() {
		s.timedOut.Store(true)
		raw.Close()
	})
	s.arm()
	return s
}

// startClient starts the IMAP client on s.g, with STARTTLS when u asks for
// it (or, with o.InsecurePlaintext, whenever the server offers it). On an
// error it stops the watchdog and closes conn.
func (s *session) startClient(conn net.Conn, u *URL, o *Options, tlsConfig *tls.Config) error {
	startTLS := u.Security == SecuritySTARTTLS
	var c net.Conn = s.g
	if startTLS && o.InsecurePlaintext {
		// Opportunistic: STARTTLS whenever the server offers it.
		var err error
		c, startTLS, err = probeSTARTTLS(c)
		if err != nil {
			s.timer.Stop()
			conn.Close()
			return s.wrap("greeting", err)
		}
		if !startTLS {
			s.log.Warn("imapfetch: server offers no STARTTLS: talking in the clear (insecure plaintext allowed)", "addr", s.addr)
		}
	}
	copts := s.clientOptions(tlsConfig)
	if !startTLS {
		s.c = imapclient.New(c, copts)
		s.tls = u.Security == SecurityTLS
		return nil
	}
	tc, err := s.startTLS(c, conn, o, tlsConfig)
	if err != nil {
		s.timer.Stop()
		conn.Close()
		if cerr := certificateError(u, err); cerr != nil {
			return cerr
		}
		return s.wrap("STARTTLS", err)
	}
	// The TLS layer gets a guard of its own, which sees the plaintext; the
	// greeting is behind it.
	s.g = newGuardConn(tc, o.IOTimeout, newScanner(o.wireLimits(), true))
	s.g.expect(true)
	replay := &replayConn{Conn: s.g, r: io.MultiReader(strings.NewReader(tlsGreeting), s.g)}
	s.c, s.tls = imapclient.New(replay, copts), true
	return nil
}

// clientOptions returns the options of the IMAP client: tlsConfig, and a
// handler that signals newMail when the server reports a new message count.
func (s *session) clientOptions(tlsConfig *tls.Config) *imapclient.Options {
	return &imapclient.Options{
		TLSConfig: tlsConfig,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
}

// open waits for the greeting, authenticates with secret unless the server
// already did, reads the capabilities and selects the mailbox. The caller
// closes the session on an error.
func (s *session) open(u *URL, o *Options, secret string) error {
	if err := s.c.WaitGreeting(); err != nil {
		return s.wrap("greeting", err)
	}
	if s.c.State() == imap.ConnStateNotAuthenticated {
		// A failed SASL exchange can leave the connection waiting: the
		// caller never reuses it.
		if err := s.authenticate(u, o, secret); err != nil {
			return err
		}
	}
	s.arm()
	if s.caps = s.c.Caps(); s.caps == nil {
		return s.wrap("CAPABILITY", errors.New("no capabilities"))
	}
	return s.selectMailbox(u.Mailbox)
}

// selectMailbox (re-)selects mailbox and records its UIDVALIDITY.
func (s *session) selectMailbox(mailbox string) error {
	s.arm()
	defer s.disarm()
	data, err := s.c.Select(mailbox, nil).Wait()
	if err != nil {
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && !s.timedOut.Load() {
			return &Error{Kind: KindMailbox, Addr: s.addr, Mailbox: mailbox, Op: "SELECT", Err: err}
		}
		return s.wrapIn("SELECT", mailbox, err)
	}
	s.uidValidity = data.UIDValidity
	s.keywords = slices.Contains(data.PermanentFlags, imap.FlagWildcard)
	s.fresh = true
	return nil
}

// dialConn opens the TCP connection, with TLS for imaps://.
func dialConn(ctx context.Context, u *URL, o *Options, tlsConfig *tls.Config) (net.Conn, error) {
	nd := &net.Dialer{Timeout: o.DialTimeout}
	var (
		conn net.Conn
		err  error
	)
	if u.Security == SecurityTLS {
		cfg := tlsConfig.Clone()
		cfg.NextProtos = []string{"imap"}
		conn, err = (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, "tcp", u.Addr())
	} else {
		conn, err = nd.DialContext(ctx, "tcp", u.Addr())
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if cerr := certificateError(u, err); cerr != nil {
			return nil, cerr
		}
		return nil, &Error{Kind: KindUnreachable, Addr: u.Addr(), Op: "connect", Err: err}
	}
	return conn, nil
}

// certificateError returns an ErrCertificate error when err is a failed
// certificate verification, nil otherwise.
func certificateError(u *URL, err error) error {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) {
		return &Error{Kind: KindCertificate, Addr: u.Addr(), Op: "TLS handshake", Err: fmt.Errorf("%w (for a private CA, set the CA file)", err)}
	}
	return nil
}

// authenticate logs in with the configured mechanism.
func (s *session) authenticate(u *URL, o *Options, secret string) error {
	mech := o.mechanism(s.c.Caps())
	op := "AUTHENTICATE " + string(mech)
	if mech == MechanismLogin {
		op = "LOGIN"
	}
	op += fmt.Sprintf(" as %q", u.User)
	if mech == MechanismLogin && s.c.Caps().Has(imap.CapLoginDisabled) {
		return &Error{Kind: KindAuth, Addr: s.addr, Op: op, Err: errors.New("server disables LOGIN (LOGINDISABLED)")}
	}
	var (
		err    error
		failed func() error
	)
	switch mech {
	case MechanismLogin:
		err = s.c.Login(u.User, secret).Wait()
	case MechanismPlain:
		err = s.c.Authenticate(sasl.NewPlainClient("", u.User, secret))
	case MechanismXOAuth2:
		c := &xoauth2Client{user: u.User, token: secret}
		failed = func() error { return c.failed }
		err = s.c.Authenticate(c)
	case MechanismOAuthBearer:
		c := &oauthBearerClient{user: u.User, token: secret, host: u.Host, port: u.Port}
		failed = func() error { return c.failed }
		err = s.c.Authenticate(c)
	}
	if err == nil {
		return nil
	}
	if s.timedOut.Load() {
		return s.wrap(op, err)
	}
	if failed != nil && failed() != nil {
		err = fmt.Errorf("%w (%v)", err, failed())
	}
	var imapErr *imap.Error
	if !errors.As(err, &imapErr) {
		// Not an answer from the server: the connection failed.
		return &Error{Kind: KindDisconnected, Addr: s.addr, Op: op, Err: err}
	}
	return &Error{Kind: KindAuth, Addr: s.addr, Op: op, Err: err}
}
