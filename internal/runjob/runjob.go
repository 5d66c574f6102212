// Package runjob is the job of bouncer run over the mailboxes of a
// Config: it opens and locks the state (a copy for a dry run), connects to
// every mailbox before it touches one, runs pipeline.Run over each (one
// after the other, or all at once with --watch), writes the lists, and
// tells the operator: a summary on stdout, each problem in one line on
// stderr, worded by its kind.
package runjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/dryrun"
	"github.com/bouncer-dev/bouncer/internal/metrics"
	"github.com/bouncer-dev/bouncer/internal/termlog"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/oauth"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Config is a checked bouncer run: its mailboxes, state and lists.
type Config struct {
	Mailboxes   []*config.Source
	State       string
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
// stderr).
func Run(ctx context.Context, cfg *Config, stdout, stderr io.Writer) int {
	return doRun(ctx, &streams{stdout: stdout, stderr: stderr}, cfg)
}

// doRun runs cfg and returns the exit status. Everything that can fail is
// checked before a mailbox is touched: the state opens and is not in use,
// the lists can be written, every server logs in.
func doRun(ctx context.Context, s *streams, cfg *Config) int {
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
	before, err := db.Lists(ctx, cfg.Policy, nil)
	if err != nil {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.State, oneLine(err)))
	}
	srcs, err := openSources(ctx, db, cfg)
	defer func() {
		for _, o := range srcs {
			o.close()
		}
	}()
	if err != nil {
		return fail(s, describeError(err, cfg))
	}

	pipe := cfg.Pipe
	prog := termlog.NewProgress(s.stderr)
	pipe.Progress = prog.Update
	if pipe.Watch && (cfg.Out != "" || cfg.OutDir != "") {
		// In --watch mode the lists are written now, then after each
		// batch that recorded something.
		write := func(ctx context.Context) {
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
	if err := startMetrics(ctx, s, cfg, srcs); err != nil {
		return fail(s, "bouncer: "+cfg.Env.Explain(oneLine(err)))
	}
	st, runErr := runAll(ctx, db, srcs, &pipe)
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
	if code := finish(context.WithoutCancel(ctx), s, cfg, db, st, before, srcs); code != exitOK {
		return code
	}
	switch {
	case interrupted:
		return fail(s, "bouncer: interrupted; what was recorded is kept, run again to go on")
	case runErr != nil:
		return fail(s, describeError(runErr, cfg))
	}
	return exitOK
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
func finish(ctx context.Context, s *streams, cfg *Config, db *suppress.DB, st pipeline.Stats, before suppress.Lists, srcs []*opened) int {
	if cfg.DryRun {
		after, err := db.Lists(ctx, cfg.Policy, nil)
		if err != nil {
			return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.State, oneLine(err)))
		}
		summary(s.stdout, cfg, st, before, after, nil)
		dryRunReport(s.stdout, cfg, srcs)
		return exitOK
	}
	after, files, err := db.WriteLists(ctx, cfg.Policy, cfg.Format, cfg.Out, cfg.OutDir)
	if err != nil && !errors.Is(err, suppress.ErrWriteList) {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.State, oneLine(err)))
	}
	summary(s.stdout, cfg, st, before, after, files)
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
		fmt.Fprintf(s.stderr, "bouncer: another bouncer is already running on the state %s; try again when it is done\n", cfg.State)
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
	if o.SecretFile != "" {
		if fi, err := os.Stat(o.SecretFile); err == nil && fi.Mode().Perm()&0o044 != 0 {
			fmt.Fprintf(w, "bouncer: warning: %s is readable by others (mode %04o); chmod 600 it\n", o.SecretFile, fi.Mode().Perm())
		}
	}
}

// opened is a mailbox of the run, connected.
type opened struct {
	mb     *config.Source
	src    mailsource.Source
	source string         // pipeline.Options.Source
	dry    *dryrun.Source // counts the outcomes of a dry run
	close  func()
	// progress, if set, also gets the running totals (the metrics).
	progress func(pipeline.Stats)
}

// mailboxError is an error of one mailbox of the run.
type mailboxError struct {
	mb  *config.Source
	err error
}

func (e *mailboxError) Error() string { return e.err.Error() }
func (e *mailboxError) Unwrap() error { return e.err }

// openSources connects to every mailbox of cfg (for IMAP: connects and
// logs in). It returns those opened, also after an error.
func openSources(ctx context.Context, db *suppress.DB, cfg *Config) ([]*opened, error) {
	var out []*opened
	for _, mb := range cfg.Mailboxes {
		o, err := openSource(ctx, db, mb)
		if err != nil {
			return out, &mailboxError{mb: mb, err: err}
		}
		if cfg.DryRun {
			o.dry = dryrun.Wrap(o.src)
			o.src = o.dry
		}
		out = append(out, o)
	}
	return out, nil
}

