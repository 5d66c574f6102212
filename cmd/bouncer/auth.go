package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bouncer-dev/bouncer/internal/authflow"
	"github.com/bouncer-dev/bouncer/oauth"
)

// authFlags are the flags of bouncer auth.
type authFlags struct {
	fs               *flag.FlagSet
	file             string
	provider         string
	tenant           string
	clientID         string
	clientSecretFile string
	scopes           string
	flow             string
	port             int
}

func newAuthFlags(s *streams) *authFlags {
	f := &authFlags{fs: flag.NewFlagSet("auth", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.file, "oauth-credentials", "", "credentials `FILE` to write (and read, when it exists), mode 0600")
	fs.StringVar(&f.provider, "provider", "", "`PROVIDER`: google or microsoft (default: the file's)")
	fs.StringVar(&f.tenant, "tenant", "", "Microsoft directory: tenant `ID` or domain (default common)")
	fs.StringVar(&f.clientID, "client-id", "", "OAuth2 client `ID` of the app registered with the provider")
	fs.StringVar(&f.clientSecretFile, "client-secret-file", "", "`FILE` holding the client secret (Google desktop clients have one; public clients none)")
	fs.StringVar(&f.scopes, "scopes", "", "`SCOPES`, comma-separated (default: the provider's IMAP scope)")
	fs.StringVar(&f.flow, "flow", "", "how to authorize: device (a code to enter anywhere) or browser (a browser on this machine); default device, browser for google")
	fs.IntVar(&f.port, "port", 0, "with --flow browser, the loopback `PORT` the browser is sent back to (default: any free one)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: bouncer auth --oauth-credentials FILE [--provider google|microsoft --client-id ID] [flags]

Authorize bouncer, once, to read a Gmail or Microsoft 365 mailbox with
OAuth2, and store the refresh token in FILE for bouncer run
--oauth-credentials FILE, which then refreshes the access token before it
expires. --flow device shows a URL and a code to enter in any browser
(Microsoft 365); --flow browser opens the provider's page in a browser on
this machine and waits for it on 127.0.0.1 (Gmail, which refuses the device
flow; forward --port over SSH from a remote machine). Flags given override
the file's fields. Microsoft 365 app-only access (client_credentials) needs
no authorization: write the file by hand (see docs/operating.md).

Environment: every flag not given takes its BOUNCER_ variable
(BOUNCER_OAUTH_CREDENTIALS for --oauth-credentials…).

Exit status: 0 authorized and FILE written, 1 failed (refused, declined,
the code expired, FILE not written), 2 bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// authCommand is bouncer auth.
func authCommand(s *streams, args []string) int {
	f := newAuthFlags(s)
	env, code, ok := parseWithEnv(s, "auth", f.fs, args)
	if !ok {
		return code
	}
	fail := usageError(s, "auth", env)
	switch {
	case f.file == "":
		return fail("--oauth-credentials FILE is required")
	case f.port < 0 || f.port > 65535:
		return fail("--port must be 0 to 65535")
	}
	var scopes []string
	if f.scopes != "" {
		scopes = strings.Split(f.scopes, ",")
	}
	req := &authflow.Request{File: f.file, Provider: oauth.Provider(f.provider), Tenant: f.tenant, ClientID: f.clientID,
		ClientSecretFile: f.clientSecretFile, Scopes: scopes, Flow: authflow.Flow(f.flow), Port: f.port}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var reqErr *authflow.RequestError
	if err := authflow.Authorize(ctx, req, s.stdout); errors.As(err, &reqErr) {
		return fail("%s", reqErr.Msg)
	} else if err != nil {
		fmt.Fprintf(s.stderr, "bouncer auth: %s\n", oneLine(err))
		return exitError
	}
	fmt.Fprintf(s.stdout, "authorized; wrote %s. Now: bouncer run --oauth-credentials %s --imap imaps://USER@HOST/INBOX ...\n", f.file, f.file)
	return exitOK
}
