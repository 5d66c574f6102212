package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Stats counts what Run did. Messages are counted once committed.
type Stats struct {
	Messages int // messages committed: recorded now, or found recorded
	Already  int // of which recorded before this Run (known by hash or UID)
	// Duplicates counts, of Messages, the copies of a message this Run
	// recorded itself (the same bytes met again: two copies in the
	// mailbox), known by their hash.
	Duplicates int
	// Expected is how many messages the source announced (the new
	// messages of an IMAP mailbox, the files of a Maildir), for progress;
	// 0 when it does not say.
	Expected int
	// New messages by outcome.
	Bounces    int // at least one failure that suppresses
	NotBounces int // no failure (auto-replies, delivery notices, mail)
	// WithoutProof counts the new messages whose failures all suppress
	// nothing for want of proof or confirmation (Unverified,
	// Unconfirmed): not counted in NotBounces.
	WithoutProof int
	Unrecognized int // not read as a report, or a failure that cannot be recorded, or Incomplete
	// Incomplete counts new messages that hit a limit (counted in
	// Unrecognized: they go to a human).
	Incomplete int
	// Failed counts messages that could not be read whole: not recorded,
	// left in place for the next pass.
	Failed int
	// Skipped counts events the state refused (not an address, no date).
	Skipped int
	// Unconfirmed and Unverified count failures recorded without effect
	// (NoteUnconfirmed, a failed Proof); Unproven those a Proof did not
	// prove that suppress all the same (Options.ProofReportOnly).
	Unconfirmed, Unverified, Unproven int
	// Flooded counts new messages that named more failed addresses than
	// Options.MaxSuppressPerMessage without a Proof: recorded, suppress
	// nothing, left for a human (counted in Unrecognized). FloodedNames
	// names the first MaxFloodedNames of them.
	Flooded      int
	FloodedNames []string
	// Events counts the failures recorded, by category, once per address
	// and message.
	Events map[classify.Category]int
	// Push is what the delivery pass of a Run without Watch did
	// (Options.Push; nil when there was none), and PushErr why it stopped
	// early (its deadline, the state); what it did not deliver waits in
	// the outbox.
	Push    *push.Stats
	PushErr error
}

// Run is the bounce job: it reads every new message of src, parses and
// classifies it, records it with its events in db, and lets src act on it
// (move, flag, delete) only once that is committed. With Options.Watch it
// goes on until ctx is canceled.
//
// Messages are read by the source's goroutine, parsed by Options.Workers
// workers and recorded by one writer, many per transaction (Options.
// BatchSize, Options.BatchTime), with statements prepared once. A message
// already recorded is known before it is parsed: by its mailbox,
// UIDVALIDITY and UID, or by the hash of its bytes. After a crash at any
// moment a new Run completes the work and the history is that of an
// uninterrupted run: what was committed is not recorded twice, and what was
// not committed was not acted on.
//
// The Stats are valid even when an error is returned.
//
// On a shared state (PostgreSQL), or with Options.LeaseKey, Run first
// takes the lease of the mailbox (suppress.DB.AcquireLease; with Watch it
// waits for it) and holds it while it works: one host at a time works a
// mailbox. When the lease is lost the work stops, and the error wraps
// suppress.ErrLeaseLost (with Watch, Run waits for the lease again).
func Run(ctx context.Context, db *suppress.DB, src mailsource.Source, opts *Options) (Stats, error) {
	o := opts.withDefaults()
	if key := leaseKey(db, src, &o); key != "" {
		return runLeased(ctx, db, src, &o, key)
	}
	return run(ctx, db, src, &o)
}

// run is Run without the lease.
func run(ctx context.Context, db *suppress.DB, src mailsource.Source, opts *Options) (Stats, error) {
	var ulog *unverifiedLog
	if opts != nil && opts.UnverifiedFile != "" {
		l, err := openUnverified(opts.UnverifiedFile)
		if err != nil {
			return Stats{}, err
		}
		defer l.f.Close()
		ulog = l
	}
	r := newRunner(db, opts)
	r.unverified = ulog
	if l, ok := src.(mailsource.Locator); ok {
		r.locate = l.Location
	}
	warnForeignHistory(ctx, db, src, r.o.Logger)
	var pushed chan struct{}
	if d := r.o.Push; d != nil && r.o.Watch {
		pushed = make(chan struct{})
		go func() {
			defer close(pushed)
			d.Run(ctx) // ends with ctx; a failed pass is logged by d
		}()
	}
	err := r.drive(ctx, src)
	if cerr := r.close(); err == nil {
		err = cerr
	}
	st := r.Stats()
	switch {
	case pushed != nil:
		<-pushed
	case r.o.Push != nil && ctx.Err() == nil:
		// What was committed, even by a run that failed, is delivered.
		pctx, cancel := context.WithTimeout(ctx, r.o.PushTimeout)
		ps, perr := r.o.Push.Deliver(pctx)
		cancel()
		st.Push, st.PushErr = &ps, perr
	}
	return st, err
}

