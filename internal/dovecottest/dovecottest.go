// Package dovecottest starts a throwaway Dovecot IMAP server on loopback for
// integration tests.
//
// Each call to Start runs its own Dovecot (found on PATH) in the foreground,
// with its configuration, state, logs, a self-signed certificate (made with
// openssl) and one Maildir user in a fresh temporary directory, listening for
// implicit TLS (imaps) on a free 127.0.0.1 port. The server is stopped and the
// directory removed when the test ends.
//
// When dovecot is not on PATH the test is skipped, unless the environment
// variable BOUNCER_REQUIRE_DOVECOT=1 is set (as .ci/run does): then it fails.
// Dovecot must be started as root, since its mail user is uid 65534 (nobody).
package dovecottest

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing Dovecot from a
// skip into a failure.
const RequireEnv = "BOUNCER_REQUIRE_DOVECOT"

// mailUID is the uid and gid that own the test user's mail (nobody).
const mailUID = 65534

// startTimeout bounds the wait for the server's "* OK" greeting.
const startTimeout = 15 * time.Second

// Options changes the server's configuration. The zero value (or nil) is
// an implicit-TLS listener only, plaintext logins allowed, and Dovecot's own
// capabilities.
type Options struct {
	// PlainListener adds a plaintext listener (Server.PlainAddr) on which
	// Dovecot offers STARTTLS.
	PlainListener bool
	// DisablePlaintextAuth refuses logins on connections not protected by
	// TLS (disable_plaintext_auth = yes): a login on PlainAddr succeeds
	// only after STARTTLS.
	DisablePlaintextAuth bool
	// Capability, when set, replaces the capabilities Dovecot advertises
	// after login (imap_capability), e.g. to hide MOVE. The commands stay
	// available.
	Capability string
	// DenyCreate takes from the user the right to create mailboxes (the
	// ACL plugin, RFC 4314 right "k"): a MOVE to a missing mailbox gets
	// NO [TRYCREATE], then CREATE gets NO [NOPERM].
	DenyCreate bool
	// CourierLayout lays the mailboxes out as Courier-IMAP and Cyrus
	// (without altnamespace) do: every folder under "INBOX." with "." as
	// hierarchy delimiter (namespace inbox { prefix = INBOX. separator = . }).
	// A top-level CREATE is refused ("Client tried to access nonexistent
	// namespace").
	CourierLayout bool
	// Config is appended to dovecot.conf.
	Config string
}

// CourierCapability is Dovecot's capability list after login without MOVE
// and UIDPLUS, as Courier-IMAP 5.0 advertises (Options.Capability).
const CourierCapability = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE CHILDREN SORT THREAD=REFERENCES QUOTA"

// aclConfig loads the ACL plugin with a global ACL file {{DIR}}/global-acl.
const aclConfig = `mail_plugins = $mail_plugins acl
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
plugin {
  acl = vfile:{{DIR}}/global-acl
}
`

// denyCreateACL grants the owner every right but k (create), x (delete)
// and a (administer).
const denyCreateACL = "* owner lrwstipe\n"

// CapabilityNoMove is Dovecot 2.3's capability list after login without
// MOVE (UIDPLUS kept), for Options.Capability.
const CapabilityNoMove = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS " +
	"THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 " +
	"CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY SPECIAL-USE"

// Server is a running Dovecot instance. Its fields are read-only.
type Server struct {
	Addr         string // host:port of the implicit-TLS (imaps) listener, on 127.0.0.1
	PlainAddr    string // host:port of the plaintext (STARTTLS) listener, with Options.PlainListener
	CACertFile   string // PEM certificate that signs (is) the server certificate
	User         string // login name of the single mail user
	Password     string // that user's password
	PasswordFile string // file holding Password, without a trailing newline
	ConfPath     string // dovecot.conf, for doveadm -c
	Dir          string // temporary directory holding everything
	MaildirPath  string // the user's Maildir

	opts    Options
	cmd     *exec.Cmd
	done    chan struct{}
	stopped atomic.Bool
	seq     atomic.Uint64
}

// Available reports whether dovecot, doveadm and openssl are on PATH.
func Available() bool {
	for _, name := range []string{"dovecot", "doveadm", "openssl"} {
		if _, err := exec.LookPath(name); err != nil {
			return false
		}
	}
	return true
}

// skipOrFail skips the test when Dovecot is missing, or fails it when
// RequireEnv is set.
func skipOrFail(tb testing.TB) {
	tb.Helper()
	if Available() {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("dovecottest: dovecot, doveadm or openssl not on PATH and %s=1", RequireEnv)
	}
	tb.Skip("dovecottest: dovecot not on PATH; install dovecot-core dovecot-imapd openssl (set " + RequireEnv + "=1 to fail instead)")
}

