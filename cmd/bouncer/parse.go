package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/term"

	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/pipeline"
)

// parseFlags are the flags of bouncer parse.
type parseFlags struct {
	fs      *flag.FlagSet
	format  string
	explain bool
	rules   string
	limits  limitFlags
}

func newParseFlags(s *streams) *parseFlags {
	f := &parseFlags{fs: flag.NewFlagSet("parse", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.format, "format", "", "output `format`: jsonl (JSON Lines), csv, or text (a block per recipient); default jsonl, text for --explain on a terminal")
	fs.BoolVar(&f.explain, "explain", false, "add the evidence of each classification (field evidence)")
	fs.StringVar(&f.rules, "rules", "", "classification rules `FILE` to apply before the built-in rules")
	f.limits.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer parse [--format jsonl|csv|text] [--explain] [--rules FILE] [--workers N] PATH...

Parse returned messages and print one record per recipient, in the order of
the inputs. A message that is not a bounce, or that cannot be read, still
gets one record (no recipient, category none, and error when it failed).

PATH is a message file; a folder, searched recursively (a folder of
messages, or a Maildir and its cur, new and tmp); an mbox file (source
"PATH#N" for its N-th message); or - for standard input (a message or an
mbox). Names starting with "." are skipped in folders.

Fields: source, recipient (the address the mail was sent to: the report's
Original-Recipient when it has one), category, reason, status, reply_code,
action, diagnostic, remote_mta, reporting_mta, kind, original_message_id,
sender, date, error, final_recipient (when it differs from recipient),
recipient_from (where the address was read: dsn, feedback, ses,
x-failed-recipients, verp, template, transcript, text, original,
autoreply), note (why a failure suppresses nothing, or that a limit was
reached), and evidence with --explain. In jsonl, "permanent": true marks a
failure reported as permanent (5xx, 5.x.x) whose reason nothing tells: it
stays soft, and the suppression policy counts it more strictly. With
--explain on a terminal, and with --format text, each recipient is a block
of lines for a person: the address, its category and reason, where the
address was read, the codes, the diagnostic and the evidence that decided.

Exit status: 0 done, every path read, 1 a path could not be read (the
others are still processed) or the output failed, 2 bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// parseCommand is bouncer parse.
func parseCommand(s *streams, args []string) int {
	f := newParseFlags(s)
	var paths []string
	env, code, ok := parseArgsEnv(s, "parse", f.fs, func() (err error) {
		paths, err = cli.ParseInterspersed(f.fs, args)
		return err
	})
	if !ok {
		return code
	}
	fail := usageError(s, "parse", env)
	format := pipeline.Format(f.format)
	if format == "" {
		format = pipeline.FormatJSONL
		if f.explain && isTerminal(s.stdout) {
			format = pipeline.FormatText
		}
	}
	switch {
	case len(paths) == 0:
		return fail("no PATH given (use - for standard input); see bouncer help parse")
	case format != pipeline.FormatJSONL && format != pipeline.FormatCSV && format != pipeline.FormatText:
		return fail("unknown --format %q: want jsonl, csv or text", f.format)
	case slices.Contains(paths[slices.Index(paths, "-")+1:], "-"):
		return fail("standard input (-) can be read only once")
	}
	if err := f.limits.check(); err != nil {
		return fail("%v", err)
	}
	opts := &pipeline.ParseOptions{
		Options: pipeline.Options{Workers: f.limits.workers, DSN: f.limits.dsn},
		Format:  format,
		Explain: f.explain,
		Stdin:   s.stdin,
		Stderr:  s.stderr,
	}
	if f.rules != "" {
		c, err := pipeline.LoadRules(f.rules)
		if err != nil {
			return fail("%v", err)
		}
		opts.Classify = c
	}
	allRead, err := pipeline.Parse(paths, s.stdout, opts)
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer parse: write output: %v\n", err)
		return exitError
	}
	if !allRead {
		return exitError
	}
	return exitOK
}

// isTerminal reports whether w is a terminal, where a person reads.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
