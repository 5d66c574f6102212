// Package pgtest starts a throwaway PostgreSQL cluster on loopback for
// integration tests.
//
// Start runs initdb and postgres (Debian's binaries in BinDirs, else
// found on PATH) in a fresh temporary directory, listening on a free 127.0.0.1
// port with trust authentication for the user "bouncer", and stops the
// server and removes the directory when the test ends. Shared does the
// same once per test binary (TestMain calls Main, or StopShared). Each
// Server.Database is a new, empty database of the cluster.
//
// PostgreSQL refuses to run as root: when the tests run as root, initdb
// and postgres run as the user "postgres" (Debian's package creates it),
// else as "nobody", with the data directory owned by that user.
//
// When PostgreSQL is not installed the test is skipped, unless the
// environment variable BOUNCER_REQUIRE_POSTGRES=1 is set (as .ci/run
// does): then it fails.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// RequireEnv is the environment variable that turns a missing PostgreSQL
// from a skip into a failure.
const RequireEnv = "BOUNCER_REQUIRE_POSTGRES"

// BinDirs are where Debian installs the server binaries, one folder per
// major version; the newest is used.
const BinDirs = "/usr/lib/postgresql/*/bin"

// User is the cluster's superuser.
const User = "bouncer"

// startTimeout bounds the wait for the server to accept connections.
const startTimeout = 30 * time.Second

// Server is a running cluster.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	n    atomic.Int64
}

// bin finds a server binary, or "".
func bin(name string) string {
	dirs, _ := filepath.Glob(BinDirs)
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExec(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// versionOf is the major version in a BinDirs folder, or 0.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start starts a cluster for t, stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
)

// Shared returns the cluster of the test binary, starting it on first use;
// StopShared (from TestMain) stops it.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = start()
	}
	if sharedErr != nil {
		skipOrFail(t, sharedErr)
	}
	return shared
}

// Main is a TestMain for a package that uses Shared: it runs the tests,
// stops the shared cluster and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the cluster Shared started, if any.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
}

// errMissing reports that PostgreSQL is not installed.
var errMissing = errors.New("pgtest: PostgreSQL (initdb, postgres) not installed")

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errMissing) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%v; install Debian's postgresql package, or set %s=1 to make this a failure", err, RequireEnv)
	}
	t.Fatalf("%v", err)
}

// runAs returns the credential to run the server with: nil when not root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("pgtest: running as root and neither user postgres nor nobody exists: PostgreSQL refuses to run as root")
}

func start() (*Server, error) {
	initdb, postgres := bin("initdb"), bin("postgres")
	if initdb == "" || postgres == "" {
		return nil, errMissing
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parent folders are closed to other users.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{dir: dir, port: port, done: make(chan struct{})}
	s.cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "max_connections=100", "-c", "shared_buffers=16MB")
	// The server dies with the test binary, however that ends.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err == nil {
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
	}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.wait(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// wait waits until the server answers a query.
func (s *Server) wait() error {
	deadline := time.Now().Add(startTimeout)
	for {
		db, err := sql.Open("pgx", s.URL("postgres"))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("pgtest: postgres exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not start within %v: %v", startTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the connection URL of database name.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.port, name)
}

// Database creates a new, empty database and returns its URL. It is
// dropped when t ends.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.n.Add(1))
	admin, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", s.URL("postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return s.URL(name)
}

// Stop stops the server (fast shutdown) and removes its directory.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	os.RemoveAll(s.dir)
}
