// Package runjob is the job of bouncer run over the mailboxes of a
// Config: it opens and locks the state (a copy for a dry run), connects to
// every mailbox before it touches one, runs pipeline.Run over each (one
// after the other, or all at once with --watch), writes the lists, and
// tells the operator: a summary on stdout, each problem in one line on
// stderr, worded by its kind.
package runjob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/bouncer-dev/bouncer/internal/secretfile"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/dryrun"
	"github.com/bouncer-dev/bouncer/internal/metrics"
	"github.com/bouncer-dev/bouncer/internal/termlog"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Config is a checked bouncer run: its mailboxes, state and lists.
type Config struct {
	// Mailboxes are read one after the other, or all at once with
	// Pipe.Watch; each IMAP mailbox keeps its cursor in the state under
	// its URL.
	Mailboxes []*config.Source
	State     string // the state file (suppress.Open)
	// Out and OutDir, if set, receive the lists (suppress.DB.WriteLists)
	// in Format.
	Out         string
	OutDir      string
	Format      suppress.Format
	Policy      *suppress.Policy
	Pipe        pipeline.Options
	SummaryPath bool    // print the absolute path of the lists
	Env         cli.Env // the flags set from the environment, for errors
	DryRun      bool    // change nothing (--dry-run)
	// Metrics, if set, are served at MetricsAddr (--metrics).
	Metrics     *metrics.Metrics
	MetricsAddr string
	// Push are the push targets of the events, their secrets in
	// PushSecretFile.
	Push           []push.Target
	PushSecretFile string
	PushInsecure   bool // push.Options.AllowInsecure
	// Retain, if positive, prunes the events older than it when the run
	// starts (suppress.DB.Prune; not in a dry run).
	Retain time.Duration
	// PushSoft says how soft bounces reach listmonk (push.Options.Soft).
	PushSoft push.SoftMode
	// Warnings are told on stderr when the run starts (a BATV key Exim
	// cannot use).
	Warnings []string
	// LockWait is how long Ingest waits for the state's lock; default
	// DefaultLockWait. Run does not wait: a second run fails at once.
	LockWait time.Duration
	// KeepUnrecognized is a Maildir into which Ingest keeps a copy of a
	// message it records as unrecognized (not a bounce, unreadable, over a
	// cap, a flood): the one place it survives, as run's unrecognized
	// folder. Empty: no copy.
	KeepUnrecognized string
}

// Exit statuses of Run.
const (
	exitOK     = 0 // done
	exitFailed = 1 // failed, told on stderr
)

// streams are where the run tells the operator.
type streams struct {
	stdout io.Writer
	stderr io.Writer
}

// Run runs cfg and returns the exit status: 0 done, 1 failed (told on
// stderr). A dry run (Config.DryRun) makes its mailboxes read-only
// (config.Source.ReadOnly).
func Run(ctx context.Context, cfg *Config, stdout, stderr io.Writer) int {
	if cfg.DryRun {
		for _, mb := range cfg.Mailboxes {
			mb.ReadOnly()
		}
	}
	return doRun(ctx, &streams{stdout: stdout, stderr: stderr}, cfg)
}

// SetLogger has the run log to l: the mailboxes, the job and the push;
// with Config.Metrics, what is logged is counted too (metrics.Handler).
func (cfg *Config) SetLogger(l *slog.Logger) {
	if cfg.Metrics != nil {
		l = slog.New(cfg.Metrics.Handler(l.Handler()))
	}
	for _, mb := range cfg.Mailboxes {
		mb.IMAP.Logger = l
	}
	cfg.Pipe.Logger = l
}

