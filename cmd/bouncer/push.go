package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/bouncer-dev/bouncer/internal/history"
)

// pushFlags are the flags of bouncer push.
type pushFlags struct {
	fs *flag.FlagSet
	stateFlags
	status  bool
	requeue bool
	target  string
}

func newPushFlags(s *streams) *pushFlags {
	f := &pushFlags{fs: flag.NewFlagSet("push", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.fs.BoolVar(&f.status, "status", false, "print each push target's queue: pending, uncertain, delivered, failed, and the last failure")
	f.fs.BoolVar(&f.requeue, "requeue-failed", false, "queue the failed entries again (after fixing a token or URL); the next run delivers them")
	f.fs.StringVar(&f.target, "target", "", "with --requeue-failed, only the target `NAME` as --status prints it (default: every target)")
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer push --status [--state FILE] [--format text|json]
       bouncer push --requeue-failed [--target NAME] [--state FILE]

Show the push queues of the state (the events bouncer run --push delivers
to listmonk, Mautic or a webhook), or queue the failed ones again.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable or not writable)")
		f.fs.PrintDefaults()
	}
	return f
}

// pushCommand is bouncer push.
func pushCommand(s *streams, args []string) int {
	f := newPushFlags(s)
	rest, form, env, code, ok := parseHistoryArgs(s, "push", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	fail := usageError(s, "push", env)
	switch {
	case len(rest) > 0:
		return fail("unexpected argument %q", rest[0])
	case f.status == f.requeue:
		return fail("give --status or --requeue-failed")
	case f.target != "" && !f.requeue:
		return fail("--target goes with --requeue-failed")
	}
	db, ok := openHistory(s, "push", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	ctx := context.Background()
	ts, err := db.OutboxStatus(ctx)
	if err != nil {
		return failed(s, "push", err)
	}
	if f.status {
		if err := history.WriteOutbox(s.stdout, ts, form); err != nil {
			return failed(s, "push", err)
		}
		return exitOK
	}
	var done []history.Requeued
	found := f.target == ""
	for _, t := range ts {
		if f.target != "" && t.Target != f.target {
			continue
		}
		found = true
		n, err := db.RequeueFailed(ctx, t.Target)
		if err != nil {
			return failed(s, "push", err)
		}
		if n > 0 {
			done = append(done, history.Requeued{Target: t.Target, Entries: n})
		}
	}
	if !found {
		fmt.Fprintf(s.stderr, "bouncer push: no target %q in the state; see bouncer push --status\n", f.target)
		return exitError
	}
	if err := history.WriteRequeued(s.stdout, done, form); err != nil {
		return failed(s, "push", err)
	}
	return exitOK
}
