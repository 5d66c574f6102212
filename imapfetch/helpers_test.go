package imapfetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Capability sets for the in-memory server.
var (
	capsRev2 = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	// capsRev1 has no MOVE and no UIDPLUS: the fallbacks run.
	capsRev1 = imap.CapSet{imap.CapIMAP4rev1: {}}
)

const (
	testUser     = "bounce"
	testPassword = "secret"
)

// memServer is go-imap's in-memory server on a loopback port.
type memServer struct {
	addr string
	user *imapmemserver.User
}

func startMem(t testing.TB, caps imap.CapSet) *memServer {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	require.NoError(t, user.Create("INBOX", nil))
	mem.AddUser(user)
	return startMemWith(t, caps, func() imapserver.Session { return mem.NewSession() }, user)
}

func startMemWith(t testing.TB, caps imap.CapSet, newSession func() imapserver.Session, user *imapmemserver.User) *memServer {
	t.Helper()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return newSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &memServer{addr: ln.Addr().String(), user: user}
}

func (s *memServer) url(mailbox string) string {
	return "imap://" + testUser + "@" + s.addr + "/" + mailbox
}

func (s *memServer) append(t testing.TB, mailbox string, msgs ...[]byte) {
	t.Helper()
	for _, m := range msgs {
		_, err := s.user.Append(mailbox, bytes.NewReader(m), &imap.AppendOptions{})
		require.NoError(t, err, "append to %s", mailbox)
	}
}

// count returns the number of messages in mailbox, or -1 when it does not
// exist.
func (s *memServer) count(t testing.TB, mailbox string) int {
	t.Helper()
	data, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return -1
	}
	return int(*data.NumMessages)
}

// testOptions returns fast options for tests, with the password in a file.
func testOptions(t testing.TB, secret string) *Options {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))
	return &Options{
		SecretFile:        file,
		InsecurePlaintext: true,
		Backoff:           10 * time.Millisecond,
		MaxBackoff:        50 * time.Millisecond,
		MaxRetries:        3,
		CommandTimeout:    10 * time.Second,
		DialTimeout:       5 * time.Second,
	}
}

func dialTest(t testing.TB, rawURL string, opts *Options) *Fetcher {
	t.Helper()
	f, err := Dial(context.Background(), rawURL, opts)
	require.NoError(t, err, "Dial(%s)", rawURL)
	t.Cleanup(func() { f.Close() })
	return f
}

// testMessage returns message i: a bounce when i is even, a human reply
// otherwise.
func testMessage(i int, padding int) []byte {
	subject := fmt.Sprintf("Undelivered Mail Returned to Sender %d", i)
	if i%2 == 1 {
		subject = fmt.Sprintf("Re: hello %d", i)
	}
	return []byte(fmt.Sprintf("Message-ID: <m%d@test>\r\nFrom: MAILER-DAEMON@test\r\nSubject: %s\r\n\r\nbody %d\r\n%s\r\n",
		i, subject, i, strings.Repeat("x", padding)))
}

// recorder is a Handler that commits Message-IDs in memory.
type recorder struct {
	mu        sync.Mutex
	committed map[string]int // Message-ID -> times committed
	messages  []Message      // every call, Body cleared
	bodies    map[string][]byte
	// fail, when set, makes the handler fail for that Message-ID.
	fail func(id string) error
	// hook runs after a commit, e.g. to inject a fault.
	hook func(n int)
}

func newRecorder() *recorder {
	return &recorder{committed: map[string]int{}, bodies: map[string][]byte{}}
}

func (r *recorder) handle(_ context.Context, m *Message) (Outcome, error) {
	body, err := io.ReadAll(m.Body)
	r.mu.Lock()
	c := *m
	c.Body = nil
	r.messages = append(r.messages, c)
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	id := msg.Header.Get("Message-ID")
	if r.fail != nil {
		if err := r.fail(id); err != nil {
			return 0, err
		}
	}
	r.mu.Lock()
	r.committed[id]++
	r.bodies[id] = body
	n := len(r.committed)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(n)
	}
	if strings.HasPrefix(msg.Header.Get("Subject"), "Re:") {
		return OutcomeUnrecognized, nil
	}
	return OutcomeProcessed, nil
}

// checkOnce fails unless each of the n test messages was committed exactly
// once.
func (r *recorder) checkOnce(t testing.TB, n int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("<m%d@test>", i)
		got := r.committed[id]
		assert.Equal(t, 1, got, "message %s committed %d times", id, got)
	}
	assert.Len(t, r.committed, n, "committed %d distinct messages", len(r.committed))
}

// imapSearchUnflagged matches messages lacking \Seen or the default
// keyword.
var imapSearchUnflagged = imap.SearchCriteria{
	Or: [][2]imap.SearchCriteria{{
		{NotFlag: []imap.Flag{imap.FlagSeen}},
		{NotFlag: []imap.Flag{DefaultKeyword}},
	}},
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, []byte(content), 0o600))
}
