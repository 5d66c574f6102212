package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/suppress"
	"golang.org/x/term"
)

// Folders that receive the messages once they are recorded (IMAP mailbox
// names; for a Maildir, the Maildir++ subfolders ".bounces-processed" and
// ".bounces-unrecognized").
const (
	defaultProcessedFolder    = "bounces-processed"
	defaultUnrecognizedFolder = "bounces-unrecognized"
)

// slowEnv names a hidden environment variable, for tests only: a duration
// to sleep after each message is recorded, so that a test can kill a run
// in the middle.
const slowEnv = "BOUNCER_TEST_SLOW"

// runEnv maps the flags of bouncer run that have an environment variable
// fallback to that variable. The password has no flag at all: it would show
// in process lists.
var runEnv = map[string]string{
	"imap":             "BOUNCER_IMAP",
	"maildir":          "BOUNCER_MAILDIR",
	"password-file":    "BOUNCER_PASSWORD_FILE",
	"oauth-token-file": "BOUNCER_OAUTH_TOKEN_FILE",
	"ca-file":          "BOUNCER_CA_FILE",
	"state":            "BOUNCER_STATE",
	"out":              "BOUNCER_OUT",
	"out-dir":          "BOUNCER_OUT_DIR",
	"format":           "BOUNCER_FORMAT",
	"after":            "BOUNCER_AFTER",
	"rules":            "BOUNCER_RULES",
}

// passwordEnv is the environment variable that may hold the IMAP password.
const passwordEnv = "BOUNCER_PASSWORD"

// afterAction is what --after does to a recorded bounce.
type afterAction string

const (
	afterMove   afterAction = "move"
	afterSeen   afterAction = "seen"
	afterDelete afterAction = "delete"
	afterNone   afterAction = "none"
)

// policyFlags are the thresholds of the suppression policy, shared by run
// and export.
type policyFlags struct {
	softThreshold  int
	softDays       int
	softWindow     string
	suppressPolicy bool
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&p.softThreshold, "soft-threshold", suppress.DefaultSoftThreshold, "soft bounces that suppress an address")
	fs.IntVar(&p.softDays, "soft-days", suppress.DefaultSoftDistinctDays, "different days those soft bounces must fall on")
	fs.StringVar(&p.softWindow, "soft-window", "30d", "how far back soft bounces count: `DURATION` such as 30d, 2w or 720h")
	fs.BoolVar(&p.suppressPolicy, "suppress-policy", false, "suppress addresses with policy blocks too (default: only report them)")
}

// policy returns the suppress.Policy the flags describe.
func (p *policyFlags) policy() (*suppress.Policy, error) {
	if p.softThreshold < 1 {
		return nil, errors.New("--soft-threshold must be at least 1")
	}
	if p.softDays < 1 {
		return nil, errors.New("--soft-days must be at least 1")
	}
	w, err := parseDuration(p.softWindow)
	if err != nil || w <= 0 {
		return nil, fmt.Errorf("bad --soft-window %q: want a positive duration such as 30d, 2w or 720h", p.softWindow)
	}
	return &suppress.Policy{
		SoftThreshold:    p.softThreshold,
		SoftDistinctDays: p.softDays,
		SoftWindow:       w,
		SuppressPolicy:   p.suppressPolicy,
	}, nil
}

// parseDuration is time.ParseDuration with days (d) and weeks (w) as well.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return time.ParseDuration(s)
}

