package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/bouncer-dev/bouncer/internal/history"
	"github.com/bouncer-dev/bouncer/suppress"
)

// allowFlags are the flags of bouncer allow.
type allowFlags struct {
	fs *flag.FlagSet
	stateFlags
	reason string
	until  string
}

func newAllowFlags(s *streams) *allowFlags {
	f := &allowFlags{fs: flag.NewFlagSet("allow", flag.ContinueOnError)}
	f.fs.SetOutput(s.stderr)
	f.stateFlags.register(f.fs)
	f.fs.StringVar(&f.reason, "reason", "", "why the suppression is lifted (required; kept in the state, shown by bouncer why)")
	f.fs.StringVar(&f.until, "until", "", "keep the address allowed up to `DATE` (2006-01-02 or RFC 3339): bounces dated up to it do not count either")
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), `usage: bouncer allow --reason TEXT [--until DATE] [--state FILE] ADDRESS...

Lift the suppression of each ADDRESS: it leaves every list from the next
write (bouncer export, run's lists) and stays off across reruns over the
same messages. The allow is not a blind whitelist: a new hard bounce or
complaint dated after it suppresses the address again, unless --until
covers its date. Who (the OS user), when and why are recorded and shown
by bouncer why. Safe while bouncer run --watch works the same state.

Environment: every flag takes its BOUNCER_ variable (BOUNCER_STATE for --state).

`+exitText+`
Flags:
`, "failed (no state, state unreadable or not writable)")
		f.fs.PrintDefaults()
	}
	return f
}

// allowCommand is bouncer allow.
func allowCommand(s *streams, args []string) int {
	f := newAllowFlags(s)
	addrs, form, env, code, ok := parseHistoryArgs(s, "allow", f.fs, args, &f.stateFlags)
	if !ok {
		return code
	}
	fail := usageError(s, "allow", env)
	if len(addrs) == 0 {
		return fail("name at least one address")
	}
	if f.reason == "" {
		return fail("--reason is required: say why the suppression is lifted")
	}
	req := suppress.AllowRequest{Addresses: addrs, Reason: f.reason}
	if f.until != "" {
		t, err := parseDate(f.until)
		if err != nil {
			return fail("bad --until %q: want a date (2006-01-02) or an RFC 3339 time", f.until)
		}
		req.Until = t
	}
	db, ok := openHistory(s, "allow", env, f.state)
	if !ok {
		return exitError
	}
	defer db.Close()
	as, err := db.Allow(context.Background(), req)
	if err != nil {
		return failed(s, "allow", err)
	}
	if err := history.WriteAllows(s.stdout, as, form); err != nil {
		return failed(s, "allow", err)
	}
	return exitOK
}

// parseDate parses a date (UTC midnight; --until covers that whole day)
// or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Second), nil
	}
	return time.Parse(time.RFC3339, s)
}
