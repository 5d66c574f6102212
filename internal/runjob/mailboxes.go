package runjob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/dryrun"
	"github.com/bouncer-dev/bouncer/internal/metrics"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

// opened is a mailbox of the run, connected.
type opened struct {
	mb     *config.Source
	src    mailsource.Source
	source string         // pipeline.Options.Source
	dry    *dryrun.Source // counts the outcomes of a dry run
	// folders are the folders of an IMAP mailbox as the server names
	// them (placed in its namespace); nil for a Maildir.
	folders *imapfetch.Folders
	close   func()
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
// logs in). It returns those opened, also after an error. Of several
// mailboxes, one that cannot be opened (down, a refused login, a mailbox
// misnamed) is returned in failed and the others go on; the error is
// that of a single mailbox, or of the first when none opened.
func openSources(ctx context.Context, db *suppress.DB, cfg *Config) (out []*opened, failed []*mailboxError, err error) {
	for _, mb := range cfg.Mailboxes {
		o, err := openSource(ctx, db, mb)
		if err != nil {
			failed = append(failed, &mailboxError{mb: mb, err: err})
			if len(cfg.Mailboxes) == 1 || ctx.Err() != nil {
				return out, nil, failed[0]
			}
			continue
		}
		if cfg.DryRun {
			o.dry = dryrun.Wrap(o.src)
			o.src = o.dry
		}
		out = append(out, o)
	}
	if len(out) == 0 && len(failed) > 0 {
		return out, failed[1:], failed[0]
	}
	return out, failed, nil
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
	// The state key names the server, user and mailbox (no scheme, port
	// or secret); a state kept under the whole URL by an older bouncer is
	// carried over.
	src := pipeline.IMAP(f, db.SyncStateFor(f.URL().Key(), f.URL().LegacyKeys()...))
	names := imapfetch.Folders{Unrecognized: mb.UnrecognizedFolder}
	if mb.After == mailsource.ActionMove {
		names.Processed = mb.ProcessedFolder
	}
	folders := f.PlaceFolders(names, mb.IMAP.DefaultNamed)
	return &opened{mb: mb, src: src, source: "imap", folders: &folders, close: func() { f.Close() }}, nil
}

// runAll runs the job over every mailbox: one after the other, or all at
// once with --watch. A mailbox that fails does not stop the others; the
// first error is returned with the sum of the stats. With several
// mailboxes (several is set), the mailboxes that failed are returned in
// failed instead, and the error is that of an interruption only.
func runAll(ctx context.Context, db *suppress.DB, srcs []*opened, opts *pipeline.Options, several bool) (pipeline.Stats, []*mailboxError, error) {
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
		if d := opts.Push; d != nil && len(srcs) > 1 {
			// One delivery loop for all the runs, woken by their commits.
			shared := *opts
			shared.Push = nil
			onCommit := opts.OnCommit
			shared.OnCommit = func(ctx context.Context) {
				d.Notify()
				if onCommit != nil {
					onCommit(ctx)
				}
			}
			opts = &shared
			wg.Go(func() { d.Run(ctx) })
		}
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
	var failed []*mailboxError
	var canceled []error
	for _, err := range errs {
		var me *mailboxError
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = append(canceled, err)
		case several && errors.As(err, &me):
			failed = append(failed, me)
		default:
			return total, nil, err
		}
	}
	return total, failed, errors.Join(canceled...)
}

// addStats returns a + b.
func addStats(a, b pipeline.Stats) pipeline.Stats {
	sum := a.Add(b)
	sum.Push, sum.PushErr = addPush(a.Push, b.Push), errors.Join(a.PushErr, b.PushErr)
	return sum
}

// countFailed tells of mailboxes that failed while the others go on: a
// line each on stderr, and a metric each.
func countFailed(s *streams, cfg *Config, failed []*mailboxError) {
	for _, f := range failed {
		fmt.Fprintln(s.stderr, describeError(f, cfg))
		if cfg.Metrics != nil {
			cfg.Metrics.MailboxFailed(f.mb.Name)
		}
	}
}

// reportFailed tells of the mailboxes of a run of several that failed: a
// line each in the summary, and the line that ends the run (exit 1).
func reportFailed(s *streams, cfg *Config, failed []*mailboxError) int {
	if len(failed) == 0 {
		return exitOK
	}
	var names []string
	for _, f := range failed {
		names = append(names, strconv.Quote(f.mb.Name))
		fmt.Fprintf(s.stdout, "%s: failed: %s\n", mailboxName(f.mb), strings.TrimPrefix(describeError(f, cfg), "bouncer: "+mailboxName(f.mb)+": "))
	}
	return fail(s, fmt.Sprintf("bouncer: %d of %d mailboxes failed: %s; the others were done", len(failed), len(cfg.Mailboxes), strings.Join(names, ", ")))
}

// mailboxName names mb in the messages of a run of several mailboxes.
func mailboxName(mb *config.Source) string {
	return fmt.Sprintf("mailbox %q", mb.Name)
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
	cli.Info(s.stderr, fmt.Sprintf("bouncer: metrics at http://%s%s", addr, metrics.Path))
	for _, o := range srcs {
		o.src = cfg.Metrics.Source(o.src)
		name := o.mb.Name
		o.progress = func(st pipeline.Stats) { cfg.Metrics.Progress(name, st) }
	}
	return nil
}

// addPush returns a + b, nil when both are.
func addPush(a, b *push.Stats) *push.Stats {
	if a == nil || b == nil {
		return cmpOr(a, b)
	}
	return &push.Stats{Delivered: a.Delivered + b.Delivered, Retried: a.Retried + b.Retried, Failed: a.Failed + b.Failed,
		NotSubscriber: a.NotSubscriber + b.NotSubscriber, AlreadyBlocklisted: a.AlreadyBlocklisted + b.AlreadyBlocklisted,
		BelowThreshold: a.BelowThreshold + b.BelowThreshold, Allowed: a.Allowed + b.Allowed, Lifted: a.Lifted + b.Lifted,
		Uncertain: a.Uncertain + b.Uncertain, Errors: append(append([]error(nil), a.Errors...), b.Errors...)}
}

func cmpOr(a, b *push.Stats) *push.Stats {
	if a != nil {
		return a
	}
	return b
}