// runFlags are the flags of bouncer run.
type runFlags struct {
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
	retries            int
	policy             policyFlags
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
	fs.StringVar(&f.state, "state", "bouncer.db", "state `FILE`: the history of bounces (SQLite)")
	fs.StringVar(&f.out, "out", "", "write the suppression list to `FILE`")
	fs.StringVar(&f.outDir, "out-dir", "", "write one list per category into `DIR`: hard.csv, soft.csv, policy.csv, complaint.csv")
	fs.StringVar(&f.format, "format", string(suppress.FormatGeneric), "list `format`: "+formatNames())
	fs.StringVar(&f.after, "after", string(afterMove), "what to do with a recorded bounce: move (to the processed folder), seen, delete or none")
	fs.StringVar(&f.processedFolder, "processed-folder", defaultProcessedFolder, "`MAILBOX` that receives bounces with --after move (for a Maildir, the Maildir++ folder .MAILBOX)")
	fs.StringVar(&f.unrecognizedFolder, "unrecognized-folder", defaultUnrecognizedFolder, "`MAILBOX` that receives what is not a bounce, for humans (empty: leave it in place)")
	fs.StringVar(&f.rules, "rules", "", "classification rules `FILE` to apply before the built-in rules")
	fs.BoolVar(&f.watch, "watch", false, "keep running: wait for new mail (IMAP IDLE, or polling) until interrupted")
	fs.DurationVar(&f.poll, "poll", time.Minute, "with --watch, how often to look for mail when IDLE is not available (Maildir, or servers without IDLE)")
	fs.IntVar(&f.retries, "retries", imapfetch.DefaultMaxRetries, "reconnections after connection faults before giving up (0: none)")
	f.policy.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `usage: bouncer run (--imap URL | --maildir DIR) [flags]

Fetch the bounce mailbox, record every bounce in the state and write the
suppression lists. One pass by default, for cron; --watch keeps running.

Each message is parsed, its recipients classified, and the message with its
bounces recorded in one transaction; only then is it moved (--after move, to
bounces-processed), flagged seen, deleted or left alone. What is not a bounce,
or cannot be read, goes to bounces-unrecognized for a human and is never
deleted. A message is recorded once, by the hash of its bytes, so a run that
was killed can simply be started again.

The lists are written from the whole history (--out, --out-dir), sorted and
dated from the bounces themselves: the same history gives the same bytes.
Policy: hard bounces and complaints suppress at once; soft bounces after
--soft-threshold of them on --soft-days different days within --soft-window;
policy blocks are only reported (policy.csv) unless --suppress-policy.

Environment: BOUNCER_IMAP, BOUNCER_MAILDIR, BOUNCER_PASSWORD_FILE,
BOUNCER_PASSWORD (the password itself; there is no flag for it),
BOUNCER_OAUTH_TOKEN_FILE, BOUNCER_CA_FILE, BOUNCER_STATE, BOUNCER_OUT,
BOUNCER_OUT_DIR, BOUNCER_FORMAT, BOUNCER_AFTER and BOUNCER_RULES stand in for
flags that are not given.

Exit status: 0 when the pass completed, 1 when it failed (the server could not
be reached, the login failed, the state is in use by another run…), 2 for a
bad command line.

Flags:
`)
		fs.PrintDefaults()
	}
	return f
}

// formatNames lists the list formats for usage texts.
func formatNames() string {
	var names []string
	for _, f := range suppress.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// applyEnv sets, from the environment, the flags of fs named in env that
// were not given on the command line.
func applyEnv(fs *flag.FlagSet, env map[string]string) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range env {
		if set[name] {
			continue
		}
		if val := os.Getenv(v); val != "" {
			if err := fs.Set(name, val); err != nil {
				return fmt.Errorf("$%s: %v", v, err)
			}
		}
	}
	return nil
}

// runConfig is a checked bouncer run command line (or the demo's).
type runConfig struct {
	imapURL  string
	imapOpts imapfetch.Options
	maildir  string
	after    afterAction
	state    string
	out      string
	outDir   string
	format   suppress.Format
	policy   *suppress.Policy
	classify classifyFunc
	watch    bool
	poll     time.Duration
	// processedFolder and unrecognizedFolder are the IMAP mailboxes, or
	// the Maildir++ folders, that receive recorded messages.
	processedFolder    string
	unrecognizedFolder string
	summaryPath        bool // print the absolute path of the list
}

// runCommand is bouncer run.
func runCommand(s *streams, args []string) int {
	f := newRunFlags(s)
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer run: "+format+"\n", a...)
		return exitUsage
	}
	if err := applyEnv(f.fs, runEnv); err != nil {
		return fail("%v", err)
	}
	if f.fs.NArg() > 0 {
		return fail("unexpected argument %q; see bouncer help run", f.fs.Arg(0))
	}
	cfg, msg := f.config()
	if msg != "" {
		return fail("%s", msg)
	}
	// Reconnections and UIDVALIDITY changes are worth a line on stderr.
	cfg.imapOpts.Logger = slog.New(&lineHandler{w: s.stderr})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return doRun(ctx, s, cfg)
}

