package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	bouncer "github.com/bouncer-dev/bouncer"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// demoSamples are the messages of the demo mailbox: the samples in the
// repository's testdata folder (see testdata/README.md).
var demoSamples = bouncer.Samples

// demoUser is the login of the demo mailbox.
const demoUser = "bounce"

// demoFlags are the flags of bouncer demo.
type demoFlags struct {
	fs     *flag.FlagSet
	out    string
	format string
}

func newDemoFlags(s *streams) *demoFlags {
	f := &demoFlags{fs: flag.NewFlagSet("demo", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.out, "out", "demo-suppressions.csv", "write the suppression list to `FILE`")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer demo [--out FILE] [--format F]

Run the whole pipeline on sample bounces, with nothing to set up: start an
IMAP server in memory on 127.0.0.1, put a dozen real returned messages in its
INBOX, then do what bouncer run does: fetch, parse, classify, record the
bounces in a state (in a temporary folder, so every demo starts clean), move
the messages to bounces-processed and bounces-unrecognized, and write the
suppression list, demo-suppressions.csv in the current folder by default.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// demoCommand is bouncer demo.
func demoCommand(s *streams, args []string) int {
	f := newDemoFlags(s)
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(s.stderr, "bouncer demo: unexpected argument %q; see bouncer help demo\n", f.fs.Arg(0))
		return exitUsage
	}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer demo: unknown --format %q: want one of %s\n", f.format, formatNames())
		return exitUsage
	}
	if f.out == "" {
		fmt.Fprintln(s.stderr, "bouncer demo: --out must not be empty")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fail := func(err error) int {
		fmt.Fprintf(s.stderr, "bouncer demo: %v\n", oneLine(err))
		return exitError
	}
	tmp, err := os.MkdirTemp("", "bouncer-demo-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)

	srv, err := startDemoServer(tmp)
	if err != nil {
		return fail(err)
	}
	defer srv.close()

	fmt.Fprintf(s.stdout, "demo: an IMAP server in memory at %s holds %d sample messages in INBOX\n\n", srv.addr, srv.loaded)
	cfg := &runConfig{
		imapURL: "imap://" + demoUser + "@" + srv.addr + "/INBOX",
		imapOpts: imapfetch.Options{
			SecretFile: srv.passwordFile,
			// The embedded server listens on loopback only and offers no
			// TLS: plaintext is allowed here and nowhere else.
			InsecurePlaintext:   true,
			Action:              imapfetch.ActionMove,
			ProcessedMailbox:    defaultProcessedFolder,
			UnrecognizedMailbox: defaultUnrecognizedFolder,
			MaxRetries:          -1,
			DialTimeout:         10 * time.Second,
		},
		state:       filepath.Join(tmp, "bouncer.db"),
		out:         f.out,
		format:      format,
		summaryPath: true,
	}
	if code := doRun(ctx, s, cfg); code != exitOK {
		return code
	}

	fmt.Fprintln(s.stdout)
	fmt.Fprint(s.stdout, "the demo mailbox now holds:")
	for i, mb := range []string{"INBOX", defaultProcessedFolder, defaultUnrecognizedFolder} {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(s.stdout, "%s %s %d", sep, mb, srv.count(mb))
	}
	fmt.Fprint(s.stdout, `

Next, on your own bounce mailbox:
  bouncer run --imap imaps://bounce@mail.example.org/INBOX --password-file pw.txt --out suppressions.csv
`)
	return exitOK
}

// demoServer is the in-memory IMAP server of the demo.
type demoServer struct {
	addr         string
	passwordFile string
	loaded       int
	user         *imapmemserver.User
	srv          *imapserver.Server
}

// startDemoServer starts an in-memory IMAP server on a free loopback port
// whose INBOX holds the demo samples. Its password is random and written to
// a file in dir.
func startDemoServer(dir string) (*demoServer, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(secret)
	d := &demoServer{passwordFile: filepath.Join(dir, "password")}
	if err := os.WriteFile(d.passwordFile, []byte(password), 0o600); err != nil {
		return nil, err
	}

	mem := imapmemserver.New()
	d.user = imapmemserver.NewUser(demoUser, password)
	if err := d.user.Create("INBOX", nil); err != nil {
		return nil, err
	}
	samples, err := loadDemoSamples()
	if err != nil {
		return nil, err
	}
	for _, msg := range samples {
		// As a mail server stores them: CRLF line endings (RFC 5322
		// section 2.1), and a fixed arrival time so that demos agree.
		opts := &imap.AppendOptions{Time: demoReceived}
		if _, err := d.user.Append("INBOX", bytes.NewReader(crlf(msg)), opts); err != nil {
			return nil, fmt.Errorf("load the samples: %w", err)
		}
	}
	d.loaded = len(samples)
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
	d.addr = ln.Addr().String()
	go d.srv.Serve(ln)
	return d, nil
}

// count returns the number of messages in mailbox, 0 when it is missing.
func (d *demoServer) count(mailbox string) int {
	st, err := d.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil || st.NumMessages == nil {
		return 0
	}
	return int(*st.NumMessages)
}

func (d *demoServer) close() {
	d.srv.Close()
}

// loadDemoSamples returns the embedded sample messages, in name order.
func loadDemoSamples() ([][]byte, error) {
	entries, err := fs.ReadDir(demoSamples, "testdata")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var out [][]byte
	for _, n := range names {
		b, err := demoSamples.ReadFile(path.Join("testdata", n))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// demoReceived is the arrival time of the demo's messages: the INTERNALDATE
// that dates a sample without a Date field.
var demoReceived = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

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