// doRun runs cfg and returns the exit status. Everything that can fail is
// checked before a mailbox is touched: the state opens and is not in use,
// the lists can be written, every server logs in.
func doRun(ctx context.Context, s *streams, cfg *Config) int {
	for _, w := range cfg.Warnings {
		fmt.Fprintf(s.stderr, "bouncer: warning: %s\n", w)
	}
	for _, mb := range cfg.Mailboxes {
		warnSecret(s.stderr, &mb.IMAP)
	}
	db, closeDB, code := openState(ctx, s, cfg)
	if db == nil {
		return code
	}
	defer closeDB()
	if !cfg.DryRun {
		if err := suppress.CheckWritable(cfg.Out, cfg.OutDir); err != nil {
			return fail(s, describeError(err, cfg))
		}
	}
	pushed, err := openPush(ctx, db, cfg, true)
	if err != nil {
		return fail(s, "bouncer: "+oneLine(err))
	}
	if code := retain(ctx, s, cfg, db); code != exitOK {
		return code
	}
	before, err := db.Lists(ctx, cfg.Policy, nil)
	if err != nil {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", suppress.Redact(cfg.State), oneLine(err)))
	}
	srcs, failed, err := openSources(ctx, db, cfg)
	defer func() {
		for _, o := range srcs {
			o.close()
		}
	}()
	if err != nil {
		for _, f := range failed {
			fmt.Fprintln(s.stderr, describeError(f, cfg))
		}
		return fail(s, describeError(err, cfg))
	}

	warnNoProof(s.stderr, &cfg.Pipe)
	pipe := cfg.Pipe
	prog := termlog.NewProgress(s.stderr)
	pipe.Progress = prog.Update
	watchLists(ctx, s, cfg, db, &pipe)
	if err := startMetrics(ctx, s, cfg, srcs); err != nil {
		return fail(s, "bouncer: "+cfg.Env.Explain(oneLine(err)))
	}
	countFailed(s, cfg, failed) // the others go on
	st, runFailed, runErr := runAll(ctx, db, srcs, &pipe, len(cfg.Mailboxes) > 1)
	countFailed(s, cfg, runFailed)
	failed = append(failed, runFailed...)
	prog.Done()
	interrupted := errors.Is(runErr, context.Canceled) && ctx.Err() != nil
	if pipe.Watch && (interrupted || runErr == nil && ctx.Err() != nil) {
		runErr = nil // --watch ends with a signal
		interrupted = false
	}
	if runErr != nil && !interrupted && st.Messages == 0 && st.Failed == 0 {
		// Nothing was read: the error alone, and the lists are left as
		// they were.
		return fail(s, describeError(runErr, cfg))
	}
	if code := finish(context.WithoutCancel(ctx), s, cfg, db, st, before, srcs, pushed); code != exitOK {
		return code
	}
	switch {
	case len(failed) > 0 && !interrupted:
		return reportFailed(s, cfg, failed)
	case interrupted:
		return fail(s, "bouncer: interrupted; what was recorded is kept, run again to go on")
	case runErr != nil:
		return fail(s, describeError(runErr, cfg))
	}
	return exitOK
}

// watchLists has a --watch run write its lists now, then after each batch
// that recorded something (pipe.OnCommit).
func watchLists(ctx context.Context, s *streams, cfg *Config, db *suppress.DB, pipe *pipeline.Options) {
	if !pipe.Watch || (cfg.Out == "" && cfg.OutDir == "") {
		return
	}
	// The mailboxes of --config commit from goroutines of their own: the
	// writes go one at a time, each reading the state after the commit
	// that called it, so that a list read before another mailbox's
	// commit never replaces one read after it.
	var mu sync.Mutex
	write := func(ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if _, _, err := db.WriteLists(ctx, cfg.Policy, cfg.Format, cfg.Out, cfg.OutDir); err != nil {
			fmt.Fprintln(s.stderr, describeError(err, cfg))
			if cfg.Metrics != nil {
				cfg.Metrics.Error("lists")
			}
		}
	}
	write(ctx)
	pipe.OnCommit = write
}

// fail prints line on stderr and returns exitFailed.
func fail(s *streams, line string) int {
	fmt.Fprintln(s.stderr, line)
	return exitFailed
}

// finish writes the lists from what was committed, even after a failure
// (they are consistent with the state at any point), and prints the
// summary. A dry run writes nothing and says what it would have done
// (dry counts the outcomes).
func finish(ctx context.Context, s *streams, cfg *Config, db *suppress.DB, st pipeline.Stats, before suppress.Lists, srcs []*opened, pushed map[string]int) int {
	if cfg.DryRun {
		after, err := db.Lists(ctx, cfg.Policy, nil)
		if err != nil {
			return fail(s, fmt.Sprintf("bouncer: state %s: %v", suppress.Redact(cfg.State), oneLine(err)))
		}
		summary(s.stdout, cfg, st, before, after, nil, srcs)
		dryRunReport(ctx, s.stdout, cfg, db, srcs, pushed)
		return exitOK
	}
	after, files, err := db.WriteLists(ctx, cfg.Policy, cfg.Format, cfg.Out, cfg.OutDir)
	if err != nil && !errors.Is(err, suppress.ErrWriteList) {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", suppress.Redact(cfg.State), oneLine(err)))
	}
	if f := cfg.Pipe.UnverifiedFile; f != "" && st.Unverified+st.Unproven > 0 {
		files = append(files, f) // appended to
	}
	summary(s.stdout, cfg, st, before, after, files, srcs)
	if err != nil {
		return fail(s, describeError(err, cfg))
	}
	return exitOK
}

