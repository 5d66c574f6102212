package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// Defaults of Options.
const (
	DefaultTimeout     = 30 * time.Second // one request, answer included
	DefaultMaxAttempts = 12               // then the event is recorded as failed (ErrGaveUp)
	DefaultMinBackoff  = time.Minute      // the wait after the first failed attempt
	DefaultMaxBackoff  = 6 * time.Hour    // the longest wait between two attempts
	DefaultBatchSize   = 100              // entries read from the outbox at a time
	DefaultInterval    = 30 * time.Second // Run's pause between two passes
	// MaxStatsErrors is the most errors kept in Stats.Errors.
	MaxStatsErrors = 20
)

// DefaultUserAgent is the User-Agent of every request.
const DefaultUserAgent = "bouncer (+https://github.com/bouncer-dev/bouncer)"

// Options configures New. The zero value, and a nil pointer, mean the
// defaults, except SecretFile, which every target needs.
type Options struct {
	// SecretFile holds the targets' credentials (the --push-secret-file
	// flag): one "NAME SECRET" a line, NAME a kind or a whole target
	// ("listmonk=https://lists.example.org"), the latter winning. listmonk
	// takes "API_USER:TOKEN", Mautic "USER:PASSWORD", the webhook the HMAC
	// key. Blank lines and lines starting with "#" are ignored.
	SecretFile string
	// AllowInsecure accepts http:// targets on hosts other than loopback
	// (localhost, 127.0.0.0/8, ::1): without it they are refused
	// (ErrInsecure), since their credentials and the addresses would
	// cross the network in clear.
	AllowInsecure bool
	// HTTPClient sends the requests; default a client with Timeout.
	// Redirects are never followed (a redirect is retried, like a 5xx),
	// so credentials go nowhere but the target's URL.
	HTTPClient *http.Client
	// Timeout bounds one request when HTTPClient has none; default
	// DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is how many attempts an event gets before it is recorded
	// as failed; default DefaultMaxAttempts.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before the next attempt:
	// MinBackoff after the first failure, doubling, never over MaxBackoff;
	// a Retry-After answer (429, 503) waits longer, up to MaxBackoff.
	// Defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// BatchSize is how many outbox entries are read at a time; default
	// DefaultBatchSize.
	BatchSize int
	// Interval is Run's pause between passes (Notify cuts it short);
	// default DefaultInterval.
	Interval time.Duration
	// UserAgent; default DefaultUserAgent.
	UserAgent string
	// Logger gets a line per failed attempt (never a secret); nil
	// discards.
	Logger *slog.Logger
	// Now is the clock for backoff and webhook timestamps; default
	// time.Now.
	Now func() time.Time
	// Policy is bouncer's suppression policy (nil: the defaults), whose
	// soft threshold decides which soft bounces reach listmonk (Soft).
	Policy *suppress.Policy
	// Soft says how soft bounces reach listmonk; default SoftThreshold.
	Soft SoftMode
}

// Deliverer pushes the events of a state's outbox to their targets. Its
// methods are safe for concurrent use; passes (Deliver, Run) take turns. Use
// one Deliverer per state: DB.Lock keeps a second process away, and within
// a process two Deliverers would send an entry twice. On a state shared by
// several hosts (PostgreSQL), a pass takes the lease "push:" + target name
// (suppress.DB.AcquireLease) for each target, so that one host at a time
// drains a target's queue; a target leased by another host is left to it.
type Deliverer struct {
	db      *suppress.DB
	targets []deliveryTarget
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time

	maxAttempts            int
	minBackoff, maxBackoff time.Duration
	batch                  int
	interval               time.Duration

	policy *suppress.Policy
	soft   SoftMode

	wake chan struct{}
	pass sync.Mutex // one pass at a time: two would send an entry twice
}

type deliveryTarget struct {
	Target
	name   string
	client interface {
		push(ctx context.Context, e *suppress.OutboxEntry) (Result, error)
		// check asks the target whether the credentials may do what the
		// pushes do, before any is due (Deliverer.Check).
		check(ctx context.Context) error
		// lift tells the target that an address is allowed again.
		lift(ctx context.Context, l *suppress.Lift) (Result, error)
	}
}

