package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/bouncer-dev/bouncer/internal/listexport"
	"github.com/bouncer-dev/bouncer/suppress"
)

// exportFlags are the flags of bouncer export.
type exportFlags struct {
	fs         *flag.FlagSet
	state      string
	out        string
	outDir     string
	format     string
	since      string
	categories string
	policy     policyFlags
}

func newExportFlags(s *streams) *exportFlags {
	f := &exportFlags{fs: flag.NewFlagSet("export", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE` (or postgres:// URL) written by bouncer run")
	fs.StringVar(&f.out, "out", "", "write the list to `FILE` (default: standard output)")
	fs.StringVar(&f.outDir, "out-dir", "", "write one list per category into `DIR`: hard.csv, soft.csv, policy.csv, complaint.csv")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.since, "since", "", "keep addresses whose last bounce is on or after `DATE` (2006-01-02, RFC 3339, or a duration back from the latest bounce: 30d)")
	fs.StringVar(&f.categories, "category", "", "keep these `categories` only, comma-separated: hard,soft,policy,complaint; or pending alone: the soft bounces under the threshold, each with its count and window")
	f.policy.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer export [--state FILE] [--format F] [--since DATE] [--category LIST] [--out FILE | --out-dir DIR]

Write the suppression list from the state alone, without fetching mail. The
list is sorted and dated from the bounces: the same state gives the same
bytes. --category policy adds the addresses that had policy blocks (the
report of what the sender should fix) even though they are not suppressed.

Environment: every flag not given takes its BOUNCER_ variable
(BOUNCER_STATE, BOUNCER_OUT_DIR, BOUNCER_CATEGORY…).

Exit status: 0 done, 1 failed (no state, state unreadable, list not
written), 2 bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// exportCommand is bouncer export.
func exportCommand(s *streams, args []string) int {
	f := newExportFlags(s)
	env, code, ok := parseWithEnv(s, "export", f.fs, args)
	if !ok {
		return code
	}
	fail := usageError(s, "export", env)
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return fail("unknown --format %q: want one of %s", f.format, formatNames())
	}
	pol, err := f.policy.policy()
	if err != nil {
		return fail("%v", err)
	}
	req := &listexport.Request{State: f.state, Policy: pol, Format: format, Out: f.out, OutDir: f.outDir, Stdout: s.stdout}
	if f.since != "" {
		if req.Query.Since, req.SinceBack, err = suppress.ParseSince(f.since); err != nil {
			return fail("%v", err)
		}
	}
	if strings.EqualFold(strings.TrimSpace(f.categories), "pending") {
		// Soft bounces under the threshold (issue 19): their own columns.
		if f.outDir != "" || f.since != "" || (f.format != "" && format != suppress.FormatGeneric) {
			return fail("--category pending writes its own columns to --out or standard output: no --out-dir, --since or --format")
		}
		req.Pending = true
	} else if req.Query.Categories, err = suppress.ParseCategories(f.categories); err != nil {
		return fail("%v", err)
	}
	if f.out != "" && f.outDir != "" {
		return fail("give --out or --out-dir, not both")
	}
	paths, err := listexport.Export(context.Background(), req)
	if err != nil {
		msg := oneLine(err)
		if errors.Is(err, listexport.ErrNoState) || strings.HasPrefix(msg, "state ") {
			msg = env.ExplainValue("state", msg)
		}
		fmt.Fprintf(s.stderr, "bouncer export: %s\n", msg)
		return exitError
	}
	if f.outDir != "" {
		for _, p := range paths {
			fmt.Fprintf(s.stderr, "wrote %s\n", p)
		}
	}
	return exitOK
}
