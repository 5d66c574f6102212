package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/bouncer-dev/bouncer/internal/history"
	"github.com/bouncer-dev/bouncer/suppress"
)

// statsFlags are the flags of bouncer stats.
type statsFlags struct {
	fs *flag.FlagSet
	stateFlags
	since  string
	by     string
	policy policyFlags
}

func newStatsFlags(s *streams) *statsFlags {
	f := &statsFlags{fs: flag.NewFlagSet("stats", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.fs.StringVar(&f.since, "since", "", "count the events on or after `DATE` (2006-01-02, RFC 3339, or a duration back from the latest bounce: 7d)")
	f.fs.StringVar(&f.by, "by", string(suppress.StatsByCategory), "group the main table by `KEY`: day, category, reason or domain")
	f.policy.register(f.fs)
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer stats [--since DATE] [--by day|category|reason|domain] [--state FILE] [--format text|json]

Count the failures of the history (events and distinct addresses) by
category and reason, and by --by; the policy blocks by receiving domain
and provider (the deliverability view: which providers refuse the
sender); and the suppression list's size over time.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable)")
		f.fs.PrintDefaults()
	}
	return f
}

// statsCommand is bouncer stats.
func statsCommand(s *streams, args []string) int {
	f := newStatsFlags(s)
	rest, form, env, code, ok := parseHistoryArgs(s, "stats", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	fail := usageError(s, "stats", env)
	if len(rest) > 0 {
		return fail("unexpected argument %q", rest[0])
	}
	by, err := suppress.ParseStatsBy(f.by)
	if err != nil {
		return fail("unknown --by %q: want day, category, reason or domain", f.by)
	}
	pol, err := f.policy.policy()
	if err != nil {
		return fail("%v", err)
	}
	q := suppress.StatsQuery{By: by, Policy: pol}
	var back time.Duration
	if f.since != "" {
		if q.Since, back, err = suppress.ParseSince(f.since); err != nil {
			return fail("%v", err)
		}
	}
	db, ok := openHistory(s, "stats", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	ctx := context.Background()
	rep, err := db.Stats(ctx, q)
	if err == nil && back > 0 {
		q.Since = rep.Now.Add(-back)
		rep, err = db.Stats(ctx, q)
	}
	if err != nil {
		return failed(s, "stats", err)
	}
	if err := history.WriteStats(s.stdout, rep, form); err != nil {
		return failed(s, "stats", err)
	}
	return exitOK
}
