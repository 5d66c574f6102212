package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/metrics"
	"github.com/bouncer-dev/bouncer/internal/termlog"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/oauth"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

const (
	// Folders that receive the messages once they are recorded (IMAP
	// mailboxes; for a Maildir, the Maildir++ folders ".NAME").
	defaultProcessedFolder    = mailsource.DefaultProcessedFolder
	defaultUnrecognizedFolder = "bounces-unrecognized"
	// defaultFetchBatch is the number of messages per UID FETCH, committed
	// together and then moved with one MOVE.
	defaultFetchBatch = 500
	// slowEnv names a hidden environment variable, for tests only: a
	// pause after each message is recorded, so that a test can kill a run
	// in the middle.
	slowEnv = "BOUNCER_TEST_SLOW"
	// passwordEnv is the environment variable that may hold the password.
	passwordEnv = "BOUNCER_PASSWORD"
)

// runEnv names the flags of bouncer run that have an environment variable
// fallback (see applyEnv). The password has no flag at all: it would show
// in process lists.
var runEnv = []string{"imap", "maildir", "password-file", "oauth-token-file", "ca-file", "state", "out", "out-dir", "format", "after", "rules",
	"log-format", "oauth-credentials", "metrics"}

// What --after does to a recorded bounce (IMAP actions map to them).
const (
	afterMove   = mailsource.ActionMove
	afterSeen   = mailsource.ActionSeen
	afterDelete = mailsource.ActionDelete
	afterNone   = mailsource.ActionNone
)

// runConfig is a checked bouncer run command line (or the demo's).
type runConfig struct {
	imapURL     string
	imapOpts    imapfetch.Options
	maildir     string
	maildirOpts mailsource.MaildirOptions
	state       string
	out         string
	outDir      string
	format      suppress.Format
	policy      *suppress.Policy
	pipe        pipeline.Options
	summaryPath bool    // print the absolute path of the list
	env         cli.Env // the flags set from the environment, for errors
	// dryRun changes nothing (--dry-run); wouldDo and wouldUnrecognized
	// say what a real run would do with bounces and with the others.
	dryRun                     bool
	wouldDo, wouldUnrecognized string
	// metrics, if set, are served at metricsAddr (--metrics).
	metrics     *metrics.Metrics
	metricsAddr string
}

// runCommand is bouncer run.
func runCommand(s *streams, args []string) int {
	f := newRunFlags(s)
	if code, ok := parseArgs(s, "run", f.fs, func() error { return f.fs.Parse(args) }); !ok {
		return code
	}
	env, err := cli.ApplyEnv(f.fs, runEnv)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer run: %s\n", env.Explain(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	if err != nil {
		return fail("%v", err)
	}
	if f.fs.NArg() > 0 {
		return fail("unexpected argument %q; see bouncer help run", f.fs.Arg(0))
	}
	cfg, msg := f.config()
	if msg != "" {
		return fail("%s", msg)
	}
	cfg.env = env
	if msg := f.ops.applyDryRun(cfg, f); msg != "" {
		return fail("%s", msg)
	}
	if msg := f.ops.applyMetrics(cfg, f); msg != "" {
		return fail("%s", msg)
	}
	logFormat, err := cli.ParseLogFormat(f.ops.logFormat)
	if err != nil {
		return fail("%v", err)
	}
	// Reconnections, UIDVALIDITY changes and messages that hit a limit
	// are worth a line on stderr.
	logger, stderr := cli.NewLogger(s.stderr, logFormat, termlog.NewHandler(s.stderr))
	if cfg.metrics != nil {
		logger = slog.New(cfg.metrics.Handler(logger.Handler()))
	}
	s = &streams{stdin: s.stdin, stdout: s.stdout, stderr: stderr}
	cfg.imapOpts.Logger = logger
	cfg.pipe.Logger = logger
	if d, err := time.ParseDuration(os.Getenv(slowEnv)); err == nil {
		cfg.pipe.Delay = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return doRun(ctx, s, cfg)
}

