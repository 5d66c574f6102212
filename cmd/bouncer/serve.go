package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bouncer-dev/bouncer/console"
)

// serveFlags are the flags of bouncer serve.
type serveFlags struct {
	fs        *flag.FlagSet
	state     string
	listen    string
	tokenFile string
	tlsCert   string
	tlsKey    string
	insecure  bool
	policy    policyFlags
}

func newServeFlags(s *streams) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("serve", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE` (or postgres:// URL) written by bouncer run")
	fs.StringVar(&f.listen, "listen", console.DefaultListen, "`ADDR` to listen on, host:port; a non-loopback address needs TLS or --insecure-http")
	fs.StringVar(&f.tokenFile, "token-file", "", "`FILE` holding the access token, readable by its owner only (chmod 600); required")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate `FILE` (PEM): serve HTTPS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key `FILE` (PEM) of --tls-cert")
	fs.BoolVar(&f.insecure, "insecure-http", false, "allow clear HTTP on a non-loopback address (behind a TLS proxy only)")
	f.policy.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: bouncer serve --token-file FILE [--state FILE] [--listen ADDR] [--tls-cert C --tls-key K] [--insecure-http]

Serve the console: the suppression history in a browser (overview with
charts, the suppression list with filters and downloads, the push outbox)
and a JSON API under /api/v1/ (see docs/console.md). It reads the state
while bouncer run --watch writes it. Every request needs the token of
--token-file: the API as "Authorization: Bearer TOKEN", the pages once in a
login form. It listens on 127.0.0.1:8025 by default, and refuses an address
other hosts can reach unless it has TLS or --insecure-http. Ctrl-C stops it.

Environment: BOUNCER_STATE, BOUNCER_LISTEN, BOUNCER_TOKEN_FILE,
BOUNCER_TLS_CERT and BOUNCER_TLS_KEY stand in for flags that are not given.

Exit status: 0 stopped, 1 failed (token file, state, address, TLS), 2 bad
command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// serveCommand is bouncer serve.
func serveCommand(s *streams, args []string) int {
	f := newServeFlags(s)
	env, code, ok := parseWithEnv(s, "serve", f.fs, args)
	if !ok {
		return code
	}
	fail := usageError(s, "serve", env)
	if f.tokenFile == "" {
		return fail("--token-file is required: write a token with  openssl rand -hex 32 > token && chmod 600 token")
	}
	pol, err := f.policy.policy()
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = console.Serve(ctx, &console.ServeOptions{
		State: f.state, Listen: f.listen, TokenFile: f.tokenFile, TLSCert: f.tlsCert, TLSKey: f.tlsKey,
		InsecureHTTP: f.insecure, Policy: pol,
		Ready: func(url string) {
			fmt.Fprintf(s.stderr, "bouncer serve: the console is at %s (Ctrl-C stops it)\n", url)
		},
	})
	if err != nil {
		msg := oneLine(err)
		if errors.Is(err, console.ErrNoState) {
			msg = env.ExplainValue("state", msg)
		}
		fmt.Fprintf(s.stderr, "bouncer serve: %s\n", msg)
		return exitError
	}
	return exitOK
}