// config checks the flags and returns the run they describe, or the
// problem with them.
func (f *runFlags) config() (*runConfig, string) {
	cfg := &runConfig{
		state:              f.state,
		out:                f.out,
		outDir:             f.outDir,
		watch:              f.watch,
		poll:               f.poll,
		processedFolder:    f.processedFolder,
		unrecognizedFolder: f.unrecognizedFolder,
	}
	switch {
	case f.imap == "" && f.maildir == "":
		return nil, "no mailbox: give --imap URL or --maildir DIR (or $BOUNCER_IMAP); see bouncer help run"
	case f.imap != "" && f.maildir != "":
		return nil, "give --imap or --maildir, not both"
	case f.state == "":
		return nil, "--state must not be empty"
	case f.poll <= 0:
		return nil, "--poll must be positive"
	}
	format, err := suppress.ParseFormat(f.format)
	if err != nil {
		return nil, fmt.Sprintf("unknown --format %q: want one of %s", f.format, formatNames())
	}
	cfg.format = format
	switch a := afterAction(f.after); a {
	case afterMove, afterSeen, afterDelete, afterNone:
		cfg.after = a
	default:
		return nil, fmt.Sprintf("unknown --after %q: want move, seen, delete or none", f.after)
	}
	if cfg.policy, err = f.policy.policy(); err != nil {
		return nil, err.Error()
	}
	if f.rules != "" {
		c, err := loadClassifier(f.rules)
		if err != nil {
			return nil, err.Error()
		}
		cfg.classify = c
	}
	if f.after == string(afterMove) && f.processedFolder == "" {
		return nil, "--after move needs a --processed-folder"
	}
	if f.maildir != "" {
		cfg.maildir = f.maildir
		return cfg, ""
	}

	u, err := imapfetch.ParseURL(f.imap)
	if err != nil {
		return nil, fmt.Sprintf("bad --imap URL: %v", strings.TrimPrefix(err.Error(), imapfetch.ErrURL.Error()+": "))
	}
	cfg.imapURL = f.imap
	o := &cfg.imapOpts
	o.CAFile = f.caFile
	o.InsecurePlaintext = f.insecurePlaintext
	if f.insecurePlaintext && u.Security == imapfetch.SecurityTLS {
		return nil, "--insecure-plaintext applies to imap:// URLs only"
	}
	switch {
	case f.passwordFile != "" && f.oauthTokenFile != "":
		return nil, "give --password-file or --oauth-token-file, not both"
	case f.oauthTokenFile != "":
		o.SecretFile = f.oauthTokenFile
		o.Mechanism = imapfetch.MechanismXOAuth2
	case f.passwordFile != "":
		o.SecretFile = f.passwordFile
	case os.Getenv(passwordEnv) != "":
		o.SecretEnv = passwordEnv
	default:
		return nil, "no password: give --password-file FILE, --oauth-token-file FILE or $" + passwordEnv
	}
	switch strings.ToLower(f.auth) {
	case "auto":
	case "plain":
		o.Mechanism = imapfetch.MechanismPlain
	case "login":
		o.Mechanism = imapfetch.MechanismLogin
	case "xoauth2":
		o.Mechanism = imapfetch.MechanismXOAuth2
	case "oauthbearer":
		o.Mechanism = imapfetch.MechanismOAuthBearer
	default:
		return nil, fmt.Sprintf("unknown --auth %q: want auto, plain, login, xoauth2 or oauthbearer", f.auth)
	}
	if f.retries < 0 {
		return nil, "--retries must not be negative"
	}
	o.MaxRetries = f.retries
	if f.retries == 0 {
		o.MaxRetries = -1 // imapfetch: negative means no retry
	}
	o.PollInterval = f.poll
	switch cfg.after {
	case afterMove:
		o.Action = imapfetch.ActionMove
		o.ProcessedMailbox = f.processedFolder
	case afterSeen:
		o.Action = imapfetch.ActionFlag
	case afterDelete:
		o.Action = imapfetch.ActionDelete
	case afterNone:
		o.Action = imapfetch.ActionNone
	}
	if cfg.after != afterNone {
		// With none the run is read-only: nothing moves.
		o.UnrecognizedMailbox = f.unrecognizedFolder
	}
	return cfg, ""
}

