package runjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// ExitTempFail is the exit status of an ingest that did not record its
// message: EX_TEMPFAIL of sysexits.h, which every MTA reads as "keep the
// message and deliver it again later".
const ExitTempFail = 75

// Defaults of an ingest (Config.LockWait, the push pass).
const (
	// DefaultLockWait is how long an ingest waits for the state's lock,
	// held by another ingest or a run, before it gives the message back to
	// the MTA (ExitTempFail).
	DefaultLockWait = 30 * time.Second
	// DefaultIngestPushTimeout bounds the delivery pass of an ingest with
	// --push: the MTA is waiting; what is left goes with the next one.
	DefaultIngestPushTimeout = 10 * time.Second
	// lockPoll is the longest pause between two tries of the lock (a
	// random part of it, so that waiting ingests do not take turns in
	// step).
	lockPoll = 40 * time.Millisecond
)

// IngestSource names the messages of an ingest in the state
// (suppress.Message.Source).
const IngestSource = "stdin"

// Ingest records the one message that stdin holds, as an MTA's pipe hands
// it over, into cfg's state (cfg.Mailboxes is not used), with its events
// queued for cfg.Push and delivered in a short pass, and rewrites cfg's
// lists. It returns 0 once the message is recorded (a message that is not
// a bounce, or cannot be parsed, is recorded as unrecognized: it is never
// given back) and ExitTempFail, with one line on stderr, when it could not
// be recorded now (the state locked past cfg.LockWait, unreachable or
// full; stdin unreadable; the lists not written): the MTA keeps the
// message and delivers it again, and a message recorded before is known by
// its hash. With cfg.KeepUnrecognized, an unrecognized message is kept
// there as well before 0 is returned (ExitTempFail when it cannot be: a
// message delivered again is known by its hash and kept then). What is
// left of stdin is read to its end, so that the MTA's write never fails.
func Ingest(ctx context.Context, cfg *Config, stdin io.Reader, stderr io.Writer) (code int) {
	s := &streams{stdout: io.Discard, stderr: stderr}
	defer func() {
		if p := recover(); p != nil {
			code = tempFail(s, fmt.Sprintf("internal error: %v", p))
		}
		io.Copy(io.Discard, stdin)
	}()
	db, err := openLocked(ctx, cfg)
	if err != nil {
		return tempFail(s, describeError(err, cfg))
	}
	defer db.Close()
	if err := suppress.CheckWritable(cfg.Out, cfg.OutDir); err != nil {
		return tempFail(s, describeError(err, cfg))
	}
	if _, err := openPush(ctx, db, cfg, false); err != nil {
		return tempFail(s, oneLine(err))
	}
	pipe := cfg.Pipe
	pipe.Source = IngestSource
	pipe.Watch = false
	if pipe.PushTimeout <= 0 {
		pipe.PushTimeout = DefaultIngestPushTimeout
	}
	in := stdin
	var keep *mailsource.Copy
	if cfg.KeepUnrecognized != "" {
		if keep, err = mailsource.NewCopy(cfg.KeepUnrecognized); err != nil {
			return tempFail(s, oneLine(err))
		}
		defer keep.Discard()
		in = io.TeeReader(stdin, keep)
	}
	src := mailsource.NewReader(in, "-", time.Now())
	st, err := pipeline.Run(ctx, db, src, &pipe)
	var outcome mailsource.Outcome
	if err == nil {
		var oerr error
		outcome, oerr = src.Outcome()
		if outcome == mailsource.OutcomeFailed || oerr != nil {
			err = cmpOrErr(oerr, errors.New("the message was not recorded"))
		}
	}
	if err != nil {
		return tempFail(s, describeError(err, cfg))
	}
	if keep != nil && outcome == mailsource.OutcomeUnrecognized {
		// The rest of a message the parser stopped reading at a cap
		// belongs in the copy too.
		_, err := io.Copy(io.Discard, in)
		if err == nil {
			_, err = keep.Keep()
		}
		if err != nil {
			fmt.Fprintf(stderr, "bouncer ingest: recorded as unrecognized, but no copy was kept in %s (%s): the MTA delivers it again (exit %d), and it is kept then\n",
				cfg.KeepUnrecognized, oneLine(err), ExitTempFail)
			return ExitTempFail
		}
	}
	if cfg.Out != "" || cfg.OutDir != "" {
		if _, _, err := db.WriteLists(context.WithoutCancel(ctx), cfg.Policy, cfg.Format, cfg.Out, cfg.OutDir); err != nil {
			// Recorded; the next delivery of it is known by its hash and
			// writes the lists again.
			fmt.Fprintf(stderr, "bouncer ingest: %s; recorded, but the lists were not written: the MTA delivers it again (exit %d), and the lists are written then\n",
				strings.TrimPrefix(describeError(err, cfg), "bouncer: "), ExitTempFail)
			return ExitTempFail
		}
	}
	for _, e := range pushErrors(st) {
		fmt.Fprintf(stderr, "bouncer ingest: recorded; %s\n", oneLine(e))
	}
	return exitOK
}

// pushErrors returns the errors of the push pass of st worth a line: its
// stop (a deadline: the rest waits) is not one.
func pushErrors(st pipeline.Stats) []error {
	if st.Push == nil {
		return nil
	}
	return st.Push.Errors
}

func cmpOrErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// tempFail prints line and returns ExitTempFail.
func tempFail(s *streams, line string) int {
	fmt.Fprintf(s.stderr, "bouncer ingest: %s; not recorded, the MTA keeps the message and delivers it again (exit %d)\n",
		strings.TrimPrefix(line, "bouncer: "), ExitTempFail)
	return ExitTempFail
}

// openLocked opens cfg's state and takes its lock, waiting up to
// cfg.LockWait (default DefaultLockWait) while another process holds it.
func openLocked(ctx context.Context, cfg *Config) (*suppress.DB, error) {
	db, err := suppress.Open(ctx, cfg.State, &suppress.Options{CreateFolder: true})
	if err != nil {
		return nil, err
	}
	wait := cfg.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	deadline := time.Now().Add(wait)
	for {
		err := db.Lock()
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, suppress.ErrLocked) || time.Now().After(deadline) {
			db.Close()
			if errors.Is(err, suppress.ErrLocked) {
				err = fmt.Errorf("%w: still locked after %v", err, wait)
			}
			return nil, err
		}
		t := time.NewTimer(lockPoll/2 + rand.N(lockPoll/2))
		select {
		case <-ctx.Done():
			t.Stop()
			db.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
