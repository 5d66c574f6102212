package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/verp"
)

// verpFlags are the flags of bouncer verp.
type verpFlags struct {
	fs       *flag.FlagSet
	keyFile  string
	bounce   string
	validity int
	delim    string
	batv     bool
	verify   bool
}

func newVerpFlags(s *streams) *verpFlags {
	f := &verpFlags{fs: flag.NewFlagSet("verp", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.keyFile, "verp-key-file", "", "key `FILE`: one key a line (the first signs, all verify); make one with: openssl rand -hex 32")
	fs.StringVar(&f.bounce, "bounce-address", "", "the bounce `ADDRESS` the return paths are made from (bounce@lists.example.org)")
	fs.IntVar(&f.validity, "validity-days", verp.DefaultValidityDays, "`DAYS` a tag stays valid (for --verify, and the expiry day of --batv)")
	fs.StringVar(&f.delim, "delimiter", string(verp.DelimiterPlus), "recipient delimiter of the MTA that receives the bounces: + or -")
	fs.BoolVar(&f.batv, "batv", false, "print the BATV (prvs=) form of --bounce-address instead")
	fs.BoolVar(&f.verify, "verify", false, "verify the signed VERP or BATV addresses given as arguments, and print the recipient of each")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer verp --verp-key-file FILE --bounce-address ADDRESS RECIPIENT...
       bouncer verp --verp-key-file FILE --bounce-address ADDRESS --batv
       bouncer verp --verp-key-file FILE --verify ADDRESS...

Print the signed return path (envelope sender) of a message to each
RECIPIENT, sent today: bounce+TAG+user=example.com@lists.example.org. A
bounce delivered to it proves that we sent to that recipient; see
docs/proof.md on setting it in your sending tool. --batv prints the BATV form of
the bounce address instead, for an MTA that signs no recipient. --verify
checks addresses the other way round.

Exit status: 0 done, 1 the key file could not be read or an address could
not be signed or verified (the others are still printed), 2 bad command
line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// verpCommand is bouncer verp.
func verpCommand(s *streams, args []string) int {
	f := newVerpFlags(s)
	env, code, ok := parseArgsEnv(s, "verp", f.fs, func() error { return f.fs.Parse(args) })
	if !ok {
		return code
	}
	fail := usageError(s, "verp", env)
	if f.keyFile == "" {
		return fail("--verp-key-file is required")
	}
	if len(f.delim) != 1 {
		return fail("--delimiter must be + or -")
	}
	if f.validity < 1 || f.validity > verp.MaxValidityDays {
		return fail("--validity-days must be 1 to %d", verp.MaxValidityDays)
	}
	rest := f.fs.Args()
	switch {
	case f.verify && len(rest) == 0:
		return fail("--verify needs the addresses to check")
	case f.batv && len(rest) > 0:
		return fail("--batv takes no recipient")
	case !f.verify && f.bounce == "":
		return fail("--bounce-address is required")
	case !f.verify && !f.batv && len(rest) == 0:
		return fail("give the recipients to make return paths for")
	}
	keys, err := verp.LoadKeys(f.keyFile)
	if err != nil {
		fmt.Fprintf(s.stderr, "bouncer verp: %v\n", err)
		return exitError
	}
	if w := keys.EximWarning(); w != "" && f.batv {
		fmt.Fprintf(s.stderr, "bouncer verp: warning: %s\n", w)
	}
	signer := &verp.Signer{Keys: keys, ValidityDays: f.validity, Delimiter: verp.Delimiter(f.delim[0])}
	now := time.Now()
	status := exitOK
	switch {
	case f.verify:
		for _, a := range rest {
			if v, err := signer.Verify(a, now); err == nil {
				fmt.Fprintf(s.stdout, "%s\tverp\t%s\t%s\n", a, v.Recipient, v.Day.Format(time.DateOnly))
				continue
			} else if !errors.Is(err, verp.ErrNoTag) {
				fmt.Fprintf(s.stderr, "bouncer verp: %s\n", verifyError(err, f.keyFile, f.validity))
				status = exitError
				continue
			}
			b, err := signer.VerifyBATV(a, now)
			if err != nil {
				fmt.Fprintf(s.stderr, "bouncer verp: %s\n", verifyError(err, f.keyFile, f.validity))
				status = exitError
				continue
			}
			fmt.Fprintf(s.stdout, "%s\tbatv\t%s\t%s\n", a, b.Sender, b.Expires.Format(time.DateOnly))
		}
	case f.batv:
		a, err := signer.BATV(f.bounce, now)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintln(s.stdout, a)
	default:
		for _, r := range rest {
			a, err := signer.ReturnPath(f.bounce, r, now)
			if err != nil {
				fmt.Fprintf(s.stderr, "bouncer verp: %v\n", err)
				status = exitError
				continue
			}
			fmt.Fprintln(s.stdout, a)
		}
	}
	return status
}

// verifyError words a failed --verify for the operator: the error of
// package verp without its prefix, and what a tag that does not verify
// usually means.
func verifyError(err error, keyFile string, validity int) string {
	msg := strings.TrimPrefix(err.Error(), "verp: ")
	switch {
	case errors.Is(err, verp.ErrBadTag):
		return msg + " (it was made with a key that is not in " + keyFile + ", or changed since; was it made by bouncer verp with this key file?)"
	case errors.Is(err, verp.ErrExpired):
		return fmt.Sprintf("%s (older than --validity-days %d)", msg, validity)
	}
	return msg
}