// openSource connects to the mailbox mb.
func openSource(ctx context.Context, db *suppress.DB, mb *config.Source) (*opened, error) {
	if mb.Maildir != "" {
		md, err := mailsource.OpenMaildir(mb.Maildir, &mb.MaildirOpts)
		if err != nil {
			return nil, err
		}
		return &opened{mb: mb, src: md, source: "maildir:" + md.Dir(), close: func() {}}, nil
	}
	f, err := imapfetch.Dial(ctx, mb.IMAPURL, &mb.IMAP)
	if err != nil {
		return nil, err
	}
	// The state key is the URL: server, user and mailbox, no secret.
	src := pipeline.IMAP(f, db.SyncStateFor(f.URL().String()))
	return &opened{mb: mb, src: src, source: "imap", close: func() { f.Close() }}, nil
}

// runAll runs the job over every mailbox: one after the other, or all at
// once with --watch. A mailbox that fails does not stop the others; the
// first error is returned with the sum of the stats.
func runAll(ctx context.Context, db *suppress.DB, srcs []*opened, opts *pipeline.Options) (pipeline.Stats, error) {
	stats := make([]pipeline.Stats, len(srcs))
	errs := make([]error, len(srcs))
	one := func(i int) {
		o := *opts
		o.Source = srcs[i].source
		if p := srcs[i].progress; p != nil {
			o.Progress = func(st pipeline.Stats) {
				p(st)
				if opts.Progress != nil {
					opts.Progress(st)
				}
			}
		}
		stats[i], errs[i] = pipeline.Run(ctx, db, srcs[i].src, &o)
		if errs[i] != nil {
			errs[i] = &mailboxError{mb: srcs[i].mb, err: errs[i]}
		}
	}
	if opts.Watch {
		var wg sync.WaitGroup
		for i := range srcs {
			wg.Go(func() { one(i) })
		}
		wg.Wait()
	} else {
		for i := range srcs {
			one(i)
		}
	}
	var total pipeline.Stats
	for _, st := range stats {
		total = addStats(total, st)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return total, err
		}
	}
	return total, errors.Join(errs...)
}

// addStats returns a + b.
func addStats(a, b pipeline.Stats) pipeline.Stats {
	events := make(map[classify.Category]int)
	for c, n := range a.Events {
		events[c] += n
	}
	for c, n := range b.Events {
		events[c] += n
	}
	return pipeline.Stats{Messages: a.Messages + b.Messages, Already: a.Already + b.Already, Bounces: a.Bounces + b.Bounces,
		NotBounces: a.NotBounces + b.NotBounces, Unrecognized: a.Unrecognized + b.Unrecognized, Incomplete: a.Incomplete + b.Incomplete,
		Failed: a.Failed + b.Failed, Skipped: a.Skipped + b.Skipped, Unconfirmed: a.Unconfirmed + b.Unconfirmed,
		Unverified: a.Unverified + b.Unverified, Events: events}
}

// mailboxName names mb in the messages of a run of several mailboxes.
func mailboxName(mb *config.Source) string {
	return fmt.Sprintf("mailbox %q", mb.Name)
}