// doRun runs cfg and returns the exit status.
func doRun(ctx context.Context, s *streams, cfg *runConfig) int {
	errorf := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "bouncer: "+format+"\n", a...)
		return exitError
	}
	if dir := filepath.Dir(cfg.state); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return errorf("state %s: %v", cfg.state, oneLine(err))
		}
	}
	db, err := suppress.Open(ctx, cfg.state, nil)
	if err != nil {
		return errorf("state %s: %v", cfg.state, oneLine(err))
	}
	defer db.Close()
	if err := db.Lock(); err != nil {
		if errors.Is(err, suppress.ErrLocked) {
			return errorf("another bouncer is already running on the state %s; try again when it is done", cfg.state)
		}
		return errorf("state %s: %v", cfg.state, oneLine(err))
	}
	before, err := db.Lists(ctx, cfg.policy, nil)
	if err != nil {
		return errorf("state %s: %v", cfg.state, oneLine(err))
	}

	p := &processor{
		db:       db,
		classify: cfg.classify,
		progress: newProgress(s.stderr),
	}
	if d, err := time.ParseDuration(os.Getenv(slowEnv)); err == nil {
		p.slow = d
	}
	// In --watch mode the lists are rewritten after each pass that
	// recorded something.
	if cfg.watch && (cfg.out != "" || cfg.outDir != "") {
		lw := &listWriter{db: db, cfg: cfg, stderr: s.stderr}
		p.afterPass = lw.write
		p.dirty = true // write the lists after the first pass, new mail or not
	}

	var runErr error
	if cfg.maildir != "" {
		runErr = p.runMaildir(ctx, cfg)
	} else {
		runErr = p.runIMAP(ctx, cfg)
	}
	p.progress.done()
	interrupted := errors.Is(runErr, context.Canceled) && ctx.Err() != nil
	if cfg.watch && interrupted {
		runErr = nil // --watch ends with a signal
		interrupted = false
	}
	if runErr != nil && !interrupted && p.read() == 0 {
		// Nothing was read (no login, no mailbox): the error alone, and
		// the lists are left as they were.
		fmt.Fprintln(s.stderr, describeError(runErr, cfg))
		return exitError
	}

	// Write the lists from what was committed, even after a failure: they
	// are consistent with the state at any point.
	after, err := db.Lists(context.WithoutCancel(ctx), cfg.policy, nil)
	if err != nil {
		return errorf("state %s: %v", cfg.state, oneLine(err))
	}
	files, werr := writeLists(cfg, after)
	p.summary(s.stdout, cfg, before, after, files)
	if werr != nil {
		return errorf("%v", oneLine(werr))
	}
	switch {
	case interrupted:
		return errorf("interrupted; what was recorded is kept, run again to go on")
	case runErr != nil:
		fmt.Fprintln(s.stderr, describeError(runErr, cfg))
		return exitError
	}
	return exitOK
}

