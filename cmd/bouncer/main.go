// Command bouncer processes the bounce@ mailbox of a mailing list: it reads
// returned messages (over IMAP, or from files, folders, Maildirs and mbox
// files), finds out which recipients failed and why, keeps a suppression
// history and writes suppression lists.
//
// Usage:
//
//	bouncer COMMAND [flags] [args]
//
// Run "bouncer help" for the list of commands and "bouncer help COMMAND" for
// the flags of one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bouncer-dev/bouncer/internal/cli"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Exit statuses, the same for every command.
const (
	exitOK    = 0 // done
	exitError = 1 // done, but an input could not be read or the output failed
	exitUsage = 2 // bad command line
)

// exitText says the exit statuses in the usage texts; each command adds
// what 1 means for it.
const exitText = "Exit status: 0 done, 1 %s, 2 bad command line.\n"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// streams are the standard streams of a command.
type streams struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand of bouncer.
type command struct {
	name    string
	summary string
	// flags returns the flag set of the command, for its usage text.
	flags func(*streams) *flag.FlagSet
	run   func(s *streams, args []string) int
}

// commands lists the subcommands, in the order "bouncer help" shows them.
// To add one, add an entry here and its function in a file of its own.
var commands = []command{
	{name: "parse", summary: "parse returned messages and print one record per recipient",
		flags: func(s *streams) *flag.FlagSet { return newParseFlags(s).fs }, run: parseCommand},
	{name: "run", summary: "fetch the bounce mailbox over IMAP and update the suppression history",
		flags: func(s *streams) *flag.FlagSet { return newRunFlags(s).fs }, run: runCommand},
	{name: "ingest", summary: "record one message from standard input, as an MTA's pipe delivers it",
		flags: func(s *streams) *flag.FlagSet { return newIngestFlags(s).fs }, run: ingestCommand},
	{name: "export", summary: "write the suppression list as CSV",
		flags: func(s *streams) *flag.FlagSet { return newExportFlags(s).fs }, run: exportCommand},
	{name: "demo", summary: "run the whole pipeline on sample bounces, no setup needed",
		flags: func(s *streams) *flag.FlagSet { return newDemoFlags(s).fs }, run: demoCommand},
	{name: "serve", summary: "serve the console (the history in a browser) and its JSON API",
		flags: func(s *streams) *flag.FlagSet { return newServeFlags(s).fs }, run: serveCommand},
	{name: "auth", summary: "authorize access to a Gmail or Microsoft 365 mailbox with OAuth2, once",
		flags: func(s *streams) *flag.FlagSet { return newAuthFlags(s).fs }, run: authCommand},
	{name: "verp", summary: "print the signed return path (VERP or BATV) of a recipient",
		flags: func(s *streams) *flag.FlagSet { return newVerpFlags(s).fs }, run: verpCommand},
	{name: "why", summary: "say why an address is (not) suppressed, with every event's evidence",
		flags: func(s *streams) *flag.FlagSet { return newWhyFlags(s).fs }, run: whyCommand},
	{name: "allow", summary: "lift the suppression of an address, with a reason",
		flags: func(s *streams) *flag.FlagSet { return newAllowFlags(s).fs }, run: allowCommand},
	{name: "forget", summary: "erase every trace of an address from the state",
		flags: func(s *streams) *flag.FlagSet { return newForgetFlags(s).fs }, run: forgetCommand},
	{name: "stats", summary: "count bounces by day, category, reason and domain; the list's size over time",
		flags: func(s *streams) *flag.FlagSet { return newStatsFlags(s).fs }, run: statsCommand},
	{name: "prune", summary: "remove old events, keeping who is suppressed",
		flags: func(s *streams) *flag.FlagSet { return newPruneFlags(s).fs }, run: pruneCommand},
	{name: "push", summary: "show the push queues, or queue failed pushes again",
		flags: func(s *streams) *flag.FlagSet { return newPushFlags(s).fs }, run: pushCommand},
}

// run runs bouncer with args (without the program name) and returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &streams{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		return help(s, args[1:])
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, cli.Version("bouncer"))
		return exitOK
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(s, args[1:])
		}
	}
	fmt.Fprintf(stderr, "bouncer: unknown command %q; see bouncer help\n", name)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: bouncer COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help     show this text, or the flags of a command: bouncer help COMMAND\n")
	fmt.Fprint(w, "  version  print the version (also --version)\n\n")
	fmt.Fprintf(w, exitText, "failed (see each command)")
}

// help prints the usage text, or that of the command named in args.
func help(s *streams, args []string) int {
	if len(args) == 0 {
		usage(s.stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := c.flags(s)
		fs.SetOutput(s.stdout)
		fs.Usage()
		return exitOK
	}
	fmt.Fprintf(s.stderr, "bouncer help: unknown command %q; see bouncer help\n", args[0])
	return exitUsage
}

// parseArgsEnv parses the command line of the command name with parse (a
// call of fs.Parse): the usage text on stdout for -h, a bad flag in one
// line with a hint on stderr. ok is false when the command must stop, with
// the exit status code.
//
// Every flag the command line does not give takes the value of its
// environment variable (cli.ApplyEnv: --soft-threshold from
// BOUNCER_SOFT_THRESHOLD); a value the flag refuses is a bad command line
// that names the variable.
//
// It returns the flags set from the environment (a state URL's password
// redacted).
func parseArgsEnv(s *streams, name string, fs *flag.FlagSet, parse func() error) (env cli.Env, code int, ok bool) {
	err := cli.Parse(fs, parse)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(s.stdout)
		fs.Usage()
		return nil, exitOK, false
	default:
		fmt.Fprintf(s.stderr, "bouncer %s: %v; see bouncer %s -h\n", name, err, name)
		return nil, exitUsage, false
	}
	env, err = cli.ApplyEnv(fs, nil)
	env.Redact("state", suppress.Redact)
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer %s: %v\n", name, err)
		return env, exitUsage, false
	}
	return env, exitOK, true
}

// parseWithEnv parses the command line of the command name and the
// environment (parseArgsEnv), and refuses arguments. ok is false when the
// command must stop, with the exit status code.
func parseWithEnv(s *streams, name string, fs *flag.FlagSet, args []string) (env cli.Env, code int, ok bool) {
	env, code, ok = parseArgsEnv(s, name, fs, func() error { return fs.Parse(args) })
	switch {
	case !ok:
		return env, code, false
	case fs.NArg() > 0:
		fmt.Fprintf(s.stderr, "bouncer %s: unexpected argument %q; see bouncer help %s\n", name, fs.Arg(0), name)
	default:
		return env, exitOK, true
	}
	return env, exitUsage, false
}

// usageError returns the failure of the command name for a bad command
// line: it prints the message, prefixed with the variable that gave a
// flag it names (cli.Env.Explain), and returns exitUsage.
func usageError(s *streams, name string, env cli.Env) func(format string, a ...any) int {
	return func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer %s: %s\n", name, env.Explain(fmt.Sprintf(format, a...)))
		return exitUsage
	}
}
