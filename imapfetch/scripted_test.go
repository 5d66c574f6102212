package imapfetch

import (
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/stretchr/testify/require"
)

// quirks are the ways a real server answered differently from go-imap's
// in-memory server, as issue 24 records them, with the server and version
// that did. A scriptedSession plays them over an in-memory mailbox.
type quirks struct {
	// server names the server and version imitated.
	server string
	// prefix and delim are the personal namespace NAMESPACE reports.
	prefix string
	delim  rune
	// missingText, when set, is the text of the plain NO (no response
	// code) answered to a COPY into, or an EXAMINE of, a missing mailbox.
	missingText string
	// createText, when set, is the text of the plain NO answered to a
	// CREATE of a name outside prefix.
	createText string
	// codeAfterName writes the response code of a refused COPY after the
	// command name ("NO COPY [TRYCREATE] failed").
	codeAfterName bool
	// lfSizes makes SEARCH LARGER/SMALLER compare the size of the stored
	// file, with LF line ends, rather than RFC822.SIZE (CRLF).
	lfSizes bool
	// noKeywords leaves \* out of PERMANENTFLAGS and drops keywords from
	// STORE.
	noKeywords bool
	// badGoneUIDs answers BAD to a UID COPY naming a UID that is gone.
	badGoneUIDs bool
	// silentIdle reports nothing during IDLE; new mail shows at NOOP.
	silentIdle bool
}

var (
	// courier is Courier-IMAP 5.0 (Debian's courier-imap): every folder
	// lives under "INBOX." with "." as delimiter, no MOVE, no UIDPLUS; a
	// missing mailbox gets a plain NO, a top-level CREATE "Client tried to
	// access nonexistent namespace", and SEARCH LARGER/SMALLER compares
	// the Maildir file's LF size.
	courier = quirks{server: "Courier-IMAP 5.0", prefix: "INBOX.", delim: '.', missingText: "Mailbox does not exist, or must be subscribed to.",
		createText: "Client tried to access nonexistent namespace.", lfSizes: true, silentIdle: true}
	// cyrus is Cyrus IMAP 3.6 with Debian's configuration (no
	// altnamespace, users may not create top-level folders).
	cyrus = quirks{server: "Cyrus IMAP 3.6", prefix: "INBOX.", delim: '.', missingText: "Mailbox does not exist",
		createText: "Permission denied"}
	// imap4d is GNU Mailutils imap4d 3.15: no MOVE, no UIDPLUS, no
	// keywords; its completion responses carry the command name before
	// the text (io_format_completion_response in imap4d/io.c), so the
	// TRYCREATE of a refused COPY follows it; BAD to a UID COPY of a UID
	// that is gone; nothing reported during IDLE.
	imap4d = quirks{server: "GNU Mailutils imap4d 3.15", delim: '/', codeAfterName: true, noKeywords: true, badGoneUIDs: true, silentIdle: true}
)

// scriptedServer is an in-memory server that answers as q says.
type scriptedServer struct {
	*memServer
	q quirks

	mu sync.Mutex
	// dropAfterExpunge closes the connection once, after an EXPUNGE was
	// done and before it is answered.
	dropAfterExpunge bool
	expunges         int
}

// startScripted starts a server with q's quirks, without MOVE and UIDPLUS,
// with IDLE and NAMESPACE.
func startScripted(t testing.TB, q quirks) *scriptedServer {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	require.NoError(t, user.Create("INBOX", nil))
	mem.AddUser(user)
	srv := &scriptedServer{q: q}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapNamespace: {}}
	ms := imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &scriptedSession{Session: mem.NewSession(), user: user, srv: srv, conn: c.NetConn()}, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go ms.Serve(ln)
	t.Cleanup(func() { ms.Close() })
	srv.memServer = &memServer{addr: ln.Addr().String(), user: user}
	return srv
}

// scriptedSession is an in-memory session with quirks.
type scriptedSession struct {
	imapserver.Session
	user *imapmemserver.User
	srv  *scriptedServer
	conn net.Conn
}

var _ imapserver.SessionNamespace = (*scriptedSession)(nil)

func (s *scriptedSession) exists(mailbox string) bool {
	_, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	return err == nil
}

func (s *scriptedSession) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: s.srv.q.prefix, Delim: s.srv.q.delim}}}, nil
}

func (s *scriptedSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	q := s.srv.q
	if q.missingText != "" && !s.exists(mailbox) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: q.missingText}
	}
	data, err := s.Session.Select(mailbox, options)
	if err == nil && q.noKeywords {
		data.PermanentFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}
	}
	return data, err
}

func (s *scriptedSession) Create(mailbox string, options *imap.CreateOptions) error {
	q := s.srv.q
	if q.createText != "" && !strings.HasPrefix(mailbox, q.prefix) {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: q.createText}
	}
	return s.Session.Create(mailbox, options)
}

func (s *scriptedSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	q := s.srv.q
	if q.badGoneUIDs {
		if uids, ok := numSet.(imap.UIDSet); ok {
			found, err := s.Session.Search(imapserver.NumKindUID, &imap.SearchCriteria{UID: []imap.UIDSet{uids}}, &imap.SearchOptions{})
			if err != nil {
				return nil, err
			}
			want, _ := uids.Nums()
			if len(found.AllUIDs()) != len(want) {
				return nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "UID Bogus number"}
			}
		}
	}
	if !s.exists(dest) {
		switch {
		case q.codeAfterName:
			return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "COPY [TRYCREATE] failed"}
		case q.missingText != "":
			return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: q.missingText}
		}
	}
	return s.Session.Copy(numSet, dest)
}

// Search: with lfSizes, an exact-size window (LARGER n-1 SMALLER n+1, what
// bouncer used to ask) never matches a message that has line ends, since
// the file's LF size is below its CRLF RFC822.SIZE (issue 24: 37 of 37
// checked messages were missed).
func (s *scriptedSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if s.srv.q.lfSizes && criteria.Larger != 0 && criteria.Smaller != 0 && criteria.Smaller-criteria.Larger <= 2 {
		return &imap.SearchData{}, nil
	}
	return s.Session.Search(kind, criteria, options)
}

func (s *scriptedSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if s.srv.q.noKeywords {
		c := *flags
		c.Flags = nil
		for _, f := range flags.Flags {
			if strings.HasPrefix(string(f), `\`) {
				c.Flags = append(c.Flags, f)
			}
		}
		flags = &c
	}
	return s.Session.Store(w, numSet, flags, options)
}

func (s *scriptedSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	err := s.Session.Expunge(w, uids)
	s.srv.mu.Lock()
	s.srv.expunges++
	drop := s.srv.dropAfterExpunge
	s.srv.dropAfterExpunge = false
	s.srv.mu.Unlock()
	if drop {
		s.conn.Close() // expunged, never answered
	}
	return err
}

func (s *scriptedSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.srv.q.silentIdle {
		<-stop
		return nil
	}
	return s.Session.Idle(w, stop)
}
