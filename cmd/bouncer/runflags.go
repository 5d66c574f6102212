package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
)

// pushSoftUsage is the usage of --push-soft (run and ingest).
const pushSoftUsage = "`MODE` of soft bounces for listmonk: threshold (one hard bounce when bouncer's soft threshold suppresses the address) or all (each soft bounce, for listmonk to count forever)"

// runFlags are the flags of bouncer run.
type runFlags struct {
	limits             limitFlags
	maxFetchBytes      int64
	ioTimeout          time.Duration
	fetchBatch         int
	batch              int
	batchTime          time.Duration
	fs                 *flag.FlagSet
	imap               string
	maildir            string
	passwordFile       string
	oauthTokenFile     string
	caFile             string
	insecurePlaintext  bool
	auth               string
	state              string
	out                string
	outDir             string
	format             string
	after              string
	processedFolder    string
	unrecognizedFolder string
	rules              string
	watch              bool
	poll               time.Duration
	idleRecheck        time.Duration
	retries            int
	policy             policyFlags
	push               []string
	pushSecretFile     string
	pushInsecure       bool
	pushSoft           string
	verpKeyFile        string
	ourDomains         string
	requireProof       bool
	maxSuppress        int
	validity           int
	delim              string
	ops                opsFlags // issue 12: service flags (opsflags.go)
	retain             string   // issue 19: --retain (prune.go)
}

