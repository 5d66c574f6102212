package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/bouncer-dev/bouncer/internal/history"
)

// whyFlags are the flags of bouncer why.
type whyFlags struct {
	fs *flag.FlagSet
	stateFlags
	policy policyFlags
}

func newWhyFlags(s *streams) *whyFlags {
	f := &whyFlags{fs: flag.NewFlagSet("why", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.policy.register(f.fs)
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer why [--state FILE] [--format text|json] ADDRESS...

Say why each ADDRESS is, or is not, on the suppression list: whether it is
suppressed, by which rule of the policy and since when, its allows, and
every recorded event with its evidence (the diagnostic, the phrase or rule
that decided the reason, where the address was read, the proof, the
bounce's and the original's Message-ID, where the message came from and
where it went). An address the state does not know is said so.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable)")
		f.fs.PrintDefaults()
	}
	return f
}

// whyCommand is bouncer why.
func whyCommand(s *streams, args []string) int {
	f := newWhyFlags(s)
	addrs, form, env, code, ok := parseHistoryArgs(s, "why", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	if len(addrs) == 0 {
		return usageError(s, "why", env)("name at least one address")
	}
	pol, err := f.policy.policy()
	if err != nil {
		return usageError(s, "why", env)("%v", err)
	}
	db, ok := openHistory(s, "why", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	hs, err := db.Why(context.Background(), pol, addrs...)
	if err != nil {
		return failed(s, "why", err)
	}
	if err := history.WriteWhy(s.stdout, hs, form); err != nil {
		return failed(s, "why", err)
	}
	return exitOK
}
