// Package demoimap is the IMAP server of bouncer demo: go-imap's in-memory
// server on a loopback port, its INBOX loaded with the demo's messages (the
// *.eml files that cmd/bouncer embeds from cmd/bouncer/demo/), with CRLF
// line ends and a fixed arrival time, as a mail server would store them.
package demoimap

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// User is the login of the demo mailbox.
const User = "bounce"

// Server is the in-memory IMAP server of the demo.
type Server struct {
	// Addr is the loopback host:port it listens on; PasswordFile holds
	// the password of User; Loaded is the number of messages in INBOX.
	Addr         string
	PasswordFile string
	Loaded       int
	user         *imapmemserver.User
	srv          *imapserver.Server
}

// Start starts an in-memory IMAP server on a free loopback port
// whose INBOX holds the *.eml files at the root of samples, in name order.
// Its password is random and written to a file in dir.
func Start(dir string, samples fs.FS) (*Server, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(secret)
	d := &Server{PasswordFile: filepath.Join(dir, "password")}
	if err := os.WriteFile(d.PasswordFile, []byte(password), 0o600); err != nil {
		return nil, err
	}

	mem := imapmemserver.New()
	d.user = imapmemserver.NewUser(User, password)
	if err := d.user.Create("INBOX", nil); err != nil {
		return nil, err
	}
	msgs, err := loadSamples(samples)
	if err != nil {
		return nil, err
	}
	for _, msg := range msgs {
		// As a mail server stores them: CRLF line endings (RFC 5322
		// section 2.1), and a fixed arrival time so that demos agree.
		opts := &imap.AppendOptions{Time: Received}
		if _, err := d.user.Append("INBOX", bytes.NewReader(crlf(msg)), opts); err != nil {
			return nil, fmt.Errorf("load the samples: %w", err)
		}
	}
	d.Loaded = len(msgs)
	mem.AddUser(d.user)

	d.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, see above
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.Addr = ln.Addr().String()
	go d.srv.Serve(ln)
	return d, nil
}

// Count returns the number of messages in mailbox, 0 when it is missing.
func (d *Server) Count(mailbox string) int {
	st, err := d.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil || st.NumMessages == nil {
		return 0
	}
	return int(*st.NumMessages)
}

// Close stops the server.
func (d *Server) Close() {
	d.srv.Close()
}

// loadSamples returns the *.eml files at the root of samples, in name
// order.
func loadSamples(samples fs.FS) ([][]byte, error) {
	names, err := fs.Glob(samples, "*.eml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("demoimap: no *.eml samples")
	}
	slices.Sort(names)
	var out [][]byte
	for _, n := range names {
		b, err := fs.ReadFile(samples, n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Received is the arrival time of the demo's messages: the INTERNALDATE
// that dates a sample without a Date field.
var Received = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// crlf rewrites LF and bare CR line endings as CRLF, and drops the mbox
// "From " line some samples start with, as a delivery agent would.
func crlf(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			b = bytes.TrimLeft(b[i:], "\r\n")
		}
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// Source returns the demo mailbox as a source of bouncer run: INBOX, the
// bounces moved to config.DefaultProcessedFolder and the others to
// config.DefaultUnrecognizedFolder.
func (s *Server) Source() *config.Source {
	return &config.Source{
		Name:    "demo",
		IMAPURL: "imap://" + User + "@" + s.Addr + "/INBOX",
		IMAP: imapfetch.Options{
			SecretFile: s.PasswordFile,
			// The server listens on loopback only and offers no TLS:
			// plaintext is allowed here and nowhere else.
			InsecurePlaintext:   true,
			Action:              imapfetch.ActionMove,
			ProcessedMailbox:    config.DefaultProcessedFolder,
			UnrecognizedMailbox: config.DefaultUnrecognizedFolder,
			MaxRetries:          -1,
			DialTimeout:         dialTimeout,
		},
	}
}

// dialTimeout bounds the connection to the demo server.
const dialTimeout = 10 * time.Second
