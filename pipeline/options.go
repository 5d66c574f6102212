package pipeline

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Defaults of the Options fields.
const (
	// DefaultBatchSize is the number of messages recorded per transaction.
	DefaultBatchSize = 1000
	// DefaultBatchTime is how long a transaction stays open at most.
	DefaultBatchTime = time.Second
	// DefaultInlineBytes is the size up to which a message is read into
	// memory and parsed by a worker; a larger one is parsed as it streams.
	DefaultInlineBytes = 1 << 20
	// DefaultQueue is the number of messages waiting for a worker.
	DefaultQueue = 64
	// DefaultPoll is how often a watched source without a wait of its own
	// (a Maildir) is looked at.
	DefaultPoll = time.Minute
	// DefaultPushTimeout bounds the delivery pass of a Run without Watch.
	DefaultPushTimeout = 2 * time.Minute
	// DefaultMaxSuppressPerMessage is how many addresses one message may
	// suppress when no Proof is configured (Options.MaxSuppressPerMessage).
	DefaultMaxSuppressPerMessage = 100
	// MaxFloodedNames caps the messages named in Stats.FloodedNames (all
	// of them are counted in Stats.Flooded and logged).
	MaxFloodedNames = 20
)

// Options configures a Processor, Run and Parse. The zero value, and a nil
// pointer, mean the defaults.
type Options struct {
	// DSN are the limits of the parser (dsn.Options; each cap there has a
	// default). A message that hits one is reported (Stats.Incomplete, the
	// log, the record's note) and is not counted as cleanly done.
	DSN dsn.Options
	// Classify judges each recipient; default classify.Classify.
	Classify Classifier
	// Proof, if set, verifies each recipient of a bounce before its
	// failure may suppress (see Proof).
	Proof Proof
	// ProofReportOnly makes a failure that Proof does not prove suppress
	// all the same; it is still reported (Stats.Unproven,
	// UnverifiedFile). The zero value requires proof.
	ProofReportOnly bool
	// MaxSuppressPerMessage caps, when Proof is nil, the addresses one
	// message may suppress: nothing proves that a bounce answers our own
	// mail, and one forged report can name a million addresses. A message
	// whose failures name more is recorded whole but suppresses none of
	// them (NoteFlood), goes to a human (suppress.OutcomeUnrecognized), and
	// is counted and named in Stats.Flooded and the log. With a Proof each
	// recipient is proven on its own and there is no cap. Default
	// DefaultMaxSuppressPerMessage (100); negative: no cap.
	MaxSuppressPerMessage int
	// UnverifiedFile, if set, is a CSV file that Run appends each
	// unproven failure to once it is committed (email, reason, evidence,
	// category, date, message, suppressed), with a header line when it
	// is new. Run opens it before it reads the first message.
	UnverifiedFile string
	// Workers is the number of messages parsed at once; default
	// runtime.GOMAXPROCS(0).
	Workers int
	// Queue is the number of read messages waiting for a worker, which
	// with InlineBytes bounds the memory in flight; default DefaultQueue.
	Queue int
	// InlineBytes is the size up to which a message is read into memory
	// and handed to a worker; the rest of a larger one is parsed as it
	// streams. Default DefaultInlineBytes (1 MiB).
	InlineBytes int

	// Source names where the messages come from in the state ("imap",
	// "maildir:/path"): suppress.Message.Source.
	Source string
	// BatchSize caps the messages of one transaction; default
	// DefaultBatchSize (1,000).
	BatchSize int
	// BatchTime caps how long a transaction stays open; default
	// DefaultBatchTime (1 s). A source commits more often when it acts
	// (an IMAP batch, a Maildir batch).
	BatchTime time.Duration
	// Watch keeps Run going until its context is canceled: a
	// mailsource.Watcher waits for mail itself, another source is passed
	// over every Poll (default DefaultPoll).
	Watch bool
	Poll  time.Duration
	// OnCommit, if set, runs after each commit that recorded new events
	// (bouncer run --watch rewrites its lists there).
	OnCommit func(ctx context.Context)
	// Progress, if set, receives the running totals after each commit.
	Progress func(Stats)
	// Logger receives one line per message that hit a limit, was not
	// confirmed or verified, or could not be read. Default: discard.
	Logger *slog.Logger
	// Push, if set, delivers the events Run records to their targets
	// (package push; make it with push.New on the same state before Run,
	// so that each recorded event is queued in its transaction). Without
	// Watch, Run makes one delivery pass after the mailbox work, bounded
	// by PushTimeout; with Watch, the Deliverer runs beside the job, woken
	// after each commit that recorded events, and Run waits for it before
	// it returns. A failed push never fails Run: Stats.Push counts it.
	Push *push.Deliverer
	// PushTimeout bounds the delivery pass without Watch; what is left is
	// delivered by the next run. Default DefaultPushTimeout (2 min).
	PushTimeout time.Duration
	// LeaseKey, if set, is the mailbox key Run leases before it works the
	// source, so that one host at a time works it. Default: on a shared
	// state (suppress.DB.Shared: PostgreSQL), an IMAP source's mailbox key
	// (server, user and mailbox), or for a Maildir "maildir://HOST/PATH"
	// (local to its host: set LeaseKey for a Maildir that hosts share);
	// on SQLite, none.
	LeaseKey string
	// Lease sets the lease's TTL, renewal and holder name
	// (suppress.LeaseOptions; the zero value means its defaults).
	Lease suppress.LeaseOptions

	// Delay is a pause after each message is recorded, inside its
	// transaction: for tests that kill a run in the middle. Zero in use.
	Delay time.Duration
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Workers <= 0 {
		v.Workers = runtime.GOMAXPROCS(0)
	}
	if v.Queue <= 0 {
		v.Queue = DefaultQueue
	}
	if v.InlineBytes <= 0 {
		v.InlineBytes = DefaultInlineBytes
	}
	if v.BatchSize <= 0 {
		v.BatchSize = DefaultBatchSize
	}
	if v.BatchTime <= 0 {
		v.BatchTime = DefaultBatchTime
	}
	if v.Poll <= 0 {
		v.Poll = DefaultPoll
	}
	if v.MaxSuppressPerMessage == 0 {
		v.MaxSuppressPerMessage = DefaultMaxSuppressPerMessage
	}
	if v.PushTimeout <= 0 {
		v.PushTimeout = DefaultPushTimeout
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v
}