// Start starts a Dovecot for the test and registers its shutdown with
// tb.Cleanup. It skips the test when Dovecot is not installed (see the
// package doc).
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, nil)
}

// StartWith is Start with options; nil is the same as Start.
func StartWith(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	skipOrFail(tb)
	if os.Geteuid() != 0 {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatal("dovecottest: must run as root to start Dovecot")
		}
		tb.Skip("dovecottest: must run as root to start Dovecot")
	}

	dir, err := os.MkdirTemp("", "dovecottest-")
	if err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// The mail user (uid 65534) and the login user must traverse it.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}

	s := &Server{
		Dir:          dir,
		User:         "bounce",
		Password:     randomHex(12),
		PasswordFile: filepath.Join(dir, "password"),
		ConfPath:     filepath.Join(dir, "dovecot.conf"),
		CACertFile:   filepath.Join(dir, "cert.pem"),
		MaildirPath:  filepath.Join(dir, "home", "bounce", "Maildir"),
	}
	if opts != nil {
		s.opts = *opts
	}
	if err := s.prepare(); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}

	// A port picked by the kernel may be taken again before Dovecot binds
	// it: try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
	tb.Fatalf("dovecottest: starting dovecot: %v\n%s", lastErr, log)
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// prepare writes the certificate, user database, Maildir and password file.
func (s *Server) prepare() error {
	out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-days", "2", "-subj", "/CN=localhost",
		"-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
		"-keyout", filepath.Join(s.Dir, "key.pem"), "-out", s.CACertFile).CombinedOutput()
	if err != nil {
		return fmt.Errorf("openssl: %v: %s", err, out)
	}
	home := filepath.Join(s.Dir, "home", "bounce")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(s.MaildirPath, sub), 0o755); err != nil {
			return err
		}
	}
	if err := chownTree(filepath.Join(s.Dir, "home")); err != nil {
		return err
	}
	passwd := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::\n", s.User, s.Password, mailUID, mailUID, home)
	if err := os.WriteFile(filepath.Join(s.Dir, "passwd"), []byte(passwd), 0o644); err != nil {
		return err
	}
	return os.WriteFile(s.PasswordFile, []byte(s.Password), 0o600)
}

func chownTree(root string) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, mailUID, mailUID)
	})
}

const confTemplate = `instance_name = bouncer-test-{{PORT}}
base_dir = {{DIR}}/run
state_dir = {{DIR}}/state
log_path = {{DIR}}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{{DIR}}/cert.pem
ssl_key = <{{DIR}}/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
shutdown_clients = yes
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {{DIR}}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u {{DIR}}/passwd
}
service imap-login {
  inet_listener imap {
    port = {{PLAINPORT}}
  }
  inet_listener imaps {
    port = {{PORT}}
  }
}
`

// start writes the configuration for a free port, runs dovecot -F and waits
// for the greeting.
func (s *Server) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	plainPort := 0
	if s.opts.PlainListener {
		if plainPort, err = freePort(); err != nil {
			return err
		}
		s.PlainAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(plainPort))
	}
	conf := strings.NewReplacer("{{DIR}}", s.Dir, "{{PORT}}", strconv.Itoa(port), "{{PLAINPORT}}", strconv.Itoa(plainPort)).Replace(confTemplate)
	if s.opts.DisablePlaintextAuth {
		conf = strings.Replace(conf, "disable_plaintext_auth = no\n", "disable_plaintext_auth = yes\n", 1)
	}
	if s.opts.CourierLayout {
		conf = strings.Replace(conf, "  inbox = yes\n  separator = /\n", "  inbox = yes\n  prefix = INBOX.\n  separator = .\n", 1)
	}
	if s.opts.Capability != "" {
		conf += "protocol imap {\n  imap_capability = " + s.opts.Capability + "\n}\n"
	}
	if s.opts.DenyCreate {
		if err := os.WriteFile(filepath.Join(s.Dir, "global-acl"), []byte(denyCreateACL), 0o644); err != nil {
			return err
		}
		conf += strings.ReplaceAll(aclConfig, "{{DIR}}", s.Dir)
	}
	conf += s.opts.Config
	if _, err := os.Stat("/usr/share/dovecot/dh.pem"); err != nil {
		conf = strings.Replace(conf, "ssl_dh = </usr/share/dovecot/dh.pem\n", "", 1)
	}
	if err := os.WriteFile(s.ConfPath, []byte(conf), 0o644); err != nil {
		return err
	}

	cmd := exec.Command("dovecot", "-F", "-c", s.ConfPath)
	// Do not leave a server behind if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	out, err := os.Create(filepath.Join(s.Dir, "dovecot.stderr"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()

	if err := s.waitGreeting(done); err != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		stderr, _ := os.ReadFile(filepath.Join(s.Dir, "dovecot.stderr"))
		return fmt.Errorf("%v (stderr: %s)", err, strings.TrimSpace(string(stderr)))
	}
	s.cmd, s.done = cmd, done
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitGreeting dials until the server answers "* OK" over TLS.
func (s *Server) waitGreeting(exited <-chan struct{}) error {
	cfg, err := s.TLSConfig()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return errors.New("dovecot exited")
		default:
		}
		err := greet(s.Addr, cfg)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no greeting on %s: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func greet(addr string, cfg *tls.Config) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}

