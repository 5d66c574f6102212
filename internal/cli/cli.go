// Package cli holds what the commands of bouncer share about their command
// line: the version, flag errors worded on one line, and environment
// variables that stand in for flags and are named in the errors of the
// values they gave.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// revisionLen is the length of the VCS revision shown by Version.
const revisionLen = 12

// Version returns the version line of the program name: the module
// version of the build (runtime/debug.ReadBuildInfo; "devel" for a build
// of a checkout that Go gave no version, as under go run), and the VCS
// revision, its time and "modified" when the build recorded them.
func Version(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (unknown version: built without module support)"
	}
	return versionOf(name, bi)
}

// versionOf is the version line of a build.
func versionOf(name string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	line := name + " " + v
	if rev != "" {
		line += " (revision " + rev[:min(len(rev), revisionLen)]
		if at != "" {
			line += " of " + at
		}
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	return line + ", " + bi.GoVersion
}

// UsageError is a bad command line, worded on one line.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Parse parses the command line with parse (fs.Parse, or a loop of it)
// with fs's usage text and error output silenced. It returns nil,
// flag.ErrHelp for -h, or a *UsageError: "unknown flag --foo", "--state
// needs a value", `bad value "x" for --workers: …`.
func Parse(fs *flag.FlagSet, parse func() error) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := parse()
	fs.SetOutput(out)
	fs.Usage = usage
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &UsageError{Msg: reword(err.Error())}
}

// reword turns an error of package flag into one with "--" flag names.
func reword(msg string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + dashes(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return dashes(name) + " needs a value"
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -workers: parse error
		if val, after, ok := strings.Cut(rest, " for flag "); ok {
			name, why, _ := strings.Cut(after, ": ")
			return "bad value " + val + " for " + dashes(name) + ": " + why
		}
	}
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if val, after, ok := strings.Cut(rest, " for "); ok {
			name, why, _ := strings.Cut(after, ": ")
			return "bad value " + val + " for " + dashes(name) + ": " + why
		}
	}
	return msg
}

// dashes writes a flag name with two dashes.
func dashes(name string) string {
	return "--" + strings.TrimLeft(name, "-")
}

// EnvPrefix starts the environment variable of each flag.
const EnvPrefix = "BOUNCER_"

// EnvName returns the environment variable of a flag: EnvPrefix and the
// name in upper case, "-" as "_" (out-dir: BOUNCER_OUT_DIR).
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Env records the flags that were set from environment variables: flag
// name to "VARIABLE=value".
type Env map[string]string

// ApplyEnv sets the flags of fs named in names (nil: every flag of fs)
// that were not given on the command line from their environment
// variables (see EnvName), and returns which. A value the flag refuses is
// a *UsageError that names the variable.
func ApplyEnv(fs *flag.FlagSet, names []string) (Env, error) {
	if names == nil {
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	env := Env{}
	for _, name := range names {
		v := EnvName(name)
		val := os.Getenv(v)
		if val == "" || set[name] {
			continue
		}
		if err := fs.Set(name, val); err != nil {
			return env, &UsageError{Msg: fmt.Sprintf("%s=%s: %v", v, val, err)}
		}
		env[name] = v + "=" + val
	}
	return env, nil
}

// Redact rewrites the value recorded for the flag name with redact (a
// URL's password), for the errors that name it.
func (e Env) Redact(name string, redact func(string) string) {
	if v, ok := e[name]; ok {
		variable, value, _ := strings.Cut(v, "=")
		e[name] = variable + "=" + redact(value)
	}
}

// Explain prefixes msg with the variable that gave the value of the
// first flag msg names ("--state", "--format") when that flag was set
// from the environment: "BOUNCER_STATE=/x: …".
func (e Env) Explain(msg string) string {
	first, at := "", len(msg)
	for name, v := range e {
		i := strings.Index(msg, "--"+name)
		for i >= 0 && !endsName(msg, i+2+len(name)) {
			j := strings.Index(msg[i+1:], "--"+name)
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i >= 0 && i < at {
			first, at = v, i
		}
	}
	if first == "" {
		return msg
	}
	return first + ": " + msg
}

// ExplainValue prefixes msg with the variable of the flag name when the
// value came from it, for errors that name the value, not the flag (a
// state file that cannot be opened).
func (e Env) ExplainValue(name, msg string) string {
	if v, ok := e[name]; ok {
		return v + ": " + msg
	}
	return msg
}

// endsName reports whether a flag name that ends at i in msg is whole.
func endsName(msg string, i int) bool {
	if i >= len(msg) {
		return true
	}
	c := msg[i]
	return !(c == '-' || c == '_' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9')
}

// ParseInterspersed parses args with fs, allowing flags after the
// arguments ("bouncer parse DIR --format csv"), and returns the arguments.
// Everything after "--" is an argument.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if k := len(args) - len(left); k > 0 && args[k-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}