// New returns a Deliverer for targets and registers them with db
// (suppress.DB.SetOutbox), so that from then on each event that db records
// is queued for every target that takes its category (Kind.Categories) in
// the transaction that records it. Create it before recording.
func New(db *suppress.DB, targets []Target, opts *Options) (*Deliverer, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: no targets", ErrBadTarget)
	}
	d := &Deliverer{
		db:          db,
		log:         opts.Logger,
		now:         opts.Now,
		maxAttempts: or(opts.MaxAttempts, DefaultMaxAttempts),
		minBackoff:  or(opts.MinBackoff, DefaultMinBackoff),
		maxBackoff:  or(opts.MaxBackoff, DefaultMaxBackoff),
		batch:       or(opts.BatchSize, DefaultBatchSize),
		interval:    or(opts.Interval, DefaultInterval),
		policy:      opts.Policy,
		soft:        opts.Soft,
		wake:        make(chan struct{}, 1),
	}
	if d.soft == "" {
		d.soft = SoftThreshold
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.maxBackoff < d.minBackoff {
		d.maxBackoff = d.minBackoff
	}
	d.hc = httpClient(opts)
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}

	if opts.SecretFile == "" {
		return nil, fmt.Errorf("%w: no secret file", ErrSecret)
	}
	secrets, err := loadSecrets(opts.SecretFile)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	for _, t := range targets {
		if !opts.AllowInsecure && !secureTarget(t) {
			return nil, fmt.Errorf("%w %s: http:// would send its credentials and the addresses in clear to a host that is not loopback; use https:// (or allow it: --push-insecure)", ErrInsecure, t)
		}
		dt, err := d.newTarget(t, secrets, ua, seen)
		if err != nil {
			return nil, err
		}
		d.targets = append(d.targets, dt)
	}
	outbox := make([]suppress.OutboxTarget, 0, len(d.targets))
	for _, dt := range d.targets {
		outbox = append(outbox, suppress.OutboxTarget{Name: dt.name, Categories: dt.Kind.Categories()})
	}
	if err := db.SetOutbox(outbox); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return d, nil
}

