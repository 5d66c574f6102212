package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/internal/runjob"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
)

// ingestFlags are the flags of bouncer ingest: those of run that do not
// name a mailbox.
type ingestFlags struct {
	fs             *flag.FlagSet
	limits         limitFlags
	policy         policyFlags
	state          string
	out, outDir    string
	format         string
	rules          string
	push           []string
	pushSecretFile string
	pushSoft       string
	pushInsecure   bool
	maxSuppress    int
	verpKeyFile    string
	ourDomains     string
	requireProof   bool
	validity       int
	delim          string
	lockWait       time.Duration
	keep           string
}

func newIngestFlags(s *streams) *ingestFlags {
	f := &ingestFlags{fs: flag.NewFlagSet("ingest", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.state, "state", "", "state `FILE` (SQLite; give an absolute path: an MTA runs the command in its own folder), or a postgres:// URL")
	fs.StringVar(&f.out, "out", "", "rewrite the suppression list `FILE` after recording")
	fs.StringVar(&f.outDir, "out-dir", "", "rewrite one list per category into `DIR` after recording")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.rules, "rules", "", "classification rules `FILE` to apply before the built-in rules")
	fs.Func("push", "queue each new event for `KIND=URL` (listmonk, mautic or webhook; repeatable) and deliver what is due", func(v string) error {
		f.push = append(f.push, strings.Fields(v)...)
		return nil
	})
	fs.StringVar(&f.pushSecretFile, "push-secret-file", "", "`FILE` of the push targets' credentials: NAME SECRET a line")
	fs.StringVar(&f.pushSoft, "push-soft", string(push.SoftThreshold), pushSoftUsage)
	fs.BoolVar(&f.pushInsecure, "push-insecure", false, "allow http:// push targets on hosts other than loopback (credentials and addresses in clear)")
	fs.IntVar(&f.maxSuppress, "max-suppress-per-message", pipeline.DefaultMaxSuppressPerMessage, "without --verp-key-file or --our-domains, the most addresses one message may suppress; a message naming more suppresses none and goes to a human (-1: no cap)")
	fs.StringVar(&f.verpKeyFile, "verp-key-file", "", "key `FILE` of signed VERP and BATV return paths: a bounce must carry a valid tag for its recipient")
	fs.StringVar(&f.ourDomains, "our-domains", "", "`DOMAINS` (a.com,b.org): a bounce whose returned original's Message-ID or From is in one is proven (weak)")
	fs.IntVar(&f.validity, "validity-days", verp.DefaultValidityDays, "`DAYS` a signed VERP tag stays valid")
	fs.StringVar(&f.delim, "delimiter", string(verp.DelimiterPlus), "recipient delimiter of the signed VERP addresses: + or -")
	fs.BoolVar(&f.requireProof, "require-proof", true, "with --verp-key-file or --our-domains, a failure without proof suppresses nothing (false: only report it)")
	fs.StringVar(&f.keep, "keep-unrecognized", "", "Maildir `DIR` that keeps a copy of each message recorded as unrecognized (not a bounce, unreadable, over a cap, a flood), for a human; created 0700 when missing")
	fs.DurationVar(&f.lockWait, "lock-wait", runjob.DefaultLockWait, "how long to wait for the state while another ingest or run holds it, then exit 75")
	f.limits.register(fs)
	f.policy.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, `usage: bouncer ingest --state FILE [flags] < MESSAGE

Record the one message on standard input, as an MTA's pipe delivers it
(a Postfix alias "|bouncer ingest --state /var/lib/bouncer/state.db" or
pipe(8) transport, an Exim pipe transport, sendmail's prog mailer,
procmail, maildrop): its events, the lists (--out, --out-dir) and the
pushes (--push: queued now, delivered in a pass of at most %v; what is
left goes with the next ingest). A message that is not a bounce, or cannot
be parsed, is recorded as unrecognized: never given back, and kept for a
human only with --keep-unrecognized. Several ingests
at once take turns on the state (--lock-wait). See docs/mta-pipe.md.

Environment: BOUNCER_STATE, _OUT, _OUT_DIR, _FORMAT, _RULES, _PUSH,
_PUSH_SECRET_FILE, _VERP_KEY_FILE, _OUR_DOMAINS, _REQUIRE_PROOF,
_KEEP_UNRECOGNIZED for flags not given.

Exit status: 0 recorded, %d (EX_TEMPFAIL) not recorded now: the MTA keeps
the message and delivers it again (the state locked, unreachable or full,
the input cut, the lists not written, the copy of an unrecognized message
not kept, and a bad command line too, so that
no bounce is lost while the alias is fixed).

Flags:
`, runjob.DefaultIngestPushTimeout, runjob.ExitTempFail)
		fs.PrintDefaults()
	}
	return f
}

// ingestCommand is bouncer ingest.
func ingestCommand(s *streams, args []string) int {
	f := newIngestFlags(s)
	env, code, ok := parseWithEnv(s, "ingest", f.fs, args)
	if !ok {
		if code == exitOK {
			return code
		}
		return runjob.ExitTempFail
	}
	cfg, msg := f.config()
	if msg != "" {
		fmt.Fprintf(s.stderr, "bouncer ingest: %s; not recorded, the MTA keeps the message (exit %d)\n",
			env.Explain(msg), runjob.ExitTempFail)
		return runjob.ExitTempFail
	}
	cfg.Env = env
	logger := slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.SetLogger(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runjob.Ingest(ctx, cfg, s.stdin, s.stderr)
}

// config checks the flags and returns the ingest they describe, or the
// problem with them.
func (f *ingestFlags) config() (*runjob.Config, string) {
	if f.state == "" {
		return nil, "--state is required (an absolute path, or a postgres:// URL)"
	}
	if err := f.limits.check(); err != nil {
		return nil, err.Error()
	}
	if f.lockWait <= 0 {
		return nil, "--lock-wait must be positive"
	}
	cfg := &runjob.Config{State: f.state, Out: f.out, OutDir: f.outDir, LockWait: f.lockWait, KeepUnrecognized: f.keep,
		Pipe: pipeline.Options{Workers: 1, DSN: f.limits.dsn}}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return nil, fmt.Sprintf("unknown --format %q: want one of %s", f.format, formatNames())
	}
	cfg.Format = format
	if cfg.Policy, err = f.policy.policy(); err != nil {
		return nil, err.Error()
	}
	w := &runjob.Wire{Push: f.push, PushSecretFile: f.pushSecretFile, PushSoft: f.pushSoft, VerpKeyFile: f.verpKeyFile, OurDomains: f.ourDomains,
		RequireProof: f.requireProof, ValidityDays: f.validity, Delimiter: f.delim, MaxSuppressPerMessage: f.maxSuppress,
		PushInsecure: f.pushInsecure}
	f.fs.Visit(func(fl *flag.Flag) { w.RequireProofSet = w.RequireProofSet || fl.Name == "require-proof" })
	if msg := cfg.SetWire(w); msg != "" {
		return nil, msg
	}
	if f.rules != "" {
		c, err := pipeline.LoadRules(f.rules)
		if err != nil {
			return nil, err.Error()
		}
		cfg.Pipe.Classify = c
	}
	return cfg, ""
}
