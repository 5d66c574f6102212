package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/internal/history"
	"github.com/bouncer-dev/bouncer/suppress"
)

// The commands on the state's history (issue 19): why, allow, forget,
// stats, prune and push share the --state and --format flags, take
// addresses as arguments (flags may follow them), and open the state with
// history.Open.

// stateFlags are the flags every history command has.
type stateFlags struct {
	state  string
	format string
}

func (f *stateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE` (or postgres:// URL) written by bouncer run")
	fs.StringVar(&f.format, "format", string(history.FormatText), "output `FORMAT`: text or json")
}

// parseHistoryArgs parses the command line of a history command: flags
// before or after the arguments, then the environment. ok is false when
// the command must stop, with the exit status code.
func parseHistoryArgs(s *streams, name string, fs *flag.FlagSet, args []string, f *stateFlags) (rest []string, form history.Format, env cli.Env, code int, ok bool) {
	env, code, ok = parseArgsEnv(s, name, fs, func() error {
		var err error
		rest, err = cli.ParseInterspersed(fs, args)
		return err
	})
	if !ok {
		return nil, "", env, code, false
	}
	var err error
	if form, err = history.ParseFormat(f.format); err != nil {
		return nil, "", nil, usageError(s, name, env)("%v", err), false
	}
	return rest, form, env, exitOK, true
}

// openHistory opens the state for the command name; ok is false when it
// failed, with the message printed.
func openHistory(s *streams, name string, env cli.Env, state string) (*suppress.DB, bool) {
	db, err := history.Open(context.Background(), state)
	if err != nil {
		msg := oneLine(err)
		if errors.Is(err, history.ErrNoState) {
			msg = env.ExplainValue("state", msg)
		}
		fmt.Fprintf(s.stderr, "bouncer %s: %s\n", name, msg)
		return nil, false
	}
	return db, true
}

// failed prints err for the command name and returns exitError (or
// exitUsage for an argument that is not an address).
func failed(s *streams, name string, err error) int {
	fmt.Fprintf(s.stderr, "bouncer %s: %s\n", name, oneLine(err))
	if errors.Is(err, suppress.ErrBadAddress) {
		return exitUsage
	}
	return exitError
}