// writeLists writes the lists cfg asks for and returns the paths written.
func writeLists(cfg *runConfig, l suppress.Lists) ([]string, error) {
	var files []string
	if cfg.out != "" {
		if err := suppress.WriteFile(cfg.out, cfg.format, l.Suppressed); err != nil {
			return files, err
		}
		files = append(files, cfg.out)
	}
	if cfg.outDir != "" {
		paths, err := suppress.WriteDir(cfg.outDir, cfg.format, l)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// listWriter rewrites the lists in --watch mode.
type listWriter struct {
	db     *suppress.DB
	cfg    *runConfig
	stderr io.Writer
}

func (w *listWriter) write(ctx context.Context) {
	l, err := w.db.Lists(ctx, w.cfg.policy, nil)
	if err == nil {
		_, err = writeLists(w.cfg, l)
	}
	if err != nil {
		fmt.Fprintf(w.stderr, "bouncer: %v\n", oneLine(err))
	}
}

// describeError turns an error of a run into one line for stderr.
func describeError(err error, cfg *runConfig) string {
	var e *imapfetch.Error
	if !errors.As(err, &e) {
		return "bouncer: " + oneLine(err)
	}
	var who string
	if u, perr := imapfetch.ParseURL(cfg.imapURL); perr == nil {
		who = u.User + "@" + u.Host
	}
	detail := oneLine(e.Err)
	if e.Op != "" {
		detail = e.Op + ": " + detail
	}
	if rest, ok := strings.CutPrefix(oneLine(err), e.Error()); ok {
		detail += rest // what was added around it, e.g. "(gave up after 6 attempts)"
	}
	switch e.Kind {
	case imapfetch.KindAuth:
		return fmt.Sprintf("bouncer: imap: login failed for %s: %s", who, detail)
	case imapfetch.KindToken:
		return fmt.Sprintf("bouncer: imap: no OAuth2 token for %s: %s", who, detail)
	case imapfetch.KindCertificate:
		return fmt.Sprintf("bouncer: imap: the certificate of %s is not trusted (see --ca-file): %s", e.Addr, detail)
	case imapfetch.KindTLSRequired:
		return fmt.Sprintf("bouncer: imap: %s offers no STARTTLS (use imaps://, or --insecure-plaintext on a trusted network): %s", e.Addr, detail)
	case imapfetch.KindSecret:
		return fmt.Sprintf("bouncer: imap: cannot read the password: %s", detail)
	case imapfetch.KindMailbox:
		return fmt.Sprintf("bouncer: imap: cannot open mailbox %q: %s", e.Mailbox, detail)
	case imapfetch.KindUnreachable:
		return fmt.Sprintf("bouncer: imap: cannot reach %s: %s", e.Addr, detail)
	case imapfetch.KindDisconnected:
		return fmt.Sprintf("bouncer: imap: lost the connection to %s: %s", e.Addr, detail)
	case imapfetch.KindTimeout:
		return fmt.Sprintf("bouncer: imap: %s does not answer: %s", e.Addr, detail)
	case imapfetch.KindRefused:
		what := e.Op
		if e.Mailbox != "" {
			what += fmt.Sprintf(" %q", e.Mailbox)
		}
		return fmt.Sprintf("bouncer: imap: %s refused %s for good: %s", e.Addr, what, strings.TrimPrefix(detail, e.Op+": "))
	case imapfetch.KindOptions:
		return fmt.Sprintf("bouncer: imap: %s", detail)
	}
	return "bouncer: imap: " + strings.TrimPrefix(oneLine(err), "imapfetch: ")
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// runIMAP makes one pass over the IMAP mailbox, or watches it.
func (p *processor) runIMAP(ctx context.Context, cfg *runConfig) error {
	u, err := imapfetch.ParseURL(cfg.imapURL)
	if err != nil {
		return err
	}
	key := u.String() // the state key: server, user and mailbox, no secret
	p.source = "imap"
	f, err := imapfetch.Dial(ctx, cfg.imapURL, &cfg.imapOpts)
	if err != nil {
		return err
	}
	defer f.Close()
	state := &dbState{db: p.db, key: key}
	if p.afterPass != nil {
		state.afterSave = p.flushPass
	}
	h := func(ctx context.Context, m *imapfetch.Message) (imapfetch.Outcome, error) {
		out, err := p.process(ctx, m.Body, key, m.UIDValidity, m.UID, m.Received)
		if err != nil {
			return 0, err
		}
		if out == suppress.OutcomeBounce {
			return imapfetch.OutcomeProcessed, nil
		}
		return imapfetch.OutcomeUnrecognized, nil
	}
	if cfg.watch {
		return f.Watch(ctx, state, h)
	}
	_, err = f.Fetch(ctx, state, h)
	return err
}

// dbState is the imapfetch.State of a mailbox, kept in the suppress
// database under key.
type dbState struct {
	db  *suppress.DB
	key string
	// afterSave, if set, runs after each save: a batch was settled.
	afterSave func(context.Context)
}

func (s *dbState) Load(ctx context.Context, _ string) (uint32, uint32, error) {
	return s.db.LoadState(ctx, s.key)
}

func (s *dbState) Save(ctx context.Context, _ string, uidValidity, lastUID uint32) error {
	if err := s.db.SaveState(ctx, s.key, uidValidity, lastUID); err != nil {
		return err
	}
	if s.afterSave != nil {
		s.afterSave(ctx)
	}
	return nil
}

// processor records messages in the state and counts what it did.
type processor struct {
	db       *suppress.DB
	classify classifyFunc
	dsnOpts  *dsn.Options
	source   string // suppress.Message.Source
	progress *progress
	slow     time.Duration
	// afterPass, if set, runs after each batch of recorded messages when
	// new events were recorded since the last call.
	afterPass func(context.Context)

	mu    sync.Mutex
	stats runStats
	dirty bool
}

// runStats counts the messages of a run.
type runStats struct {
	messages     int // messages read
	already      int // of which recorded by an earlier run
	bounces      int // new messages with at least one failure
	notBounces   int // new messages that report no failure
	unrecognized int // new messages that could not be read as reports
	skipped      int // events refused (not an address, no date)
	events       map[classify.Category]int
}

// process reads one message from body, parses and classifies it, and records
// it with its events in one transaction. It returns the outcome stored. An
// error means nothing was recorded: the message could not be read whole, or
// the state failed.
func (p *processor) process(ctx context.Context, body io.Reader, mailbox string, uidValidity, uid uint32, received time.Time) (suppress.Outcome, error) {
	h := sha256.New()
	tr := &trackReader{r: body}
	tee := io.TeeReader(tr, h)
	rep, perr := safeParse(nil, tee, p.dsnOpts)
	// The hash covers the whole message, whatever the parser read.
	if _, err := io.Copy(io.Discard, tee); err != nil && tr.err == nil {
		tr.err = err
	}
	if tr.err != nil {
		return "", fmt.Errorf("read message: %w", tr.err)
	}

	m := &suppress.Message{
		Mailbox:     mailbox,
		UIDValidity: uidValidity,
		UID:         uid,
		Hash:        hex.EncodeToString(h.Sum(nil)),
		Source:      p.source,
	}
	malformed := perr != nil && !errors.Is(perr, dsn.ErrCharset) && !errors.Is(perr, dsn.ErrLimit)
	if rep != nil {
		m.MessageID = rep.MessageID
		m.Date = rep.Date
		if m.Date.IsZero() {
			m.Date = rep.ArrivalDate
		}
	}
	if m.Date.IsZero() {
		// A bounce with no Date: when the mailbox received it, which is
		// as much the bounce's own as its header (never the clock).
		m.Date = received
	}
	m.Date = notAfterArrival(m.Date, received)
	failure, unusable := false, false
	if rep != nil {
		for _, r := range recordsFor("", rep, perr, p.classify) {
			if r.Recipient == "" {
				continue
			}
			ev := suppress.Event{
				Address:    r.Recipient,
				Category:   r.Category,
				Reason:     r.Reason,
				Status:     r.Status,
				ReplyCode:  r.ReplyCode,
				Diagnostic: r.Diagnostic,
				Date:       notAfterArrival(r.Date, received),
				MessageID:  r.OriginalMessageID,
				Source:     rep.Vendor,
			}
			m.Events = append(m.Events, ev)
			if r.OriginalRecipient != "" {
				// A forward failed: the address on the list is the one the
				// message was sent to, which the report gives as
				// Original-Recipient; it shares the fate of the forward.
				ev.Address = r.OriginalRecipient
				m.Events = append(m.Events, ev)
			}
			if !isFailure(r.Category) {
				continue
			}
			// Record skips an event it cannot use: not an address, or no
			// date at all.
			if _, err := suppress.NormalizeAddress(r.Recipient); err == nil && (!r.Date.IsZero() || !m.Date.IsZero()) {
				failure = true
			} else {
				unusable = true
			}
		}
	}
	switch {
	case failure:
		// Even when part of the message was unreadable (a broken header
		// in the returned original, say), what it reports stands.
		m.Outcome = suppress.OutcomeBounce
	case malformed:
		m.Events = nil
		m.Outcome = suppress.OutcomeUnrecognized
	case unusable:
		// A failure that cannot be recorded: a human should see it.
		m.Outcome = suppress.OutcomeUnrecognized
	default:
		m.Outcome = suppress.OutcomeNotBounce
	}
	res, err := p.db.Record(ctx, m)
	if err != nil {
		return "", err
	}
	p.count(m, res)
	if p.slow > 0 {
		select {
		case <-time.After(p.slow):
		case <-ctx.Done():
		}
	}
	return res.Outcome, nil
}

func isFailure(c classify.Category) bool {
	switch c {
	case classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint:
		return true
	}
	return false
}

// count adds one recorded message to the stats.
func (p *processor) count(m *suppress.Message, res suppress.Result) {
	p.mu.Lock()
	st := &p.stats
	st.messages++
	if res.Already {
		st.already++
	} else {
		switch res.Outcome {
		case suppress.OutcomeBounce:
			st.bounces++
		case suppress.OutcomeNotBounce:
			st.notBounces++
		default:
			st.unrecognized++
		}
		st.skipped += len(res.Skipped)
		if st.events == nil {
			st.events = make(map[classify.Category]int)
		}
		// Record skips events that are not addresses or have no date, and
		// repeats of an address: count what it kept.
		seen := make(map[string]bool)
		for _, e := range m.Events {
			addr, err := suppress.NormalizeAddress(e.Address)
			if err != nil || seen[addr] || (e.Date.IsZero() && m.Date.IsZero()) {
				continue
			}
			seen[addr] = true
			if isFailure(e.Category) {
				st.events[e.Category]++
			}
		}
		if res.Events > 0 {
			p.dirty = true
		}
	}
	msgs, bounces := st.messages, st.bounces
	p.mu.Unlock()
	p.progress.update(msgs, bounces)
}

// read returns the number of messages read so far.
func (p *processor) read() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.messages
}

// flushPass runs afterPass when something new was recorded.
func (p *processor) flushPass(ctx context.Context) {
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = false
	p.mu.Unlock()
	if dirty && p.afterPass != nil {
		p.afterPass(ctx)
	}
}

// summary prints what the run did.
func (p *processor) summary(w io.Writer, cfg *runConfig, before, after suppress.Lists, files []string) {
	p.mu.Lock()
	st := p.stats
	p.mu.Unlock()
	fmt.Fprintf(w, "messages: %d read", st.messages)
	if st.already > 0 {
		fmt.Fprintf(w, " (%d already recorded by an earlier run)", st.already)
	}
	fmt.Fprintf(w, "; %d bounces, %d not bounces, %d unrecognized\n", st.bounces, st.notBounces, st.unrecognized)
	var parts []string
	for _, c := range []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint} {
		parts = append(parts, fmt.Sprintf("%d %s", st.events[c], c))
	}
	fmt.Fprintf(w, "bounces by category: %s\n", strings.Join(parts, ", "))
	if st.skipped > 0 {
		fmt.Fprintf(w, "skipped: %d recipients that are not addresses or have no date\n", st.skipped)
	}
	newly := suppress.NewlySuppressed(before.Suppressed, after.Suppressed)
	fmt.Fprintf(w, "newly suppressed: %d addresses\n", len(newly))
	const show = 20
	for i, e := range newly {
		if i == show {
			fmt.Fprintf(w, "  … and %d more\n", len(newly)-show)
			break
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n", e.Address, e.Category, e.Reason)
	}
	fmt.Fprintf(w, "suppression list: %d addresses; policy report: %d addresses\n", len(after.Suppressed), len(after.Policy))
	for _, f := range files {
		if cfg.summaryPath {
			if abs, err := filepath.Abs(f); err == nil {
				f = abs
			}
		}
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	if len(files) == 0 {
		fmt.Fprintf(w, "no list written (no --out or --out-dir); bouncer export --state %s writes it from the state\n", cfg.state)
	}
}

// progress shows a counter on stderr while a run goes, when stderr is a
// terminal.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	used bool
}

// newProgress returns a progress on w, or nil when w is not a terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w}
}

func (p *progress) update(messages, bounces int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.used = true
		fmt.Fprintf(p.w, "\r\033[Kbouncer: %d messages, %d bounces…", messages, bounces)
	}
}

// done clears the progress line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// lineHandler is a slog.Handler that writes warnings from imapfetch as one
// line each: "bouncer: imap: retrying: addr=… attempt=1 delay=1s err=…".
type lineHandler struct {
	w     io.Writer
	mu    sync.Mutex
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("bouncer: imap: ")
	b.WriteString(strings.TrimPrefix(r.Message, "imapfetch: "))
	sep := ": "
	add := func(a slog.Attr) bool {
		b.WriteString(sep)
		sep = " "
		v := a.Value.String()
		if strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(a.Key + "=" + v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lineHandler{w: h.w, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// maxClockSkew is how far after its arrival a bounce may date itself.
const maxClockSkew = 48 * time.Hour

// notAfterArrival returns d, or the arrival time when d lies further in the
// future than clock skew explains: one bounce dated 2099 would otherwise
// become the policy's "now" and age every real soft bounce out.
func notAfterArrival(d, arrival time.Time) time.Time {
	if !arrival.IsZero() && d.After(arrival.Add(maxClockSkew)) {
		return arrival
	}
	return d
}