func newRunFlags(s *streams) *runFlags {
	f := &runFlags{fs: flag.NewFlagSet("run", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(s.stderr)
	fs.StringVar(&f.imap, "imap", "", "mailbox `URL`: imaps://USER@HOST[:PORT]/MAILBOX, or imap:// for STARTTLS")
	fs.StringVar(&f.maildir, "maildir", "", "read a local Maildir `DIR` (its new/ and cur/) instead of IMAP")
	fs.StringVar(&f.passwordFile, "password-file", "", "`FILE` holding the IMAP password (else $"+passwordEnv+")")
	fs.StringVar(&f.oauthTokenFile, "oauth-token-file", "", "`FILE` holding an OAuth2 access token (XOAUTH2), read again on each connection")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of extra CA certificates to trust (private CA, self-signed server)")
	fs.BoolVar(&f.insecurePlaintext, "insecure-plaintext", false, "with imap://, talk in the clear when the server has no STARTTLS (password included; loopback and tests only)")
	fs.StringVar(&f.auth, "auth", "auto", "authentication `MECHANISM`: auto, plain, login, xoauth2 or oauthbearer")
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE`: the history of bounces (SQLite), or a postgres:// URL shared by several hosts")
	fs.StringVar(&f.out, "out", "", "write the suppression list to `FILE`")
	fs.StringVar(&f.outDir, "out-dir", "", "write one list per category into `DIR`: hard.csv, soft.csv, policy.csv, complaint.csv")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.after, "after", string(afterMove), "what to do with a recorded bounce: move (to the processed folder), seen, delete or none")
	fs.StringVar(&f.processedFolder, "processed-folder", defaultProcessedFolder, "`MAILBOX` that receives bounces with --after move (for a Maildir, the Maildir++ folder .MAILBOX)")
	fs.StringVar(&f.unrecognizedFolder, "unrecognized-folder", defaultUnrecognizedFolder, "`MAILBOX` that receives what is not a bounce, for humans (empty: leave it in place)")
	fs.StringVar(&f.rules, "rules", "", "classification rules `FILE` to apply before the built-in rules")
	fs.BoolVar(&f.watch, "watch", false, "keep running: wait for new mail (IMAP IDLE, or polling) until interrupted")
	fs.DurationVar(&f.poll, "poll", time.Minute, "with --watch, how often to look for mail when IDLE is not available (Maildir, or servers without IDLE)")
	fs.DurationVar(&f.idleRecheck, "idle-recheck", imapfetch.DefaultIdleRecheck, "with --watch, how often to ask the server (NOOP) for new mail while in IMAP IDLE, for servers that report it late or never")
	fs.IntVar(&f.retries, "retries", imapfetch.DefaultMaxRetries, "reconnections after connection faults before giving up (0: none)")
	fs.Int64Var(&f.maxFetchBytes, "max-fetch-bytes", imapfetch.DefaultMaxMessageBytes, "bytes fetched of one IMAP message; a larger one is incomplete (-1: no cap)")
	fs.DurationVar(&f.ioTimeout, "io-timeout", imapfetch.DefaultIOTimeout, "IMAP: no byte from the server for this long while one is expected (a message body too) drops the connection, then the run reconnects (--retries)")
	fs.IntVar(&f.fetchBatch, "fetch-batch", defaultFetchBatch, "IMAP messages per UID FETCH, committed together, then moved with one command")
	fs.IntVar(&f.batch, "batch", pipeline.DefaultBatchSize, "messages recorded per transaction at most")
	fs.DurationVar(&f.batchTime, "batch-time", pipeline.DefaultBatchTime, "how long a transaction stays open at most")
	fs.Func("push", "deliver each new event to `KIND=URL` (listmonk, mautic or webhook; repeatable)", func(v string) error {
		f.push = append(f.push, strings.Fields(v)...)
		return nil
	})
	fs.StringVar(&f.pushSecretFile, "push-secret-file", "", "`FILE` of the push targets' credentials: NAME SECRET a line")
	fs.BoolVar(&f.pushInsecure, "push-insecure", false, "allow http:// push targets on hosts other than loopback (credentials and addresses in clear)")
	fs.StringVar(&f.pushSoft, "push-soft", string(push.SoftThreshold), pushSoftUsage)
	fs.StringVar(&f.verpKeyFile, "verp-key-file", "", "key `FILE` of signed VERP and BATV return paths: a bounce must carry a valid tag for its recipient")
	fs.StringVar(&f.ourDomains, "our-domains", "", "`DOMAINS` (a.com,b.org): a bounce whose returned original's Message-ID or From is in one is proven (weak)")
	fs.IntVar(&f.validity, "validity-days", verp.DefaultValidityDays, "`DAYS` a signed VERP tag stays valid")
	fs.StringVar(&f.delim, "delimiter", string(verp.DelimiterPlus), "recipient delimiter of the signed VERP addresses: + or -")
	fs.BoolVar(&f.requireProof, "require-proof", true, "with --verp-key-file or --our-domains, a failure without proof suppresses nothing (false: only report it)")
	fs.IntVar(&f.maxSuppress, "max-suppress-per-message", pipeline.DefaultMaxSuppressPerMessage, "without --verp-key-file or --our-domains, the most addresses one message may suppress; a message naming more suppresses none and goes to a human (-1: no cap)")
	f.limits.register(fs)
	f.policy.register(fs)
	f.ops.register(fs)
	fs.StringVar(&f.retain, "retain", "", "when the run starts, prune events older than `DURATION` (400d) without changing who is suppressed (see bouncer prune); default: keep all")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer run (--imap URL | --maildir DIR | --config FILE) [flags]

Fetch the bounce mailbox, record every bounce in the state and write the
suppression lists; one pass (for cron), or --watch. The state, the lists'
folders, the rules and the login are checked first. Messages are recorded
many per transaction and moved (--after) only once committed; what is not a
bounce, cannot be read or hits a --max-* cap goes to bounces-unrecognized.
A message is known by its UID and its hash: a killed run is simply run
again. An address only read from a notice's text, and confirmed nowhere
else, suppresses nothing. Hard bounces and complaints suppress at once,
soft ones after --soft-threshold on --soft-days days within --soft-window,
permanent but unexplained ones (5xx, "permanent error") on
--permanent-threshold different days within it.

Environment: BOUNCER_PASSWORD (the password; no flag for it), and for
every flag not given its BOUNCER_ variable: BOUNCER_IMAP, BOUNCER_STATE,
BOUNCER_SOFT_THRESHOLD… (BOUNCER_PUSH: targets separated by spaces); a
value a flag refuses is a bad command line. Without --verp-key-file or
--our-domains, one message suppresses at most --max-suppress-per-message
addresses; with them, a failure without proof is written to
unverified.csv beside the lists.

`+opsUsage+`Exit status: 0 done, 1 failed (unreachable, login, state in use, disk
full…), 2 bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}
