package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/bouncer-dev/bouncer/internal/history"
)

// forgetFlags are the flags of bouncer forget.
type forgetFlags struct {
	fs *flag.FlagSet
	stateFlags
}

func newForgetFlags(s *streams) *forgetFlags {
	f := &forgetFlags{fs: flag.NewFlagSet("forget", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer forget [--state FILE] ADDRESS...

Erase every trace of each ADDRESS from the state (a subscriber's right to
be forgotten): its events, push entries, allows and pruned summary, and
the address wherever another row quotes it (replaced by [forgotten]). On
SQLite the files are then rewritten (secure delete, log truncated, VACUUM)
so that the address is in no byte of them; on PostgreSQL the tables are
vacuumed. The messages stay recorded by their hash, so a rerun does not
bring the address back. The lists already written, the mailbox's messages
and backups are not the state: see docs/history.md. Safe while bouncer run
--watch works the same state.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable or not writable)")
		f.fs.PrintDefaults()
	}
	return f
}

// forgetCommand is bouncer forget.
func forgetCommand(s *streams, args []string) int {
	f := newForgetFlags(s)
	addrs, form, env, code, ok := parseHistoryArgs(s, "forget", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	if len(addrs) == 0 {
		return usageError(s, "forget", env)("name at least one address")
	}
	db, ok := openHistory(s, "forget", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	rep, err := db.Forget(context.Background(), addrs)
	if err != nil {
		return failed(s, "forget", err)
	}
	if err := history.WriteForget(s.stdout, rep, form); err != nil {
		return failed(s, "forget", err)
	}
	if !rep.Compacted {
		return exitError
	}
	return exitOK
}
