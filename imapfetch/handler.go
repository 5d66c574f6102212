package imapfetch

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Message is one message handed to a Handler.
type Message struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// Size is the full size of the message on the server (RFC822.SIZE).
	Size int64
	// Received is the message's INTERNALDATE (RFC 3501 section 2.3.3):
	// when the server received it. Zero when the server gave none.
	Received time.Time
	// Body streams the raw message (RFC 5322), at most
	// Options.MaxMessageBytes of it. It is valid only during the Handler
	// call. A read error other than io.EOF (io.ErrUnexpectedEOF when the
	// connection dropped mid-message) means the message is incomplete: the
	// Handler must not commit it.
	Body io.Reader
	// Truncated is set when Body holds only the first
	// Options.MaxMessageBytes bytes of a larger message.
	Truncated bool
}

// Outcome is what a Handler did with a message it committed.
type Outcome int

const (
	// OutcomeProcessed: the message was a bounce and its result is
	// committed; Options.Action applies.
	OutcomeProcessed Outcome = iota + 1
	// OutcomeUnrecognized: committed as not a bounce; the message goes to
	// Options.UnrecognizedMailbox for humans.
	OutcomeUnrecognized
)

func (o Outcome) String() string {
	switch o {
	case OutcomeProcessed:
		return "processed"
	case OutcomeUnrecognized:
		return "unrecognized"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Handler consumes one message. It commits its result to its own store
// before it returns; only then does the Fetcher act on the message on the
// server. It must be idempotent (keyed by content hash or Message-ID, not
// by UID): after a crash or a dropped connection between its commit and
// the action, or after a UIDVALIDITY change, the same message is handed to
// it again.
//
// Returning an error means nothing was committed: the message is not
// acted on (see Options.FailedMailbox). The Handler is called from the
// goroutine that called Fetch or Watch, one message at a time.
type Handler func(ctx context.Context, m *Message) (Outcome, error)

// BatchHandler consumes the messages of a batch and commits them together:
// the Fetcher hands every message of a UID FETCH to Handle, then calls
// Commit, and acts on the server on exactly the messages Commit reports,
// with one command per outcome (a MOVE of a UID set). It must be
// idempotent, as a Handler (see Handler).
type BatchHandler interface {
	// Handle takes one message: it reads m.Body before it returns (the
	// body is valid only during the call) and queues the message. An error
	// means the message was not taken: it is not acted on (see
	// Options.FailedMailbox).
	Handle(ctx context.Context, m *Message) error
	// Commit makes every message taken since the last Commit durable and
	// returns the outcome of each. After an error, the messages it returns
	// were committed and are acted on; the others are left in place.
	Commit(ctx context.Context) ([]Committed, error)
}

// Expecter is a BatchHandler that can be told, at the start of a pass, how
// many messages the pass is about to fetch (for a progress report).
type Expecter interface {
	Expect(n int)
}

// Committed is the outcome of one message, as BatchHandler.Commit reports
// it.
type Committed struct {
	UID     uint32
	Outcome Outcome
	// Err, when set, says the message could not be processed: it is
	// treated as a Handler error for it.
	Err error
}

// handlerBatch runs a Handler as a BatchHandler: each message is committed
// by the Handler itself.
type handlerBatch struct {
	h    Handler
	done []Committed
}

func (b *handlerBatch) Handle(ctx context.Context, m *Message) error {
	outcome, err := b.h(ctx, m)
	if err != nil {
		return err
	}
	b.done = append(b.done, Committed{UID: m.UID, Outcome: outcome})
	return nil
}

func (b *handlerBatch) Commit(context.Context) ([]Committed, error) {
	done := b.done
	b.done = nil
	return done, nil
}

// Stats counts what a Fetch (or Watch) did.
type Stats struct {
	Fetched      int   // messages handed to the Handler whose body arrived complete
	Processed    int   // OutcomeProcessed
	Unrecognized int   // OutcomeUnrecognized
	Failed       int   // Handler errors moved to Options.FailedMailbox
	Truncated    int   // messages cut at Options.MaxMessageBytes
	LeftInPlace  int   // committed, but the server refused for good to act on them (ErrRefused)
	Bytes        int64 // body bytes read from the server
	Reconnects   int   // reconnections after a fault
	Resets       int   // UIDVALIDITY changes seen
}

// countingReader counts the bytes of a literal and turns a short read
// into io.ErrUnexpectedEOF: go-imap reports a connection cut mid-literal
// as a clean EOF. Its error is sticky: after a short read, reading
// go-imap's literal again would race with its decoder goroutine.
type countingReader struct {
	r    io.Reader
	n    int64
	size int64
	err  error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF && c.n < c.size {
		err = io.ErrUnexpectedEOF
	}
	c.err = err
	return n, err
}

func (c *countingReader) complete() bool { return c.n == c.size }