// TLSConfig returns a client configuration that trusts the server's
// certificate.
func (s *Server) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(s.CACertFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("dovecottest: no certificate in " + s.CACertFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, nil
}

// URL returns the imaps:// URL of mailbox for the test user.
func (s *Server) URL(mailbox string) string {
	return "imaps://" + s.User + "@" + s.Addr + "/" + mailbox
}

// PlainURL returns the imap:// (STARTTLS) URL of mailbox for the test
// user, on the listener of Options.PlainListener.
func (s *Server) PlainURL(mailbox string) string {
	return "imap://" + s.User + "@" + s.PlainAddr + "/" + mailbox
}

// Log returns Dovecot's log so far, e.g. to check how a client logged in.
func (s *Server) Log(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "dovecot.log"))
	if err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	return string(b)
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s). It is safe to
// call more than once; Start registers it with Cleanup.
func (s *Server) Stop() {
	if s.stopped.Swap(true) {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		// Kill the whole process group, children included.
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Doveadm runs doveadm against this server and returns its output.
func (s *Server) Doveadm(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command("doveadm", append([]string{"-c", s.ConfPath}, args...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("dovecottest: doveadm %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Kick drops every IMAP session of the test user (doveadm kick). It is
// not an error when the user has no session.
func (s *Server) Kick(tb testing.TB) {
	tb.Helper()
	out, err := exec.Command("doveadm", "-c", s.ConfPath, "kick", s.User).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == exitNoUser {
		return
	}
	if err != nil {
		tb.Fatalf("dovecottest: doveadm kick: %v: %s", err, out)
	}
}

// exitNoUser is doveadm kick's exit status when the user has no session
// ("no users kicked").
const exitNoUser = 68

// SetUIDValidity changes the UIDVALIDITY of mailbox, as a server restore
// or migration would.
func (s *Server) SetUIDValidity(tb testing.TB, mailbox string, v uint32) {
	tb.Helper()
	s.Doveadm(tb, "mailbox", "update", "-u", s.User, "--uid-validity", strconv.FormatUint(uint64(v), 10), mailbox)
}

// CreateMailbox creates mailbox (doveadm mailbox create).
func (s *Server) CreateMailbox(tb testing.TB, mailbox string) {
	tb.Helper()
	s.Doveadm(tb, "mailbox", "create", "-u", s.User, mailbox)
}

// MailboxStatus returns the number of messages and the UIDVALIDITY of
// mailbox, as doveadm sees them. A missing mailbox fails the test.
func (s *Server) MailboxStatus(tb testing.TB, mailbox string) (messages int, uidValidity uint32) {
	tb.Helper()
	out := s.Doveadm(tb, "-f", "flow", "mailbox", "status", "-u", s.User, "messages uidvalidity", mailbox)
	for _, field := range strings.Fields(out) {
		k, v, ok := strings.Cut(field, "=")
		if !ok || (k != "messages" && k != "uidvalidity") {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			tb.Fatalf("dovecottest: mailbox status: %q", out)
		}
		switch k {
		case "messages":
			messages = int(n)
		case "uidvalidity":
			uidValidity = uint32(n)
		}
	}
	return messages, uidValidity
}

// Append delivers msg into mailbox by writing it into the Maildir's new/
// folder, which is much faster than IMAP APPEND. Dovecot picks it up at
// its next sync of the mailbox. Mailbox names use "/" as separator; the
// mailbox is created on disk when missing.
func (s *Server) Append(tb testing.TB, mailbox string, msg []byte) {
	tb.Helper()
	dir := s.MaildirPath
	if !strings.EqualFold(mailbox, "INBOX") {
		dir = filepath.Join(dir, "."+strings.ReplaceAll(mailbox, "/", "."))
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); errors.Is(err, os.ErrNotExist) {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				tb.Fatalf("dovecottest: %v", err)
			}
		}
		if err := chownTree(dir); err != nil {
			tb.Fatalf("dovecottest: %v", err)
		}
	}
	name := fmt.Sprintf("%d.M%dP%d.dovecottest", time.Now().Unix(), s.seq.Add(1), os.Getpid())
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o644); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	if err := os.Lchown(tmp, mailUID, mailUID); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
}
