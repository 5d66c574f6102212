package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/console"
	"github.com/bouncer-dev/bouncer/internal/demoimap"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/bouncer-dev/bouncer/suppress"
)

// demoMessages holds the demo's messages: a dozen returned mails of every
// kind, copies of samples of testdata/ (demo/README.md lists them; the
// sisimai ones under demo/LICENSE-corpus).
//
//go:embed demo/*.eml
var demoMessages embed.FS

// demoSamples returns the demo's messages, the *.eml files at its root.
func demoSamples() fs.FS {
	sub, err := fs.Sub(demoMessages, "demo")
	if err != nil {
		panic(err) // "demo" is a valid path: fs.Sub cannot fail
	}
	return sub
}

// demoFlags are the flags of bouncer demo.
type demoFlags struct {
	fs     *flag.FlagSet
	out    string
	format string
	state  string // issue 19: keep the demo's state, for bouncer why and stats
	serve  bool
	listen string
}

func newDemoFlags(s *streams) *demoFlags {
	f := &demoFlags{fs: flag.NewFlagSet("demo", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.out, "out", "demo-suppressions.csv", "write the suppression list to `FILE`")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.state, "state", "", "keep the demo's state in `FILE` (to try bouncer why, allow, stats on it); default: a temporary one")
	fs.BoolVar(&f.serve, "serve", false, "then leave the console (bouncer serve) up on the demo's state until Ctrl-C, and print its URL and token")
	fs.StringVar(&f.listen, "listen", console.DefaultListen, "with --serve, the console's `ADDR`")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer demo [--out FILE] [--format F] [--state FILE] [--serve [--listen ADDR]]

Run the whole pipeline on sample bounces, with nothing to set up: start an
IMAP server in memory on 127.0.0.1, put a dozen real returned messages in its
INBOX, then do what bouncer run does: fetch, parse, classify, record the
bounces in a state (in a temporary folder, so every demo starts clean), move
the messages to bounces-processed and bounces-unrecognized, and write the
suppression list, demo-suppressions.csv in the current folder by default.
With --serve, it then serves the console on the demo's state (see bouncer
serve) and prints its URL and a fresh token, until Ctrl-C.

Exit status: 0 done, 1 failed (the embedded server, the state, the list),
2 bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// demoCommand is bouncer demo.
func demoCommand(s *streams, args []string) int {
	f := newDemoFlags(s)
	env, code, ok := parseArgsEnv(s, "demo", f.fs, func() error { return f.fs.Parse(args) })
	if !ok {
		return code
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(s.stderr, "bouncer demo: unexpected argument %q; see bouncer help demo\n", f.fs.Arg(0))
		return exitUsage
	}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return usageError(s, "demo", env)("unknown --format %q: want one of %s", f.format, formatNames())
	}
	if f.out == "" {
		fmt.Fprintln(s.stderr, "bouncer demo: --out must not be empty")
		return exitUsage
	}
	ctx, stop := demoContext()
	defer stop()

	fail := func(err error) int {
		fmt.Fprintf(s.stderr, "bouncer demo: %v\n", oneLine(err))
		return exitError
	}
	fmt.Fprintln(s.stdout, "demo: starting an IMAP server in memory, with sample bounces in its INBOX; then, as bouncer run does:")
	fmt.Fprintln(s.stdout, "demo: fetch them, classify each recipient, record them in a temporary state, move them, and write the list")
	tmp, err := os.MkdirTemp("", "bouncer-demo-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)

	srv, err := demoimap.Start(tmp, demoSamples())
	if err != nil {
		return fail(err)
	}
	defer srv.Close()

	fmt.Fprintf(s.stdout, "demo: an IMAP server in memory at %s holds %d sample messages in INBOX\n\n", srv.Addr, srv.Loaded)
	cfg := &runjob.Config{
		Mailboxes:   []*config.Source{srv.Source()},
		State:       cmp.Or(f.state, filepath.Join(tmp, "bouncer.db")),
		Out:         f.out,
		Format:      format,
		SummaryPath: true,
	}
	if code := runjob.Run(ctx, cfg, s.stdout, s.stderr); code != exitOK {
		return code
	}

	fmt.Fprintf(s.stdout, "\nthe demo mailbox now holds: INBOX %d, %s %d, %s %d", srv.Count("INBOX"),
		defaultProcessedFolder, srv.Count(defaultProcessedFolder), defaultUnrecognizedFolder, srv.Count(defaultUnrecognizedFolder))
	if f.serve {
		return demoServe(ctx, s, tmp, cfg.State, f.listen)
	}
	fmt.Fprint(s.stdout, `

Next, on your own bounce mailbox:
  bouncer run --imap imaps://bounce@mail.example.org/INBOX --password-file pw.txt --out suppressions.csv
`)
	return exitOK
}

// demoContext returns the context of a demo: until Ctrl-C or SIGTERM.
var demoContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// demoServe serves the console on the demo's state with a fresh token
// written in dir, until ctx ends.
func demoServe(ctx context.Context, s *streams, dir, state, listen string) int {
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte(rand.Text()+"\n"), 0o600); err != nil {
		fmt.Fprintf(s.stderr, "bouncer demo: %v\n", oneLine(err))
		return exitError
	}
	tok, err := console.LoadToken(token)
	if err == nil {
		err = console.Serve(ctx, &console.ServeOptions{State: state, Listen: listen, TokenFile: token,
			Ready: func(url string) {
				fmt.Fprintf(s.stdout, "\n\nthe console is up on the demo's state (Ctrl-C stops it and deletes the state):\n  %s\n  token: %s\n", url, tok)
			}})
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer demo: %v\n", oneLine(err))
		return exitError
	}
	return exitOK
}
