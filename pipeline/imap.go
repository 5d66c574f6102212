package pipeline

import (
	"context"
	"fmt"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/mailsource"
)

// IMAP returns the Source of the mailbox f fetches, its sync state kept in
// state (suppress.DB.SyncState). Its messages are recorded, and on a
// shared state leased, under the mailbox key f.URL().Key() (server, user
// and mailbox; no scheme, port or secret), so that two servers' UIDs never
// meet and one mailbox reached two ways is one mailbox. Each imapfetch batch (Options.
// BatchSize of imapfetch) is committed before one MOVE (or STORE, or
// EXPUNGE) of its UID set.
func IMAP(f *imapfetch.Fetcher, state imapfetch.State) mailsource.Watcher {
	return &imapSource{f: f, state: state, key: f.URL().Key()}
}

type imapSource struct {
	f     *imapfetch.Fetcher
	state imapfetch.State
	key   string
}

// MailboxKey is the key of the mailbox's lease and records
// (imapfetch.URL.Key).
func (s *imapSource) MailboxKey() string { return s.key }

// Location implements mailsource.Locator: the mailbox a message goes to,
// with the mailbox and UID it was read under (its new UID is the server's
// to give).
func (s *imapSource) Location(name string, o mailsource.Outcome) string {
	io := imapfetch.OutcomeUnrecognized
	switch o {
	case mailsource.OutcomeProcessed:
		io = imapfetch.OutcomeProcessed
	case mailsource.OutcomeFailed:
		return name
	}
	mailbox, deleted := s.f.Destination(io)
	switch {
	case deleted:
		return ""
	case mailbox == "":
		return name
	}
	return mailbox + " (moved from " + name + ")"
}

func (s *imapSource) Pass(ctx context.Context, sink mailsource.Sink) error {
	_, err := s.f.FetchBatches(ctx, s.state, s.handler(sink))
	return err
}

func (s *imapSource) Watch(ctx context.Context, sink mailsource.Sink) error {
	return s.f.WatchBatches(ctx, s.state, s.handler(sink))
}

func (s *imapSource) handler(sink mailsource.Sink) *imapHandler {
	return &imapHandler{sink: sink, key: s.key, uids: make(map[mailsource.Ticket]uint32)}
}

// imapHandler adapts a Sink to imapfetch.BatchHandler.
type imapHandler struct {
	sink mailsource.Sink
	key  string
	uids map[mailsource.Ticket]uint32
}

func (h *imapHandler) Handle(ctx context.Context, m *imapfetch.Message) error {
	t, err := h.sink.Add(ctx, &mailsource.Message{
		Mailbox:     h.key,
		UIDValidity: m.UIDValidity,
		UID:         m.UID,
		Name:        fmt.Sprintf("%s UID %d", m.Mailbox, m.UID),
		Received:    m.Received,
		Size:        m.Size,
		Body:        m.Body,
		Truncated:   m.Truncated,
	})
	if err != nil {
		return err
	}
	h.uids[t] = m.UID
	return nil
}

// Expect implements imapfetch.Expecter: it tells the sink, when it wants
// to know.
func (h *imapHandler) Expect(n int) {
	if e, ok := h.sink.(mailsource.Expecter); ok {
		e.Expect(n)
	}
}

func (h *imapHandler) Commit(ctx context.Context) ([]imapfetch.Committed, error) {
	done, err := h.sink.Commit(ctx)
	out := make([]imapfetch.Committed, 0, len(done))
	for _, c := range done {
		uid, ok := h.uids[c.Ticket]
		if !ok {
			continue
		}
		ic := imapfetch.Committed{UID: uid}
		switch c.Outcome {
		case mailsource.OutcomeProcessed:
			ic.Outcome = imapfetch.OutcomeProcessed
		case mailsource.OutcomeUnrecognized:
			ic.Outcome = imapfetch.OutcomeUnrecognized
		default:
			ic.Err = c.Err
			if ic.Err == nil {
				ic.Err = fmt.Errorf("pipeline: UID %d not processed", uid)
			}
		}
		out = append(out, ic)
	}
	clear(h.uids)
	return out, err
}