// openState opens and locks the state, or tells why it cannot and returns
// nil with the exit status. A dry run opens a copy (dryrun.CopyState),
// removed by the close function.
func openState(ctx context.Context, s *streams, cfg *Config) (*suppress.DB, func(), int) {
	path, cleanup := cfg.State, func() {}
	if cfg.DryRun && suppress.IsURL(cfg.State) {
		return nil, nil, fail(s, "bouncer: --dry-run records into a copy of the state: it needs a SQLite state file, not a shared database")
	}
	if cfg.DryRun {
		tmp, err := os.MkdirTemp("", "bouncer-dry-run-")
		if err == nil {
			cleanup = func() { os.RemoveAll(tmp) }
			path, err = dryrun.CopyState(cfg.State, tmp)
		}
		if err != nil {
			cleanup()
			return nil, nil, fail(s, "bouncer: "+cfg.Env.ExplainValue("state", oneLine(err)))
		}
	}
	db, err := suppress.Open(ctx, path, &suppress.Options{CreateFolder: !cfg.DryRun})
	if err == nil {
		if err = db.Lock(); err != nil {
			db.Close()
		}
	}
	switch {
	case errors.Is(err, suppress.ErrLocked):
		fmt.Fprintf(s.stderr, "bouncer: another bouncer is already running on the state %s; try again when it is done\n", suppress.Redact(cfg.State))
	case err != nil:
		fmt.Fprintln(s.stderr, "bouncer: "+cfg.Env.ExplainValue("state", strings.TrimPrefix(describeError(err, cfg), "bouncer: ")))
	default:
		return db, func() { db.Close(); cleanup() }, exitOK
	}
	cleanup()
	return nil, nil, exitFailed
}

// warnSecret warns of a password that other users or processes may read:
// a password file readable by group or others, the password in the
// environment.
func warnSecret(w io.Writer, o *imapfetch.Options) {
	if o.SecretEnv != "" {
		fmt.Fprintf(w, "bouncer: warning: the password is read from $%s, which every process of this user can read; prefer --password-file with mode 0600\n", o.SecretEnv)
	}
	if err := secretfile.CheckPath(o.SecretFile); o.SecretFile != "" && err != nil {
		fmt.Fprintf(w, "bouncer: warning: %v\n", err)
	}
}

// warnNoProof says, once per run, that no proof is configured, what that
// costs, and how to turn it on.
func warnNoProof(w io.Writer, o *pipeline.Options) {
	if o.Proof != nil {
		return
	}
	limit := "at most " + strconv.Itoa(cmp.Or(o.MaxSuppressPerMessage, pipeline.DefaultMaxSuppressPerMessage)) + " addresses"
	if o.MaxSuppressPerMessage < 0 {
		limit = "any number of addresses (--max-suppress-per-message -1)"
	}
	fmt.Fprintf(w, "bouncer: warning: no proof configured: a forged bounce can name any address, and one message suppresses %s; "+
		"sign your return paths (bouncer verp, then --verp-key-file FILE) or give --our-domains: see docs/security.md\n", limit)
}

// openPush registers the push targets with the state and reads their
// secrets, before a mailbox is touched, and with check asks the targets
// whether the credentials may do what the pushes do (push.Deliverer.Check).
// A dry run registers them with its copy of the state, to count what would
// be pushed, and delivers nothing: it returns the entries pending per
// target before the run.
func openPush(ctx context.Context, db *suppress.DB, cfg *Config, check bool) (map[string]int, error) {
	if len(cfg.Push) == 0 {
		return nil, nil
	}
	d, err := push.New(db, cfg.Push, &push.Options{SecretFile: cfg.PushSecretFile, AllowInsecure: cfg.PushInsecure, Logger: cfg.Pipe.Logger,
		Policy: cfg.Policy, Soft: cfg.PushSoft})
	if err != nil {
		return nil, err
	}
	if check {
		if err := d.Check(ctx); err != nil {
			return nil, err
		}
	}
	if !cfg.DryRun {
		cfg.Pipe.Push = d
		return nil, nil
	}
	return pendingPush(ctx, db, cfg)
}

// pendingPush counts the pending outbox entries of each push target.
func pendingPush(ctx context.Context, db *suppress.DB, cfg *Config) (map[string]int, error) {
	n := make(map[string]int)
	for _, t := range cfg.Push {
		c, err := db.OutboxCount(ctx, t.String())
		if err != nil {
			return nil, err
		}
		n[t.String()] = c.Pending
	}
	return n, nil
}

// retain prunes the events older than Config.Retain (not in a dry run)
// and says so on stdout.
func retain(ctx context.Context, s *streams, cfg *Config, db *suppress.DB) int {
	if cfg.Retain <= 0 || cfg.DryRun {
		return exitOK
	}
	rep, err := db.Prune(ctx, suppress.PruneRequest{Before: time.Now().Add(-cfg.Retain), Policy: cfg.Policy})
	if err != nil {
		return fail(s, fmt.Sprintf("bouncer: state %s: prune: %v", suppress.Redact(cfg.State), oneLine(err)))
	}
	if rep.Events > 0 {
		fmt.Fprintf(s.stdout, "pruned %d events older than %s (--retain); %d suppressed addresses keep a summary\n",
			rep.Events, rep.Before.Format(time.DateOnly), rep.Summaries)
	}
	return exitOK
}
