package imapfetch

import (
	"context"
	"sync"
)

// State persists, per mailbox, the UIDVALIDITY and the last UID whose
// message was committed by the Handler and acted on. The caller implements
// it next to the Handler's own store (e.g. a table in the same SQLite
// database).
//
// Load returns zeros for a mailbox never saved. Save is called after each
// batch once its messages were acted on, so a crash repeats at most one
// batch, which the idempotent Handler absorbs.
type State interface {
	Load(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	Save(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

// MemState is a State kept in memory, for tests and one-shot runs. The
// zero value is ready to use and it is safe for concurrent use.
type MemState struct {
	mu sync.Mutex
	m  map[string][2]uint32
}

var _ State = (*MemState)(nil)

// Load implements State.
func (s *MemState) Load(_ context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[mailbox]
	return v[0], v[1], nil
}

// Save implements State.
func (s *MemState) Save(_ context.Context, mailbox string, uidValidity, lastUID uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][2]uint32)
	}
	s.m[mailbox] = [2]uint32{uidValidity, lastUID}
	return nil
}
