package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bouncer-dev/bouncer/internal/cli"
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
no authorization: write the file by hand (see the README).

Environment: BOUNCER_OAUTH_CREDENTIALS for --oauth-credentials.

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
	if code, ok := parseArgs(s, "auth", f.fs, func() error { return f.fs.Parse(args) }); !ok {
		return code
	}
	env, err := cli.ApplyEnv(f.fs, []string{"oauth-credentials"})
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer auth: %s\n", env.Explain(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	switch {
	case err != nil:
		return fail("%v", err)
	case f.fs.NArg() > 0:
		return fail("unexpected argument %q; see bouncer auth -h", f.fs.Arg(0))
	case f.file == "":
		return fail("--oauth-credentials FILE is required")
	case f.port < 0 || f.port > 65535:
		return fail("--port must be 0 to 65535")
	}
	creds, err := f.credentials()
	if err != nil {
		return fail("%s", oneLine(err))
	}
	flow := f.flow
	if flow == "" {
		flow = "device"
		if creds.Provider == oauth.ProviderGoogle {
			flow = "browser"
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var out *oauth.Credentials
	switch flow {
	case "device":
		out, err = oauth.Authorize(ctx, creds, s.stdout, nil)
	case "browser":
		out, err = oauth.AuthorizeLoopback(ctx, creds, s.stdout, &oauth.LoopbackOptions{Port: f.port})
	default:
		return fail("unknown --flow %q: want device or browser", f.flow)
	}
	if err == nil {
		err = oauth.WriteFile(f.file, out)
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer auth: %s\n", oneLine(err))
		return exitError
	}
	fmt.Fprintf(s.stdout, "authorized; wrote %s. Now: bouncer run --oauth-credentials %s --imap imaps://USER@HOST/INBOX ...\n", f.file, f.file)
	return exitOK
}

// credentials returns the credentials to authorize: the file's, when it
// exists, with the fields the flags give.
func (f *authFlags) credentials() (*oauth.Credentials, error) {
	c := &oauth.Credentials{}
	if _, err := os.Stat(f.file); err == nil {
		if c, err = oauth.ReadFile(f.file); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if f.provider != "" {
		c.Provider = oauth.Provider(f.provider)
	}
	if f.tenant != "" {
		c.Tenant = f.tenant
	}
	if f.clientID != "" {
		c.ClientID = f.clientID
	}
	if f.scopes != "" {
		c.Scopes = strings.Split(f.scopes, ",")
	}
	if f.clientSecretFile != "" {
		b, err := os.ReadFile(f.clientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--client-secret-file: %w", err)
		}
		c.ClientSecret = strings.TrimSpace(string(b))
	}
	switch {
	case c.ClientID == "":
		return nil, errors.New("no client: give --client-id (and --provider)")
	case c.Provider == oauth.ProviderCustom && c.TokenURL == "":
		return nil, errors.New("no provider: give --provider google or microsoft")
	}
	return c, nil
}