// drive makes the passes.
func (r *runner) drive(ctx context.Context, src mailsource.Source) error {
	if !r.o.Watch {
		return src.Pass(ctx, r)
	}
	if w, ok := src.(mailsource.Watcher); ok {
		return w.Watch(ctx, r)
	}
	for {
		if err := src.Pass(ctx, r); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		t := time.NewTimer(r.o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// job is one message on its way through Run.
type job struct {
	ticket mailsource.Ticket
	msg    mailsource.Message // Body nil
	data   *[]byte            // the message, for a worker
	hash   string
	res    *Result
	// already is set when the message was recorded before; stored is its
	// outcome.
	already bool
	stored  suppress.Outcome
	// failed is the error of a message that could not be read whole.
	failed error
	// recorded is what the state said.
	recorded suppress.Result
}

// runner is the Sink of Run: the workers and the writer.
type runner struct {
	p  *Processor
	db *suppress.DB
	o  Options

	jobs    chan *job
	results chan *job
	flush   chan flushRequest
	workers sync.WaitGroup
	written chan struct{} // closed when the writer is done

	next  mailsource.Ticket // Add and Commit run on the source's goroutine
	added uint64

	mu    sync.Mutex
	stats Stats
	fatal error // a state error: Add refuses more work
	dirty bool  // a commit recorded new events since OnCommit last ran

	unverified *unverifiedLog // Options.UnverifiedFile, written by the writer
	unproven   []Unverified   // committed, not yet written (r.mu)

	// recorded holds the first bytes of the hash of each message this Run
	// recorded, to tell a copy met again (Stats.Duplicates) from a
	// message of an earlier run; the writer's alone.
	recorded map[uint64]struct{}
	// locate says where a committed message is once the source has acted
	// on it (mailsource.Locator), for the unverified list; nil when the
	// source cannot say.
	locate func(name string, o mailsource.Outcome) string
}

type flushRequest struct {
	target uint64
	reply  chan flushReply
}

type flushReply struct {
	done []mailsource.Committed
	err  error
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func newRunner(db *suppress.DB, opts *Options) *runner {
	p := NewProcessor(opts)
	r := &runner{
		p: p, db: db, o: p.opts,
		recorded: make(map[uint64]struct{}),
		jobs:     make(chan *job, p.opts.Queue),
		results:  make(chan *job, p.opts.Queue+p.opts.Workers),
		flush:    make(chan flushRequest),
		written:  make(chan struct{}),
	}
	for range r.o.Workers {
		r.workers.Add(1)
		go r.work()
	}
	go r.write()
	return r
}

// close commits what is left and stops the goroutines.
func (r *runner) close() error {
	close(r.jobs)
	r.workers.Wait()
	close(r.results)
	<-r.written
	return r.fatalErr()
}

// Stats returns the running totals.
func (r *runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.FloodedNames = slices.Clone(r.stats.FloodedNames)
	st.Events = make(map[classify.Category]int, len(r.stats.Events))
	for k, v := range r.stats.Events {
		st.Events[k] = v
	}
	return st
}

// Add implements mailsource.Sink.
func (r *runner) Add(ctx context.Context, m *mailsource.Message) (mailsource.Ticket, error) {
	r.mu.Lock()
	fatal := r.fatal
	r.mu.Unlock()
	if fatal != nil {
		return 0, fatal
	}
	r.next++
	j := &job{ticket: r.next, msg: *m}
	j.msg.Body = nil
	if m.UID != 0 {
		out, ok, err := r.db.Lookup(ctx, &suppress.Message{Mailbox: m.Mailbox, UIDValidity: m.UIDValidity, UID: m.UID})
		if err != nil {
			return 0, err
		}
		if ok {
			j.already, j.stored = true, out
			return j.ticket, r.send(ctx, r.results, j)
		}
	}
	buf := bufPool.Get().(*[]byte)
	complete, err := mailsource.ReadSized(m.Body, buf, r.o.InlineBytes, m.Size)
	switch {
	case err != nil:
		bufPool.Put(buf)
		j.failed = fmt.Errorf("pipeline: read %s: %w", m.Name, err)
		return j.ticket, r.send(ctx, r.results, j)
	case !complete:
		// A large message: parsed here as it streams, not held whole.
		m2 := *m
		m2.Body = io.MultiReader(bytes.NewReader(*buf), m.Body)
		res, err := r.p.Process(ctx, &m2)
		bufPool.Put(buf)
		if err != nil {
			j.failed = err
		} else {
			j.res, j.hash = res, res.Message.Hash
		}
		return j.ticket, r.send(ctx, r.results, j)
	}
	// Hashed, looked up and parsed by a worker.
	j.data = buf
	return j.ticket, r.send(ctx, r.jobs, j)
}

// Expect implements mailsource.Expecter: the source is about to hand over
// n messages.
func (r *runner) Expect(n int) {
	r.mu.Lock()
	r.stats.Expected += n
	r.mu.Unlock()
}

// send queues j on ch and counts it for Commit.
func (r *runner) send(ctx context.Context, ch chan *job, j *job) error {
	select {
	case ch <- j:
		r.added++
		return nil
	case <-ctx.Done():
		if j.data != nil {
			bufPool.Put(j.data)
		}
		return ctx.Err()
	}
}

// Commit implements mailsource.Sink.
func (r *runner) Commit(ctx context.Context) ([]mailsource.Committed, error) {
	req := flushRequest{target: r.added, reply: make(chan flushReply, 1)}
	select {
	case r.flush <- req:
	case <-r.written:
		return nil, errors.New("pipeline: run closed")
	}
	rep := <-req.reply
	if rep.err == nil && (r.o.OnCommit != nil || r.o.Push != nil) && r.takeDirty() {
		if r.o.Push != nil {
			r.o.Push.Notify()
		}
		if r.o.OnCommit != nil {
			r.o.OnCommit(ctx)
		}
	}
	return rep.done, rep.err
}

// work hashes the jobs that were read whole, looks them up (many per
// query) and parses those not recorded yet.
func (r *runner) work() {
	defer r.workers.Done()
	ctx := context.Background()
	var br bytes.Reader
	group := make([]*job, 0, suppress.KnownBatch)
	hashes := make([]string, 0, suppress.KnownBatch)
	for j := range r.jobs {
		// Take what else is waiting, for one lookup.
		group = append(group[:0], j)
	more:
		for len(group) < cap(group) {
			select {
			case j, ok := <-r.jobs:
				if !ok {
					break more
				}
				group = append(group, j)
			default:
				break more
			}
		}
		hashes = hashes[:0]
		for _, j := range group {
			sum := sha256.Sum256(*j.data)
			j.hash = hex.EncodeToString(sum[:])
			hashes = append(hashes, j.hash)
		}
		known, err := r.db.KnownHashes(ctx, hashes)
		for _, j := range group {
			out, ok := known[j.hash]
			switch {
			case err != nil:
				j.failed = err
			case ok:
				// Known by its hash: not parsed again.
				j.already, j.stored = true, out
			default:
				br.Reset(*j.data)
				rep, perr := r.p.parse(&br)
				j.res = r.p.build(ctx, &j.msg, j.hash, *j.data, rep, perr)
				br.Reset(nil)
			}
			if cap(*j.data) <= 4*r.o.InlineBytes {
				*j.data = (*j.data)[:0]
				bufPool.Put(j.data)
			}
			j.data = nil
			r.results <- j
		}
	}
}

// processedCounter is a source that can say how many messages its
// processed folder holds (mailsource.Maildir).
type processedCounter interface{ Processed() int }

// warnForeignHistory warns when the state has recorded nothing while the
// source's processed folder already holds messages: another state (a
// second --state file, a lost one) worked this mailbox, and the history of
// those bounces is not in this one. (imapfetch warns the same for IMAP.)
func warnForeignHistory(ctx context.Context, db *suppress.DB, src mailsource.Source, log *slog.Logger) {
	pc, ok := src.(processedCounter)
	if !ok {
		return
	}
	n := pc.Processed()
	if n == 0 {
		return
	}
	if c, err := db.Counts(ctx); err == nil && c.Messages == 0 {
		log.Warn("pipeline: this state has recorded nothing, but the processed folder already holds messages: another state may be working this mailbox, and the history of those bounces is not in this one (check --state)",
			"messages", n)
	}
}
