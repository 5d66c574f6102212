package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/bouncer-dev/bouncer/internal/history"
	"github.com/bouncer-dev/bouncer/suppress"
)

// pruneFlags are the flags of bouncer prune.
type pruneFlags struct {
	fs *flag.FlagSet
	stateFlags
	olderThan string
	before    string
	policy    policyFlags
}

func newPruneFlags(s *streams) *pruneFlags {
	f := &pruneFlags{fs: flag.NewFlagSet("prune", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.fs.StringVar(&f.olderThan, "older-than", "", "prune the events older than `DURATION` back from now (400d, 52w)")
	f.fs.StringVar(&f.before, "before", "", "prune the events dated before `DATE` (2006-01-02 or RFC 3339) instead")
	f.policy.register(f.fs)
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer prune (--older-than DURATION | --before DATE) [--state FILE]

Remove old events from the state without changing who is suppressed: a
suppressed address keeps a summary of its pruned events (category, latest
reason, first and last dates, count), which the lists and bouncer why use
as they used the events. Soft bounces still inside --soft-window are kept,
and so are events not yet pushed. The messages stay recorded by hash, so a
rerun over the same mailbox does not bring the events back. bouncer run
--retain DURATION does the same when a run starts. Safe while bouncer run
--watch works the same state.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable or not writable)")
		f.fs.PrintDefaults()
	}
	return f
}

// pruneCommand is bouncer prune.
func pruneCommand(s *streams, args []string) int {
	f := newPruneFlags(s)
	rest, form, env, code, ok := parseHistoryArgs(s, "prune", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	fail := usageError(s, "prune", env)
	if len(rest) > 0 {
		return fail("unexpected argument %q", rest[0])
	}
	pol, err := f.policy.policy()
	if err != nil {
		return fail("%v", err)
	}
	var before time.Time
	switch {
	case (f.olderThan == "") == (f.before == ""):
		return fail("give --older-than or --before")
	case f.before != "":
		if before, err = time.Parse(time.DateOnly, f.before); err != nil {
			if before, err = time.Parse(time.RFC3339, f.before); err != nil {
				return fail("bad --before %q: want a date (2006-01-02) or an RFC 3339 time", f.before)
			}
		}
	default:
		d, err := parseRetain("--older-than", f.olderThan)
		if err != nil {
			return fail("%v", err)
		}
		before = time.Now().Add(-d)
	}
	db, ok := openHistory(s, "prune", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	rep, err := db.Prune(context.Background(), suppress.PruneRequest{Before: before, Policy: pol})
	if err != nil {
		return failed(s, "prune", err)
	}
	if err := history.WritePrune(s.stdout, rep, form); err != nil {
		return failed(s, "prune", err)
	}
	return exitOK
}

// parseRetain parses the retention of --retain and --older-than: a
// positive duration such as 400d, 52w or 9600h; "" is none.
func parseRetain(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := suppress.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad %s %q: want a positive duration such as 400d, 52w or 9600h", name, v)
	}
	return d, nil
}
