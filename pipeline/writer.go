package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
)

// writer is the state of the goroutine that records: the open
// transaction and the jobs it holds.
type writer struct {
	r       *runner
	ctx     context.Context
	batch   *suppress.Batch
	err     error  // the batch failed: it is rolled back at commit
	open    []*job // jobs since the last commit, in the order received
	done    []mailsource.Committed
	timer   *time.Timer
	timerOn bool
}

// write records the parsed jobs, many per transaction, until results is
// closed; then it commits what is left.
func (r *runner) write() {
	defer close(r.written)
	w := &writer{r: r, ctx: context.Background(), timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	var received uint64
	var pending *flushRequest
	for {
		select {
		case j, ok := <-r.results:
			if !ok {
				w.commit()
				if pending != nil {
					pending.reply <- flushReply{done: w.take(), err: r.fatalErr()}
				}
				return
			}
			received++
			w.add(j)
			if w.batch != nil && w.batch.Len() >= r.o.BatchSize {
				w.commit()
			}
		case <-w.timer.C:
			w.timerOn = false
			w.commit()
		case req := <-r.flush:
			pending = &req
		}
		if pending != nil && received >= pending.target {
			w.commit()
			pending.reply <- flushReply{done: w.take(), err: r.fatalErr()}
			pending = nil
		}
	}
}

// add records j into the open transaction (a message known already, or
// that failed, needs none).
func (w *writer) add(j *job) {
	w.open = append(w.open, j)
	if j.already || j.failed != nil || w.err != nil {
		return
	}
	if w.batch == nil {
		b, err := w.r.db.Begin(w.ctx)
		if err != nil {
			w.err = err
			return
		}
		w.batch = b
		w.timer.Reset(w.r.o.BatchTime)
		w.timerOn = true
	}
	j.recorded, w.err = w.batch.Record(w.ctx, &j.res.Message)
	if w.r.o.Delay > 0 {
		time.Sleep(w.r.o.Delay)
	}
}

// commit ends the open transaction and reports its jobs. When it failed
// (a full disk, say), the log is checkpointed to give its space back and
// the messages are recorded again one transaction each, so that what fits
// is kept; the first that fails again ends the run.
func (w *writer) commit() {
	if w.timerOn {
		w.timer.Stop()
		w.timerOn = false
	}
	if len(w.open) == 0 {
		return
	}
	err := w.err
	if w.batch != nil {
		if err == nil {
			err = w.batch.Commit(w.ctx)
		}
		w.batch.Rollback()
		w.batch = nil
	}
	w.err = nil
	jobs := w.open
	w.open = nil
	if err == nil {
		w.report(jobs, len(jobs))
		return
	}
	if errors.Is(err, suppress.ErrDiskFull) {
		w.r.db.Checkpoint(w.ctx)
	}
	n := 0
	for n < len(jobs) {
		j := jobs[n]
		if !j.already && j.failed == nil {
			j.recorded, err = w.r.db.Record(w.ctx, &j.res.Message)
			if err != nil {
				break
			}
		}
		n++
	}
	w.report(jobs, n)
	if n < len(jobs) {
		w.r.setFatal(err)
	}
}

// report adds the first n jobs, committed, to the answer of the next
// Commit and to the stats.
func (w *writer) report(jobs []*job, n int) {
	r := w.r
	log := r.o.Logger
	r.mu.Lock()
	st := &r.stats
	if st.Events == nil {
		st.Events = make(map[classify.Category]int)
	}
	for _, j := range jobs[:n] {
		c := mailsource.Committed{Ticket: j.ticket}
		switch {
		case j.failed != nil:
			c.Outcome, c.Err = mailsource.OutcomeFailed, j.failed
			st.Failed++
			log.Warn("pipeline: message not read whole, left in place", "message", j.msg.Name, "err", j.failed)
		case j.already || j.recorded.Already:
			stored := j.stored
			if !j.already {
				stored = j.recorded.Outcome
			}
			c.Outcome = sourceOutcome(stored)
			st.Messages++
			if _, ok := r.recorded[hashKey(j.hash)]; ok && j.hash != "" {
				st.Duplicates++
			} else {
				st.Already++
			}
		default:
			c.Outcome = sourceOutcome(j.recorded.Outcome)
			if j.hash != "" {
				r.recorded[hashKey(j.hash)] = struct{}{}
			}
			w.count(st, j, c.Outcome)
		}
		w.done = append(w.done, c)
	}
	progress := r.o.Progress
	snapshot := *st
	unproven := r.unproven
	r.unproven = nil
	r.mu.Unlock()
	if r.unverified != nil && len(unproven) > 0 {
		if err := r.unverified.add(unproven); err != nil {
			log.Warn("pipeline: cannot write the unverified list", "file", r.o.UnverifiedFile, "err", err)
		}
	}
	if progress != nil {
		progress(snapshot)
	}
}

// hashKey is the key of a message's hash (hex SHA-256) in
// runner.recorded: its first 8 bytes, plenty to tell the messages of one
// run apart.
func hashKey(hash string) uint64 {
	k, _ := strconv.ParseUint(hash[:min(len(hash), 16)], 16, 64)
	return k
}

// count adds a newly recorded job to the stats, and logs what a human
// should know of it; outcome is what the source does with it.
func (w *writer) count(st *Stats, j *job, outcome mailsource.Outcome) {
	log := w.r.o.Logger
	res := j.res
	st.Messages++
	switch {
	case j.recorded.Outcome == suppress.OutcomeBounce:
		st.Bounces++
	case j.recorded.Outcome == suppress.OutcomeNotBounce && res.Unverified+res.Unconfirmed > 0:
		st.WithoutProof++
	case j.recorded.Outcome == suppress.OutcomeNotBounce:
		st.NotBounces++
	default:
		st.Unrecognized++
	}
	if res.Incomplete {
		st.Incomplete++
		log.Warn("pipeline: a limit was reached; recorded what was read, left for a human", "message", j.msg.Name, "err", res.Err)
	}
	if res.Flooded {
		st.Flooded++
		if len(st.FloodedNames) < MaxFloodedNames {
			st.FloodedNames = append(st.FloodedNames, j.msg.Name)
		}
		log.Warn("pipeline: without proof configured, the message names more failed addresses than one message may suppress (forged?): recorded, suppresses nothing, left for a human",
			"message", j.msg.Name, "max", w.r.o.MaxSuppressPerMessage)
	}
	st.Unconfirmed += res.Unconfirmed
	st.Unverified += res.Unverified
	for _, u := range res.Unproven {
		if u.Suppressed {
			st.Unproven++
		}
	}
	where := j.msg.Name
	if w.r.locate != nil {
		where = w.r.locate(j.msg.Name, outcome)
	}
	for _, u := range res.Unproven {
		u.Message = where
		w.r.unproven = append(w.r.unproven, u) // r.mu is held
	}
	logNotes(log, j.msg.Name, res)
	st.Skipped += j.recorded.SkippedCount
	for _, err := range j.recorded.Skipped {
		log.Warn("pipeline: recipient not recorded", "message", j.msg.Name, "err", err)
	}
	if n := j.recorded.SkippedCount - len(j.recorded.Skipped); n > 0 {
		log.Warn("pipeline: more recipients not recorded", "message", j.msg.Name, "count", n)
	}
	if j.recorded.Events > 0 {
		w.r.dirty = true // r.mu is held
	}
	// The state keeps one event per address and message, the one that
	// weighs most, and skips what is not an address or has no date.
	for c, n := range j.recorded.Failures {
		st.Events[c] += n
	}
}

// MaxLoggedNotes caps the lines logged for the records of one message
// that suppress nothing (unconfirmed, unverified); one more line counts
// the rest.
const MaxLoggedNotes = 20

// logNotes logs the records of res that suppress nothing, at most
// MaxLoggedNotes of them.
func logNotes(log *slog.Logger, name string, res *Result) {
	logged, rest := 0, 0
	for _, rec := range res.Records {
		var msg string
		switch {
		case rec.Note == NoteUnconfirmed:
			msg = "pipeline: address read from free text and not confirmed: recorded, suppresses nothing"
		case strings.HasPrefix(rec.Note, NoteUnverified) && len(rec.Note) > len(NoteUnverified):
			msg = "pipeline: bounce not verified: recorded, suppresses nothing"
		default:
			continue
		}
		if logged++; logged > MaxLoggedNotes {
			rest++
			continue
		}
		log.Warn(msg, "message", name, "recipient", rec.Recipient, "note", rec.Note)
	}
	if res.Streamed {
		rest = res.Unconfirmed + res.Unverified
	}
	if rest > 0 {
		log.Warn("pipeline: more failures recorded that suppress nothing (unconfirmed or unverified)", "message", name, "count", rest)
	}
}

// take returns the committed jobs not yet reported to Commit.
func (w *writer) take() []mailsource.Committed {
	d := w.done
	w.done = nil
	return d
}

// sourceOutcome is what the source does with a message of this outcome.
func sourceOutcome(o suppress.Outcome) mailsource.Outcome {
	if o == suppress.OutcomeBounce {
		return mailsource.OutcomeProcessed
	}
	return mailsource.OutcomeUnrecognized
}

// setFatal records err as the run's fatal error, unless one is already.
func (r *runner) setFatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

// fatalErr returns the run's fatal error, if any.
func (r *runner) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

func (r *runner) takeDirty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.dirty
	r.dirty = false
	return d
}
