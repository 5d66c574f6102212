package runjob

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
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
		Unverified: a.Unverified + b.Unverified, Unproven: a.Unproven + b.Unproven, Events: events,
		Push: addPush(a.Push, b.Push), PushErr: errors.Join(a.PushErr, b.PushErr)}
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
	fmt.Fprintf(s.stderr, "bouncer: metrics at http://%s%s\n", addr, metrics.Path)
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
		BelowThreshold: a.BelowThreshold + b.BelowThreshold,
		Uncertain:      a.Uncertain + b.Uncertain, Errors: append(append([]error(nil), a.Errors...), b.Errors...)}
}

func cmpOr(a, b *push.Stats) *push.Stats {
	if a != nil {
		return a
	}
	return b
}