// config checks the flags and returns the run they describe, or the
// problem with them.
func (f *runFlags) config() (*runConfig, string) {
	cfg := &runConfig{
		state:  f.state,
		out:    f.out,
		outDir: f.outDir,
		pipe: pipeline.Options{
			Workers:   f.limits.workers,
			DSN:       f.limits.dsn,
			BatchSize: f.batch,
			BatchTime: f.batchTime,
			Watch:     f.watch,
			Poll:      f.poll,
		},
	}
	switch {
	case f.imap == "" && f.maildir == "":
		return nil, "no mailbox: give --imap URL or --maildir DIR (or $BOUNCER_IMAP); see bouncer help run"
	case f.imap != "" && f.maildir != "":
		return nil, "give --imap or --maildir, not both"
	case f.state == "":
		return nil, "--state must not be empty"
	case f.poll <= 0:
		return nil, "--poll must be positive"
	case f.batch < 1 || f.fetchBatch < 1 || f.batchTime <= 0:
		return nil, "--batch and --fetch-batch must be at least 1, --batch-time positive"
	case f.maxFetchBytes == 0:
		return nil, "--max-fetch-bytes must not be 0 (-1: no cap)"
	}
	if err := f.limits.check(); err != nil {
		return nil, err.Error()
	}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return nil, fmt.Sprintf("unknown --format %q: want one of %s", f.format, formatNames())
	}
	cfg.format = format
	after := mailsource.Action(f.after)
	switch after {
	case afterMove, afterSeen, afterDelete, afterNone:
	default:
		return nil, fmt.Sprintf("unknown --after %q: want move, seen, delete or none", f.after)
	}
	if cfg.policy, err = f.policy.policy(); err != nil {
		return nil, err.Error()
	}
	if f.rules != "" {
		c, err := pipeline.LoadRules(f.rules)
		if err != nil {
			return nil, err.Error()
		}
		cfg.pipe.Classify = c
	}
	if f.after == string(afterMove) && f.processedFolder == "" {
		return nil, "--after move needs a --processed-folder"
	}
	if f.maildir != "" {
		cfg.maildir = f.maildir
		cfg.maildirOpts = mailsource.MaildirOptions{
			Action:          after,
			ProcessedFolder: f.processedFolder,
			Batch:           f.batch,
		}
		if after != afterNone {
			cfg.maildirOpts.UnrecognizedFolder = f.unrecognizedFolder
		}
		return cfg, ""
	}
	if msg := f.imapConfig(cfg, after); msg != "" {
		return nil, msg
	}
	return cfg, ""
}

// imapConfig fills in the IMAP options of cfg, or returns the problem
// with the flags.
func (f *runFlags) imapConfig(cfg *runConfig, after mailsource.Action) string {
	u, err := imapfetch.ParseURL(f.imap)
	if err != nil {
		return fmt.Sprintf("bad --imap URL: %v", strings.TrimPrefix(err.Error(), imapfetch.ErrURL.Error()+": "))
	}
	cfg.imapURL = f.imap
	o := &cfg.imapOpts
	o.CAFile = f.caFile
	o.InsecurePlaintext = f.insecurePlaintext
	if f.insecurePlaintext && u.Security == imapfetch.SecurityTLS {
		return "--insecure-plaintext applies to imap:// URLs only"
	}
	switch {
	case f.passwordFile != "" && f.oauthTokenFile != "":
		return "give --password-file or --oauth-token-file, not both"
	case f.ops.oauthCredentials != "" && (f.passwordFile != "" || f.oauthTokenFile != ""):
		return "give --oauth-credentials or --password-file or --oauth-token-file, only one"
	case f.ops.oauthCredentials != "":
		src, err := oauth.NewSource(f.ops.oauthCredentials, nil)
		if err != nil {
			return "bad --oauth-credentials: " + oneLine(err) + "; see bouncer auth -h"
		}
		o.TokenSource = src
	case f.oauthTokenFile != "":
		o.SecretFile = f.oauthTokenFile
		o.Mechanism = imapfetch.MechanismXOAuth2
	case f.passwordFile != "":
		o.SecretFile = f.passwordFile
	case os.Getenv(passwordEnv) != "":
		o.SecretEnv = passwordEnv
	default:
		return "no password: give --password-file FILE, --oauth-credentials FILE, --oauth-token-file FILE or $" + passwordEnv
	}
	switch m := imapfetch.Mechanism(strings.ToUpper(f.auth)); m {
	case "AUTO":
	case imapfetch.MechanismPlain, imapfetch.MechanismLogin, imapfetch.MechanismXOAuth2, imapfetch.MechanismOAuthBearer:
		o.Mechanism = m
	default:
		return fmt.Sprintf("unknown --auth %q: want auto, plain, login, xoauth2 or oauthbearer", f.auth)
	}
	if f.retries < 0 {
		return "--retries must not be negative"
	}
	o.MaxRetries = f.retries
	if f.retries == 0 {
		o.MaxRetries = -1 // imapfetch: negative means no retry
	}
	o.PollInterval = f.poll
	o.BatchSize = f.fetchBatch
	o.MaxMessageBytes = f.maxFetchBytes
	switch after {
	case afterMove:
		o.Action = imapfetch.ActionMove
		o.ProcessedMailbox = f.processedFolder
	case afterSeen:
		o.Action = imapfetch.ActionFlag
	case afterDelete:
		o.Action = imapfetch.ActionDelete
	case afterNone:
		o.Action = imapfetch.ActionNone
	}
	if after != afterNone {
		// With none the run is read-only: nothing moves.
		o.UnrecognizedMailbox = f.unrecognizedFolder
	}
	return ""
}