// secureTarget reports whether t is https://, or http:// on a loopback
// host, where nothing crosses the network.
func secureTarget(t Target) bool {
	if t.URL == nil || t.URL.Scheme != "http" {
		return true
	}
	h := t.URL.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpClient returns the HTTP client of opts: a copy of opts.HTTPClient or
// a new one, with opts.Timeout (default DefaultTimeout) where it has none,
// that follows no redirect.
func httpClient(opts *Options) *http.Client {
	timeout := or(opts.Timeout, DefaultTimeout)
	hc := &http.Client{Timeout: timeout}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		if c.Timeout == 0 {
			c.Timeout = timeout
		}
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// newTarget checks t and returns it with the client that pushes to it,
// which authenticates with t's secret from secrets and sends ua. seen holds
// the names of the targets already made; t's is added.
func (d *Deliverer) newTarget(t Target, secrets secrets, ua string, seen map[string]bool) (deliveryTarget, error) {
	if !t.Kind.valid() || t.URL == nil {
		return deliveryTarget{}, fmt.Errorf("%w %s", ErrBadTarget, t)
	}
	name := t.String()
	if seen[name] {
		return deliveryTarget{}, fmt.Errorf("%w %s: given twice", ErrBadTarget, name)
	}
	seen[name] = true
	s, err := secrets.forTarget(t)
	if err != nil {
		return deliveryTarget{}, err
	}
	if err := checkSecret(t, s); err != nil {
		return deliveryTarget{}, err
	}
	dt := deliveryTarget{Target: t, name: name}
	switch t.Kind {
	case KindListmonk:
		dt.client = &listmonkClient{t: t, auth: s, hc: d.hc, ua: ua, db: d.db, policy: d.policy, soft: d.soft}
	case KindMautic:
		dt.client = &mauticClient{t: t, auth: s, hc: d.hc, ua: ua, db: d.db, policy: d.policy}
	case KindWebhook:
		dt.client = &webhookClient{t: t, secret: s, hc: d.hc, ua: ua, now: d.now}
	}
	return dt, nil
}

func or[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Stats counts what one Deliver pass did.
type Stats struct {
	Delivered int // accepted by their target and acted on, never sent again
	// NotSubscriber, AlreadyBlocklisted and BelowThreshold count the
	// entries done without effect, by their Result (not in Delivered).
	NotSubscriber, AlreadyBlocklisted, BelowThreshold int
	// Allowed counts the entries not sent because their address was
	// allowed again before they were delivered (ResultAllowed).
	Allowed int
	// Lifted counts the lifts of suppressions told (see lift.go).
	Lifted  int
	Retried int // failed for now; due again after a backoff
	Failed  int // refused for good, or out of attempts: recorded as failed
	// Uncertain counts the entries sent again after an attempt whose
	// outcome is unknown (a crash or a stop during the request, or no
	// answer): the target may have them twice (see the package doc).
	Uncertain int
	// Errors are the errors of the failed attempts, at most
	// MaxStatsErrors of them (each an *Error, or wrapping one).
	Errors []error
}

// count counts an entry done with result.
func (s *Stats) count(result Result) {
	switch result {
	case ResultNotSubscriber:
		s.NotSubscriber++
	case ResultAlreadyBlocklisted:
		s.AlreadyBlocklisted++
	case ResultBelowThreshold:
		s.BelowThreshold++
	case ResultAllowed:
		s.Allowed++
	default:
		s.Delivered++
	}
}

func (s *Stats) add(err error) {
	if len(s.Errors) < MaxStatsErrors {
		s.Errors = append(s.Errors, err)
	}
}

// testHookAccepted, when set by a test, runs after a target accepted an
// entry and before it is marked delivered: the crash window.
var testHookAccepted func(e *suppress.OutboxEntry)

// Deliver makes one pass over the outbox: every entry due now, target by
// target, oldest first. A target that fails an attempt in a way worth
// retrying, or refuses the credentials, is left alone for the rest of the
// pass; its other entries wait for the next. No transaction is held during
// a request, so Record never waits for a target. The error is a state error
// or ctx's; a failed push is counted in Stats, not returned. When ctx ends
// during a request, the entry stays in flight and is sent again, as
// Uncertain, next time; a deadline on ctx bounds a pass.
func (d *Deliverer) Deliver(ctx context.Context) (Stats, error) {
	d.pass.Lock()
	defer d.pass.Unlock()
	var st Stats
	start := d.now()
	for _, t := range d.targets {
		if err := d.deliverLeased(ctx, t, start, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// deliverLeased is deliverTarget under the target's lease on a shared
// state.
func (d *Deliverer) deliverLeased(ctx context.Context, t deliveryTarget, start time.Time, st *Stats) error {
	if !d.db.Shared() {
		return d.deliverTarget(ctx, t, start, st)
	}
	lease, err := d.db.AcquireLease(ctx, "push:"+t.name, nil)
	if errors.Is(err, suppress.ErrLeased) {
		return nil // another host drains this target now
	}
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-lctx.Done():
		}
	}()
	return d.deliverTarget(lctx, t, start, st)
}

func (d *Deliverer) deliverTarget(ctx context.Context, t deliveryTarget, start time.Time, st *Stats) error {
	stop, err := d.deliverEvents(ctx, t, start, st)
	if err != nil || stop {
		return err
	}
	_, err = d.deliverLifts(ctx, t, st)
	return err
}

// deliverEvents delivers t's due events; stop is true when t must be left
// alone for the rest of the pass.
func (d *Deliverer) deliverEvents(ctx context.Context, t deliveryTarget, start time.Time, st *Stats) (stop bool, err error) {
	for {
		due, err := d.db.Due(ctx, t.name, start, d.batch)
		if err != nil {
			return false, err
		}
		for i := range due {
			e := &due[i]
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if e.Allowed {
				if err := d.skipAllowed(ctx, t, e, st); err != nil {
					return false, err
				}
				continue
			}
			if err := d.db.BeginAttempt(ctx, e.ID); err != nil {
				return false, err
			}
			if e.Uncertain {
				st.Uncertain++
				d.log.Warn("push: sending again an event whose earlier attempt may have reached the target",
					"target", t.name, "event", e.Key, "email", e.Event.Address)
			}
			result, perr := t.client.push(ctx, e)
			if perr != nil && ctx.Err() != nil {
				return false, ctx.Err() // the outcome is unknown: the entry stays in flight
			}
			if perr == nil && testHookAccepted != nil {
				testHookAccepted(e)
			}
			// Record the outcome even if ctx ends now: after a 2xx,
			// marking it is what keeps it from being sent twice.
			mctx := context.WithoutCancel(ctx)
			stop, err := d.conclude(mctx, t, e, result, perr, st)
			if err != nil || stop {
				return stop, err
			}
		}
		if len(due) < d.batch {
			return false, nil
		}
	}
}

// skipAllowed marks done, unsent, an entry whose address was allowed
// again since it was queued (ResultAllowed). One that an earlier attempt
// may have delivered (Uncertain) is marked acted on instead, so that the
// lift of the allow (lift.go) goes to the target and undoes it.
func (d *Deliverer) skipAllowed(ctx context.Context, t deliveryTarget, e *suppress.OutboxEntry, st *Stats) error {
	st.count(ResultAllowed)
	result := ResultAllowed
	if e.Uncertain {
		result = ResultActed
	}
	d.log.Info("push: not sent: the address was allowed again", "target", t.name, "event", e.Key, "email", e.Event.Address)
	return d.db.MarkDone(context.WithoutCancel(ctx), e.ID, d.now(), string(result))
}

// conclude records the outcome of one attempt; stop is true when the target
// must be left alone for the rest of the pass.
func (d *Deliverer) conclude(ctx context.Context, t deliveryTarget, e *suppress.OutboxEntry, result Result, perr error, st *Stats) (stop bool, err error) {
	now := d.now()
	if perr == nil {
		st.count(result)
		return false, d.db.MarkDone(ctx, e.ID, now, string(result))
	}
	attempts := e.Attempts + 1
	var pe *Error
	if errors.As(perr, &pe) && pe.Permanent() {
		st.Failed++
		st.add(perr)
		d.log.Warn("push: refused", "target", t.name, "event", e.Key, "email", e.Event.Address, "err", perr)
		return errors.Is(perr, ErrUnauthorized), d.db.MarkFailed(ctx, e.ID, now, perr)
	}
	if attempts >= d.maxAttempts {
		st.Failed++
		gave := fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, attempts, perr)
		st.add(gave)
		d.log.Warn("push: giving up", "target", t.name, "event", e.Key, "email", e.Event.Address, "err", gave)
		return false, d.db.MarkFailed(ctx, e.ID, now, gave)
	}
	st.Retried++
	st.add(perr)
	wait := d.backoff(attempts)
	if pe != nil && pe.RetryAfter > wait {
		wait = min(pe.RetryAfter, d.maxBackoff)
	}
	d.log.Warn("push: will retry", "target", t.name, "event", e.Key, "email", e.Event.Address,
		"attempt", attempts, "wait", wait, "err", perr)
	// The target is down or overloaded: leave it alone for the rest of the
	// pass, so that a pass costs one timeout, not one per queued event.
	if unanswered(perr) {
		return true, d.db.MarkUnanswered(ctx, e.ID, now.Add(wait), perr)
	}
	return true, d.db.MarkRetry(ctx, e.ID, now.Add(wait), perr)
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled n-1
// times, at most MaxBackoff.
func (d *Deliverer) backoff(n int) time.Duration {
	w := d.minBackoff
	for i := 1; i < n && w < d.maxBackoff; i++ {
		w *= 2
	}
	return min(w, d.maxBackoff)
}

// Notify wakes Run for a pass now, without waiting for Interval: call it
// after recording new events. It never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: a pass (Deliver), then a pause of Interval
// or until Notify. A pass that fails on the state is logged and tried again
// after the pause, unless the state is closed. It returns ctx's error, or
// one wrapping suppress.ErrClosed.
func (d *Deliverer) Run(ctx context.Context) error {
	for {
		st, err := d.Deliver(ctx)
		if st.Delivered+st.Retried+st.Failed > 0 {
			d.log.Info("push: pass", "delivered", st.Delivered, "retried", st.Retried, "failed", st.Failed,
				"uncertain", st.Uncertain)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, suppress.ErrClosed) {
				return err
			}
			d.log.Error("push: pass failed", "err", err)
		}
		timer := time.NewTimer(d.interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-d.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// Targets returns the targets, in the order given to New.
func (d *Deliverer) Targets() []Target {
	out := make([]Target, len(d.targets))
	for i, t := range d.targets {
		out[i] = t.Target
	}
	return out
}

// unanswered reports whether a request may have reached the target and got
// no answer: not a refused connection, not an HTTP status.
func unanswered(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 0 {
		return false
	}
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}
