package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/dryrun"
	"github.com/bouncer-dev/bouncer/internal/termlog"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// doRun runs cfg and returns the exit status. Everything that can fail is
// checked before a mailbox is touched: the state opens and is not in use,
// the lists can be written, every server logs in.
func doRun(ctx context.Context, s *streams, cfg *runConfig) int {
	for _, mb := range cfg.mailboxes {
		warnSecret(s.stderr, &mb.IMAP)
	}
	db, closeDB, code := openState(ctx, s, cfg)
	if db == nil {
		return code
	}
	defer closeDB()
	if !cfg.dryRun {
		if err := suppress.CheckWritable(cfg.out, cfg.outDir); err != nil {
			return fail(s, describeError(err, cfg))
		}
	}
	before, err := db.Lists(ctx, cfg.policy, nil)
	if err != nil {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.state, oneLine(err)))
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

	pipe := cfg.pipe
	prog := termlog.NewProgress(s.stderr)
	pipe.Progress = prog.Update
	if pipe.Watch && (cfg.out != "" || cfg.outDir != "") {
		// In --watch mode the lists are written now, then after each
		// batch that recorded something.
		write := func(ctx context.Context) {
			if _, _, err := db.WriteLists(ctx, cfg.policy, cfg.format, cfg.out, cfg.outDir); err != nil {
				fmt.Fprintln(s.stderr, describeError(err, cfg))
				if cfg.metrics != nil {
					cfg.metrics.Error("lists")
				}
			}
		}
		write(ctx)
		pipe.OnCommit = write
	}
	if err := startMetrics(ctx, s, cfg, srcs); err != nil {
		return fail(s, "bouncer: "+cfg.env.Explain(oneLine(err)))
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

// fail prints line on stderr and returns exitError.
func fail(s *streams, line string) int {
	fmt.Fprintln(s.stderr, line)
	return exitError
}

// finish writes the lists from what was committed, even after a failure
// (they are consistent with the state at any point), and prints the
// summary. A dry run writes nothing and says what it would have done
// (dry counts the outcomes).
func finish(ctx context.Context, s *streams, cfg *runConfig, db *suppress.DB, st pipeline.Stats, before suppress.Lists, srcs []*opened) int {
	if cfg.dryRun {
		after, err := db.Lists(ctx, cfg.policy, nil)
		if err != nil {
			return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.state, oneLine(err)))
		}
		summary(s.stdout, cfg, st, before, after, nil)
		dryRunReport(s.stdout, cfg, srcs)
		return exitOK
	}
	after, files, err := db.WriteLists(ctx, cfg.policy, cfg.format, cfg.out, cfg.outDir)
	if err != nil && !errors.Is(err, suppress.ErrWriteList) {
		return fail(s, fmt.Sprintf("bouncer: state %s: %v", cfg.state, oneLine(err)))
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
func openState(ctx context.Context, s *streams, cfg *runConfig) (*suppress.DB, func(), int) {
	path, cleanup := cfg.state, func() {}
	if cfg.dryRun {
		tmp, err := os.MkdirTemp("", "bouncer-dry-run-")
		if err == nil {
			cleanup = func() { os.RemoveAll(tmp) }
			path, err = dryrun.CopyState(cfg.state, tmp)
		}
		if err != nil {
			cleanup()
			return nil, nil, fail(s, "bouncer: "+cfg.env.ExplainValue("state", oneLine(err)))
		}
	}
	db, err := suppress.Open(ctx, path, &suppress.Options{CreateFolder: !cfg.dryRun})
	if err == nil {
		if err = db.Lock(); err != nil {
			db.Close()
		}
	}
	switch {
	case errors.Is(err, suppress.ErrLocked):
		fmt.Fprintf(s.stderr, "bouncer: another bouncer is already running on the state %s; try again when it is done\n", cfg.state)
	case err != nil:
		fmt.Fprintln(s.stderr, "bouncer: "+cfg.env.ExplainValue("state", strings.TrimPrefix(describeError(err, cfg), "bouncer: ")))
	default:
		return db, func() { db.Close(); cleanup() }, exitOK
	}
	cleanup()
	return nil, nil, exitError
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
