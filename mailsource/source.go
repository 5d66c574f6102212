package mailsource

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Message is one message a Source hands to a Sink.
type Message struct {
	// Mailbox, UIDValidity and UID name an IMAP message (RFC 9051 section
	// 2.3.1.1). UID 0 means the message has no UID (a file): it is then
	// known by the hash of its bytes alone.
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// Name says where the message was read, for logs: a path, or "UID 42".
	Name string
	// Received is when the mailbox received the message (IMAP
	// INTERNALDATE, the delivery time of a Maildir file); zero if unknown.
	Received time.Time
	// Size is the size of the message when the source knows it (IMAP
	// RFC822.SIZE), else 0: a hint for buffers.
	Size int64
	// Body streams the raw message (RFC 5322). It is valid only during
	// Sink.Add. A read error other than io.EOF means the message is
	// incomplete: the Sink must not commit it.
	Body io.Reader
	// Truncated is set when Body holds only the start of a larger message
	// (the source's own size cap).
	Truncated bool
}

// Outcome is what a Sink made of a message it committed, and so what the
// Source does with it.
type Outcome int

const (
	// OutcomeProcessed: a bounce, recorded; the source's action applies
	// (move to the processed folder, flag, delete).
	OutcomeProcessed Outcome = iota + 1
	// OutcomeUnrecognized: recorded, but not a bounce it could act on; the
	// message goes to the folder for humans and is never deleted.
	OutcomeUnrecognized
	// OutcomeFailed: the Sink could not process the message (it could not
	// be read whole); nothing was recorded and the message is left in
	// place, to be tried again by the next pass.
	OutcomeFailed
)

func (o Outcome) String() string {
	switch o {
	case OutcomeProcessed:
		return "processed"
	case OutcomeUnrecognized:
		return "unrecognized"
	case OutcomeFailed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Ticket identifies a message added to a Sink in the answer of Commit.
type Ticket uint64

// Committed is the outcome of one message, as Commit reports it.
type Committed struct {
	Ticket  Ticket
	Outcome Outcome
	// Err says why the message failed (OutcomeFailed).
	Err error
}

// Sink takes the messages of a Source: the bounce job (pipeline.Run) is
// one.
type Sink interface {
	// Add takes one message: it reads m.Body before it returns and queues
	// the message for processing. The message is committed only once a
	// later Commit reports its ticket.
	Add(ctx context.Context, m *Message) (Ticket, error)
	// Commit makes every message added since the last Commit durable and
	// returns the outcome of each. After an error, the messages it returns
	// were committed (an earlier transaction) and the others were not.
	Commit(ctx context.Context) ([]Committed, error)
}

// Source is a mailbox the bounce job reads.
type Source interface {
	// Pass makes one pass over the mailbox: it hands every message not yet
	// acted on to sink.Add, calls sink.Commit, and only then acts on
	// exactly the committed messages, as their outcomes say. It may do so
	// in several rounds.
	Pass(ctx context.Context, sink Sink) error
}

// Expecter is a Sink that can be told how many messages a pass is about to
// hand it, for a progress report. A Source calls Expect, when its sink has
// it, once it knows (a Maildir's file count, an IMAP mailbox's new
// messages); the count is a hint, not a promise.
type Expecter interface {
	Expect(n int)
}

// Locator is a Source that can say where a message will be once it has
// acted on it: Location returns, for the Message.Name of a message
// committed with outcome o, where the message is afterwards (a path, a
// folder), or "" when it is deleted or the source cannot say.
type Locator interface {
	Location(name string, o Outcome) string
}

// Watcher is a Source that can wait for new mail itself (IMAP IDLE).
type Watcher interface {
	Source
	// Watch makes passes as mail arrives until ctx is canceled, then
	// returns nil.
	Watch(ctx context.Context, sink Sink) error
}