// summary prints what the run did.
func summary(w io.Writer, cfg *Config, st pipeline.Stats, before, after suppress.Lists, files []string) {
	st.Summary(w)
	after.Summary(w, before, 20)
	for _, f := range files {
		if cfg.SummaryPath {
			if abs, err := filepath.Abs(f); err == nil {
				f = abs
			}
		}
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	if len(files) == 0 && !cfg.DryRun {
		fmt.Fprintf(w, "no list written (no --out or --out-dir); bouncer export --state %s writes it from the state\n", cfg.State)
	}
}

// dryRunReport says what a dry run would have done with the messages and
// the lists.
func dryRunReport(w io.Writer, cfg *Config, srcs []*opened) {
	for _, o := range srcs {
		fmt.Fprint(w, "dry run: ")
		if len(srcs) > 1 {
			fmt.Fprintf(w, "%s: ", mailboxName(o.mb))
		}
		switch o.mb.After {
		case mailsource.ActionMove:
			fmt.Fprintf(w, "would move %d bounces to %s", o.dry.Moves.Processed, o.mb.ProcessedFolder)
		case mailsource.ActionSeen:
			fmt.Fprintf(w, "would mark %d bounces as seen", o.dry.Moves.Processed)
		case mailsource.ActionDelete:
			fmt.Fprintf(w, "would delete %d bounces", o.dry.Moves.Processed)
		default:
			fmt.Fprintf(w, "would leave %d bounces in place", o.dry.Moves.Processed)
		}
		if o.mb.UnrecognizedFolder != "" {
			fmt.Fprintf(w, ", move %d others to %s\n", o.dry.Moves.Unrecognized, o.mb.UnrecognizedFolder)
		} else {
			fmt.Fprintf(w, ", leave %d others in place\n", o.dry.Moves.Unrecognized)
		}
	}
	for _, f := range []string{cfg.Out, cfg.OutDir} {
		if f != "" {
			fmt.Fprintf(w, "dry run: would write %s\n", f)
		}
	}
	fmt.Fprintf(w, "dry run: nothing was changed: not the state %s, the mailbox, the lists, nor any push target\n", cfg.State)
}

// diskFull words a state or list that cannot be written for lack of space.
const diskFull = "disk full: the state %s or the lists cannot be written (%s); free some space and run again: what was recorded is kept, and nothing was moved that was not recorded"

// describeError turns an error of a run into one line for stderr.
func describeError(err error, cfg *Config) string {
	switch {
	case errors.Is(err, suppress.ErrDiskFull), errors.Is(err, syscall.ENOSPC):
		return "bouncer: " + fmt.Sprintf(diskFull, cfg.State, oneLine(err))
	case errors.Is(err, suppress.ErrReadOnly):
		return fmt.Sprintf("bouncer: the state is read-only: %s; bouncer run must be able to write it and its folder", oneLine(err))
	}
	prefix, url := "bouncer: ", ""
	var me *mailboxError
	if errors.As(err, &me) {
		url = me.mb.IMAPURL
		if len(cfg.Mailboxes) > 1 {
			prefix += mailboxName(me.mb) + ": "
		}
	}
	var e *imapfetch.Error
	if !errors.As(err, &e) {
		return prefix + oneLine(err)
	}
	return prefix + "imap: " + describeIMAP(err, e, url)
}

// describeIMAP words an error of the mailbox by its kind.
func describeIMAP(err error, e *imapfetch.Error, url string) string {
	var who string
	if u, perr := imapfetch.ParseURL(url); perr == nil {
		who = u.User + "@" + u.Host
	}
	detail := ""
	if e.Err != nil {
		detail = oneLine(e.Err)
	}
	if e.Op != "" {
		detail = e.Op + ": " + detail
	}
	if rest, ok := strings.CutPrefix(oneLine(err), e.Error()); ok {
		detail += rest // what was added around it, e.g. "(gave up after 6 attempts)"
	}
	switch e.Kind {
	case imapfetch.KindAuth:
		return fmt.Sprintf("login failed for %s: %s", who, detail)
	case imapfetch.KindToken:
		if errors.Is(err, oauth.ErrInvalidGrant) || errors.Is(err, oauth.ErrFile) {
			detail += "; run bouncer auth --oauth-credentials FILE"
		}
		return fmt.Sprintf("no OAuth2 token for %s: %s", who, detail)
	case imapfetch.KindCertificate:
		return fmt.Sprintf("the certificate of %s is not trusted (see --ca-file): %s", e.Addr, detail)
	case imapfetch.KindTLSRequired:
		return fmt.Sprintf("%s offers no STARTTLS (use imaps://, or --insecure-plaintext on a trusted network): %s", e.Addr, detail)
	case imapfetch.KindSecret:
		return fmt.Sprintf("cannot read the password: %s", detail)
	case imapfetch.KindMailbox:
		return fmt.Sprintf("cannot open mailbox %q: %s", e.Mailbox, detail)
	case imapfetch.KindUnreachable:
		return fmt.Sprintf("cannot reach %s: %s", e.Addr, detail)
	case imapfetch.KindDisconnected:
		return fmt.Sprintf("lost the connection to %s: %s", e.Addr, detail)
	case imapfetch.KindTimeout:
		return fmt.Sprintf("%s does not answer: %s", e.Addr, detail)
	case imapfetch.KindRefused:
		what := e.Op
		if e.Mailbox != "" {
			what += fmt.Sprintf(" %q", e.Mailbox)
		}
		return fmt.Sprintf("%s refused %s for good: %s", e.Addr, what, strings.TrimPrefix(detail, e.Op+": "))
	case imapfetch.KindOptions:
		return detail
	}
	return strings.TrimPrefix(oneLine(err), "imapfetch: ")
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// startMetrics serves cfg's metrics, if any, and has pipe count into
// them.
func startMetrics(ctx context.Context, s *streams, cfg *Config, srcs []*opened) error {
	if cfg.Metrics == nil {
		return nil
	}
	addr, _, err := cfg.Metrics.Serve(ctx, cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics %s: %w", cfg.MetricsAddr, err)
	}
	fmt.Fprintf(s.stderr, "bouncer: metrics at http://%s%s\n", addr, metrics.Path)
	for _, o := range srcs {
		o.src = cfg.Metrics.Source(o.src)
		name := o.mb.Name
		o.progress = func(st pipeline.Stats) { cfg.Metrics.Progress(name, st) }
	}
	return nil
}
