package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/bouncer-dev/bouncer/internal/termlog"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

const (
	// Folders that receive the messages once they are recorded (IMAP
	// mailboxes; for a Maildir, the Maildir++ folders ".NAME").
	defaultProcessedFolder    = mailsource.DefaultProcessedFolder
	defaultUnrecognizedFolder = config.DefaultUnrecognizedFolder
	// defaultFetchBatch is the number of messages per UID FETCH, committed
	// together and then moved with one MOVE.
	defaultFetchBatch = 500
	// slowEnv names a hidden environment variable, for tests only: a
	// pause after each message is recorded, so that a test can kill a run
	// in the middle.
	slowEnv = "BOUNCER_TEST_SLOW"
	// passwordEnv is the environment variable that may hold the password.
	passwordEnv = config.PasswordEnv
)

// runEnv names the flags of bouncer run that have an environment variable
// fallback (see cli.ApplyEnv). The password has no flag at all: it would show
// in process lists.
var runEnv = []string{"imap", "maildir", "password-file", "oauth-token-file", "ca-file", "state", "out", "out-dir", "format", "after", "rules",
	"push", "push-secret-file", "push-soft", "verp-key-file", "our-domains", "require-proof",
	"log-format", "oauth-credentials", "metrics", "config"}

// afterMove is the default of --after.
const afterMove = mailsource.ActionMove

// runCommand is bouncer run.
func runCommand(s *streams, args []string) int {
	f := newRunFlags(s)
	env, code, ok := parseWithEnv(s, "run", f.fs, args, runEnv)
	if !ok {
		return code
	}
	fail := usageError(s, "run", env)
	cfg, msg := f.config(env)
	if msg != "" {
		return fail("%s", msg)
	}
	cfg.Env = env
	if msg := f.ops.apply(cfg, f); msg != "" {
		return fail("%s", msg)
	}
	logFormat, err := cli.ParseLogFormat(f.ops.logFormat)
	if err != nil {
		return fail("%v", err)
	}
	// Reconnections, UIDVALIDITY changes and messages that hit a limit
	// are worth a line on stderr.
	logger, stderr := cli.NewLogger(s.stderr, logFormat, termlog.NewHandler(s.stderr))
	cfg.SetLogger(logger)
	if d, err := time.ParseDuration(os.Getenv(slowEnv)); err == nil {
		cfg.Pipe.Delay = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runjob.Run(ctx, cfg, s.stdout, stderr)
}

// config checks the flags (and the --config file) and returns the run
// they describe, or the problem with them.
func (f *runFlags) config(env cli.Env) (*runjob.Config, string) {
	cfg := &runjob.Config{
		Pipe: pipeline.Options{
			Workers:   f.limits.workers,
			DSN:       f.limits.dsn,
			BatchSize: f.batch,
			BatchTime: f.batchTime,
			Watch:     f.watch,
			Poll:      f.poll,
		},
	}
	common := &config.Common{Poll: f.poll, Retries: f.retries, FetchBatch: f.fetchBatch, MaxFetchBytes: f.maxFetchBytes}
	if err := common.Check(); err != nil {
		return nil, err.Error()
	}
	if f.batch < 1 || f.batchTime <= 0 {
		return nil, "--batch must be at least 1, --batch-time positive"
	}
	if f.after == string(afterMove) && f.processedFolder == "" {
		return nil, "--after move needs a --processed-folder"
	}
	if err := f.limits.check(); err != nil {
		return nil, err.Error()
	}
	mailboxes, msg := f.mailboxes(cfg, env)
	if msg != "" {
		return nil, msg
	}
	if cfg.State == "" {
		return nil, "--state must not be empty"
	}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return nil, fmt.Sprintf("unknown --format %q: want one of %s", f.format, formatNames())
	}
	cfg.Format = format
	if cfg.Policy, err = f.policy.policy(); err != nil {
		return nil, err.Error()
	}
	if msg := cfg.SetWire(f.wire()); msg != "" {
		return nil, msg
	}
	if f.rules != "" {
		c, err := pipeline.LoadRules(f.rules)
		if err != nil {
			return nil, err.Error()
		}
		cfg.Pipe.Classify = c
	}
	for i := range mailboxes {
		src, err := mailboxes[i].Source(common)
		if err != nil {
			return nil, err.Error()
		}
		cfg.Mailboxes = append(cfg.Mailboxes, src)
	}
	return cfg, ""
}

// mailboxes returns the mailboxes of the run: the --config file's, with
// the flags given over it (config.File.Merge), or the one of the flags;
// it sets the state and lists of cfg.
func (f *runFlags) mailboxes(cfg *runjob.Config, env cli.Env) ([]config.Mailbox, string) {
	set := make(map[string]bool)
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for name := range env {
		set[name] = true
	}
	cmd := &config.File{State: f.state, Out: f.out, OutDir: f.outDir, Format: f.format, Push: f.push,
		PushSecretFile: f.pushSecretFile, Mailboxes: []config.Mailbox{{
			IMAP: f.imap, Maildir: f.maildir, PasswordFile: f.passwordFile, OAuthTokenFile: f.oauthTokenFile,
			OAuthCredentials: f.ops.oauthCredentials, CAFile: f.caFile, InsecurePlaintext: f.insecurePlaintext, Auth: f.auth,
			After: f.after, ProcessedFolder: f.processedFolder, UnrecognizedFolder: &f.unrecognizedFolder}}}
	var file *config.File
	if f.ops.config != "" {
		var err error
		if file, err = config.Load(f.ops.config); err != nil {
			return nil, "--config: " + oneLine(err)
		}
	} else if f.imap == "" && f.maildir == "" {
		return nil, "no mailbox: give --imap URL, --maildir DIR or --config FILE (or $BOUNCER_IMAP); see bouncer help run"
	}
	run := file.Merge(cmd, set)
	cfg.State, cfg.Out, cfg.OutDir, f.format = run.State, run.Out, run.OutDir, run.Format
	f.push, f.pushSecretFile = run.Push, run.PushSecretFile
	return run.Mailboxes, ""
}
