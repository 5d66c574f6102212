package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Folders that receive the messages once they are recorded (IMAP mailbox
// names; for a Maildir, the Maildir++ subfolders ".bounces-processed" and
// ".bounces-unrecognized").
const (
	defaultProcessedFolder    = mailsource.DefaultProcessedFolder
	defaultUnrecognizedFolder = "bounces-unrecognized"
)

// defaultFetchBatch is the number of messages per UID FETCH, committed
// together and then moved with one MOVE.
const defaultFetchBatch = 500

// slowEnv names a hidden environment variable, for tests only: a duration
// to sleep after each message is recorded, so that a test can kill a run
// in the middle.
const slowEnv = "BOUNCER_TEST_SLOW"

// runEnv maps the flags of bouncer run that have an environment variable
// fallback to that variable. The password has no flag at all: it would show
// in process lists.
var runEnv = map[string]string{
	"imap":             "BOUNCER_IMAP",
	"maildir":          "BOUNCER_MAILDIR",
	"password-file":    "BOUNCER_PASSWORD_FILE",
	"oauth-token-file": "BOUNCER_OAUTH_TOKEN_FILE",
	"ca-file":          "BOUNCER_CA_FILE",
	"state":            "BOUNCER_STATE",
	"out":              "BOUNCER_OUT",
	"out-dir":          "BOUNCER_OUT_DIR",
	"format":           "BOUNCER_FORMAT",
	"after":            "BOUNCER_AFTER",
	"rules":            "BOUNCER_RULES",
}

// passwordEnv is the environment variable that may hold the IMAP password.
const passwordEnv = "BOUNCER_PASSWORD"

// afterAction is what --after does to a recorded bounce.
type afterAction string

const (
	afterMove   afterAction = "move"
	afterSeen   afterAction = "seen"
	afterDelete afterAction = "delete"
	afterNone   afterAction = "none"
)

// runFlags are the flags of bouncer run.
type runFlags struct {
	limits             limitFlags
	maxFetchBytes      int64
	fetchBatch         int
	batch              int
	batchTime          time.Duration
	fs                 *flag.FlagSet
	imap               string
	maildir            string
	passwordFile       string
	oauthTokenFile     string
	caFile             string
	insecurePlaintext  bool
	auth               string
	state              string
	out                string
	outDir             string
	format             string
	after              string
	processedFolder    string
	unrecognizedFolder string
	rules              string
	watch              bool
	poll               time.Duration
	retries            int
	policy             policyFlags
}

func newRunFlags(s *streams) *runFlags {
	f := &runFlags{fs: flag.NewFlagSet("run", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.imap, "imap", "", "mailbox `URL`: imaps://USER@HOST[:PORT]/MAILBOX, or imap:// for STARTTLS")
	fs.StringVar(&f.maildir, "maildir", "", "read a local Maildir `DIR` (its new/ and cur/) instead of IMAP")
	fs.StringVar(&f.passwordFile, "password-file", "", "`FILE` holding the IMAP password (else $"+passwordEnv+")")
	fs.StringVar(&f.oauthTokenFile, "oauth-token-file", "", "`FILE` holding an OAuth2 access token (XOAUTH2), read again on each connection")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of extra CA certificates to trust (private CA, self-signed server)")
	fs.BoolVar(&f.insecurePlaintext, "insecure-plaintext", false, "with imap://, talk in the clear when the server has no STARTTLS (password included; loopback and tests only)")
	fs.StringVar(&f.auth, "auth", "auto", "authentication `MECHANISM`: auto, plain, login, xoauth2 or oauthbearer")
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE`: the history of bounces (SQLite)")
	fs.StringVar(&f.out, "out", "", "write the suppression list to `FILE`")
	fs.StringVar(&f.outDir, "out-dir", "", "write one list per category into `DIR`: hard.csv, soft.csv, policy.csv, complaint.csv")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.after, "after", string(afterMove), "what to do with a recorded bounce: move (to the processed folder), seen, delete or none")
	fs.StringVar(&f.processedFolder, "processed-folder", defaultProcessedFolder, "`MAILBOX` that receives bounces with --after move (for a Maildir, the Maildir++ folder .MAILBOX)")
	fs.StringVar(&f.unrecognizedFolder, "unrecognized-folder", defaultUnrecognizedFolder, "`MAILBOX` that receives what is not a bounce, for humans (empty: leave it in place)")
	fs.StringVar(&f.rules, "rules", "", "classification rules `FILE` to apply before the built-in rules")
	fs.BoolVar(&f.watch, "watch", false, "keep running: wait for new mail (IMAP IDLE, or polling) until interrupted")
	fs.DurationVar(&f.poll, "poll", time.Minute, "with --watch, how often to look for mail when IDLE is not available (Maildir, or servers without IDLE)")
	fs.IntVar(&f.retries, "retries", imapfetch.DefaultMaxRetries, "reconnections after connection faults before giving up (0: none)")
	fs.Int64Var(&f.maxFetchBytes, "max-fetch-bytes", imapfetch.DefaultMaxMessageBytes, "bytes fetched of one IMAP message; a larger one is incomplete (-1: no cap)")
	fs.IntVar(&f.fetchBatch, "fetch-batch", defaultFetchBatch, "IMAP messages per UID FETCH, committed together, then moved with one command")
	fs.IntVar(&f.batch, "batch", pipeline.DefaultBatchSize, "messages recorded per transaction at most")
	fs.DurationVar(&f.batchTime, "batch-time", pipeline.DefaultBatchTime, "how long a transaction stays open at most")
	f.limits.register(fs)
	f.policy.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer run (--imap URL | --maildir DIR) [flags]

Fetch the bounce mailbox, record every bounce in the state and write the
suppression lists. One pass by default, for cron; --watch keeps running.

Before anything is fetched or moved, the state is opened, --out and
--out-dir are checked writable, the rules file is read and the server login
is made. Each message is parsed and its recipients classified; many messages
are recorded per transaction (--batch, --batch-time); only once committed
are they moved (--after move, to bounces-processed, one MOVE per
--fetch-batch), flagged seen, deleted or left alone. What is not a bounce,
cannot be read, or hit a limit (--max-*) goes to bounces-unrecognized for a
human and is never deleted. An address read from a notice's running text
that nothing else in the bounce confirms is recorded but suppresses nothing.
A message is recorded once, by the hash of its bytes (and by its UID), so a
run that was killed can simply be started again.

The lists are written from the whole history (--out, --out-dir), sorted and
dated from the bounces themselves: the same history gives the same bytes.
Policy: hard bounces and complaints suppress at once; soft bounces after
--soft-threshold of them on --soft-days different days within --soft-window;
policy blocks are only reported (policy.csv) unless --suppress-policy.

Environment: BOUNCER_IMAP, BOUNCER_MAILDIR, BOUNCER_PASSWORD_FILE,
BOUNCER_PASSWORD (the password itself; there is no flag for it),
BOUNCER_OAUTH_TOKEN_FILE, BOUNCER_CA_FILE, BOUNCER_STATE, BOUNCER_OUT,
BOUNCER_OUT_DIR, BOUNCER_FORMAT, BOUNCER_AFTER and BOUNCER_RULES stand in for
flags that are not given.

Exit status: 0 when the pass completed, 1 when it failed (the server could not
be reached, the login failed, the state is in use by another run…), 2 for a
bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

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
	summaryPath bool // print the absolute path of the list
}

// runCommand is bouncer run.
func runCommand(s *streams, args []string) int {
	f := newRunFlags(s)
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer run: "+format+"\n", a...)
		return exitUsage
	}
	if err := applyEnv(f.fs, runEnv); err != nil {
		return fail("%v", err)
	}
	if f.fs.NArg() > 0 {
		return fail("unexpected argument %q; see bouncer help run", f.fs.Arg(0))
	}
	cfg, msg := f.config()
	if msg != "" {
		return fail("%s", msg)
	}
	// Reconnections, UIDVALIDITY changes and messages that hit a limit
	// are worth a line on stderr.
	cfg.imapOpts.Logger = slog.New(newLineHandler(s.stderr))
	cfg.pipe.Logger = cfg.imapOpts.Logger
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
	after := afterAction(f.after)
	switch after {
	case afterMove, afterSeen, afterDelete, afterNone:
	default:
		return nil, fmt.Sprintf("unknown --after %q: want move, seen, delete or none", f.after)
	}
	if cfg.policy, err = f.policy.policy(); err != nil {
		return nil, err.Error()
	}
	if f.rules != "" {
		c, err := loadClassifier(f.rules)
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
			Action:          mailsource.Action(after),
			ProcessedFolder: f.processedFolder,
			Batch:           f.batch,
		}
		if after != afterNone {
			cfg.maildirOpts.UnrecognizedFolder = f.unrecognizedFolder
		}
		return cfg, ""
	}

	u, err := imapfetch.ParseURL(f.imap)
	if err != nil {
		return nil, fmt.Sprintf("bad --imap URL: %v", strings.TrimPrefix(err.Error(), imapfetch.ErrURL.Error()+": "))
	}
	cfg.imapURL = f.imap
	o := &cfg.imapOpts
	o.CAFile = f.caFile
	o.InsecurePlaintext = f.insecurePlaintext
	if f.insecurePlaintext && u.Security == imapfetch.SecurityTLS {
		return nil, "--insecure-plaintext applies to imap:// URLs only"
	}
	switch {
	case f.passwordFile != "" && f.oauthTokenFile != "":
		return nil, "give --password-file or --oauth-token-file, not both"
	case f.oauthTokenFile != "":
		o.SecretFile = f.oauthTokenFile
		o.Mechanism = imapfetch.MechanismXOAuth2
	case f.passwordFile != "":
		o.SecretFile = f.passwordFile
	case os.Getenv(passwordEnv) != "":
		o.SecretEnv = passwordEnv
	default:
		return nil, "no password: give --password-file FILE, --oauth-token-file FILE or $" + passwordEnv
	}
	switch strings.ToLower(f.auth) {
	case "auto":
	case "plain":
		o.Mechanism = imapfetch.MechanismPlain
	case "login":
		o.Mechanism = imapfetch.MechanismLogin
	case "xoauth2":
		o.Mechanism = imapfetch.MechanismXOAuth2
	case "oauthbearer":
		o.Mechanism = imapfetch.MechanismOAuthBearer
	default:
		return nil, fmt.Sprintf("unknown --auth %q: want auto, plain, login, xoauth2 or oauthbearer", f.auth)
	}
	if f.retries < 0 {
		return nil, "--retries must not be negative"
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
	return cfg, ""
}
