package mailsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrNotCommitted reports a Reader whose message the Sink did not commit.
var ErrNotCommitted = errors.New("mailsource: the message was not committed")

// Reader is the Source of one message read from an io.Reader: what an MTA
// hands a program on its standard input (Postfix's pipe(8) and aliases,
// Exim's pipe transport, sendmail's prog mailer, procmail, maildrop). It
// has no mailbox to act on: once the message is committed, the pipe is
// done, and the MTA deletes its copy when the program exits 0.
type Reader struct {
	r        io.Reader
	name     string
	received time.Time

	done    bool
	outcome Outcome
	err     error
}

var _ Source = (*Reader)(nil)

// NewReader returns the Source of the one message r holds, named name in
// logs ("-" for standard input), received at received (the zero time if
// unknown; a pipe is handed the message as it arrives, so its caller
// passes the clock).
func NewReader(r io.Reader, name string, received time.Time) *Reader {
	return &Reader{r: r, name: name, received: received}
}

// Pass hands the message to sink and commits it. A second Pass does
// nothing: the message has been handed over.
func (s *Reader) Pass(ctx context.Context, sink Sink) error {
	if s.done {
		return nil
	}
	s.done = true
	ticket, err := sink.Add(ctx, &Message{Name: s.name, Received: s.received, Body: s.r})
	if err != nil {
		s.err = err
		return err
	}
	done, err := sink.Commit(ctx)
	if err != nil {
		s.err = err
		return err
	}
	for _, c := range done {
		if c.Ticket == ticket {
			s.outcome, s.err = c.Outcome, c.Err
			return nil
		}
	}
	s.err = ErrNotCommitted
	return fmt.Errorf("%w: %s", ErrNotCommitted, s.name)
}

// Outcome returns what the Sink made of the message after Pass:
// OutcomeProcessed or OutcomeUnrecognized once it is recorded,
// OutcomeFailed (with the reason) when it could not be read whole, or 0
// with the error of Pass when it was not committed.
func (s *Reader) Outcome() (Outcome, error) { return s.outcome, s.err }
