package imapfetch

import (
	"context"
	"slices"
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
	// copying is the copy journal: UID -> UIDVALIDITY.
	copying map[copyKey]map[uint32]uint32
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

// CopyJournal is an optional extension of State for servers without MOVE
// (RFC 6851): before a COPY, the Fetcher records which messages it is
// copying where, and forgets them once they are expunged from the source.
// When a run is cut between the COPY and the EXPUNGE, the next attempt
// knows which messages may already have a copy and looks for it (by
// Message-ID, size and INTERNALDATE) before copying them again, also on a
// server that keeps no keywords (GNU Mailutils imap4d) and whose SEARCH
// LARGER/SMALLER cannot be trusted (Courier-IMAP). A State that does not
// implement it relies on MovingKeyword alone.
type CopyJournal interface {
	// BeginCopy records that uids of mailbox (under uidValidity) are being
	// copied to dest, forgetting what was recorded for mailbox under
	// another UIDVALIDITY.
	BeginCopy(ctx context.Context, mailbox, dest string, uidValidity uint32, uids []uint32) error
	// Copying returns the UIDs recorded for mailbox and dest under
	// uidValidity.
	Copying(ctx context.Context, mailbox, dest string, uidValidity uint32) ([]uint32, error)
	// EndCopy forgets uids of mailbox and dest.
	EndCopy(ctx context.Context, mailbox, dest string, uids []uint32) error
}

var _ CopyJournal = (*MemState)(nil)

// copyKey keys MemState's copy journal.
type copyKey struct{ mailbox, dest string }

// BeginCopy implements CopyJournal.
func (s *MemState) BeginCopy(_ context.Context, mailbox, dest string, uidValidity uint32, uids []uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.copying == nil {
		s.copying = make(map[copyKey]map[uint32]uint32)
	}
	for k, m := range s.copying {
		if k.mailbox != mailbox {
			continue
		}
		for uid, v := range m {
			if v != uidValidity {
				delete(m, uid)
			}
		}
	}
	k := copyKey{mailbox, dest}
	if s.copying[k] == nil {
		s.copying[k] = make(map[uint32]uint32)
	}
	for _, uid := range uids {
		s.copying[k][uid] = uidValidity
	}
	return nil
}

// Copying implements CopyJournal.
func (s *MemState) Copying(_ context.Context, mailbox, dest string, uidValidity uint32) ([]uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint32
	for uid, v := range s.copying[copyKey{mailbox, dest}] {
		if v == uidValidity {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out, nil
}

// EndCopy implements CopyJournal.
func (s *MemState) EndCopy(_ context.Context, mailbox, dest string, uids []uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, uid := range uids {
		delete(s.copying[copyKey{mailbox, dest}], uid)
	}
	return nil
}
