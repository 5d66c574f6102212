package imapfetch

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// settle acts on the pending messages, group by group, then saves the
// cursor in the State. A group is forgotten as soon as it is acted on, so
// a fault in a later group does not repeat it.
func (f *Fetcher) settle(ctx context.Context, s *session, state State) error {
	p := &f.pending
	groups := []struct {
		uids    *imap.UIDSet
		action  Action
		mailbox string
	}{
		{&p.processed, f.opts.Action, f.opts.ProcessedMailbox},
		{&p.unrecognized, ActionMove, f.opts.UnrecognizedMailbox},
		{&p.failed, ActionMove, f.opts.FailedMailbox},
	}
	for _, g := range groups {
		if len(*g.uids) == 0 {
			continue
		}
		if g.action == ActionMove && g.mailbox == "" {
			*g.uids = nil // leave in place
			continue
		}
		if err := f.act(s, g.action, g.mailbox, *g.uids); err != nil {
			return err
		}
		*g.uids = nil
	}
	if err := state.Save(ctx, f.url.Mailbox, p.uidValidity, p.cursor); err != nil {
		return fmt.Errorf("%w: save %q: %v", ErrState, f.url.Mailbox, err)
	}
	p.unsaved = false
	return nil
}

// act applies action to exactly uids.
func (f *Fetcher) act(s *session, action Action, mailbox string, uids imap.UIDSet) error {
	s.arm()
	defer s.disarm()
	switch action {
	case ActionMove:
		err := s.move(uids, mailbox)
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && (imapErr.Code == imap.ResponseCodeTryCreate || imapErr.Code == imap.ResponseCodeNonExistent) {
			// RFC 3501 section 6.4.7: create the destination and retry.
			// Some servers answer NONEXISTENT instead of TRYCREATE.
			if cerr := s.c.Create(mailbox, nil).Wait(); cerr != nil && !alreadyExists(cerr) {
				return s.wrap(fmt.Sprintf("CREATE %q", mailbox), cerr)
			}
			err = s.move(uids, mailbox)
		}
		return s.wrap(fmt.Sprintf("moving to %q", mailbox), err)
	case ActionFlag:
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.Flag(f.opts.Keyword)}}
		return s.wrap("UID STORE", s.c.Store(uids, store, nil).Close())
	case ActionDelete:
		return s.wrap("deleting", s.expunge(uids))
	}
	return nil
}

func alreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists
}

// move moves uids with MOVE (RFC 6851) or, without it, with COPY, and only
// once COPY succeeded, \Deleted and UID EXPUNGE. (go-imap's own fallback
// expunges even when COPY failed.)
func (s *session) move(uids imap.UIDSet, mailbox string) error {
	if s.caps.Has(imap.CapMove) {
		_, err := s.c.Move(uids, mailbox).Wait()
		return err
	}
	if _, err := s.c.Copy(uids, mailbox).Wait(); err != nil {
		return err
	}
	return s.expunge(uids)
}

// expunge flags uids \Deleted and expunges exactly them with UID EXPUNGE
// (RFC 4315). Without UIDPLUS a plain EXPUNGE would also remove messages
// someone else flagged \Deleted, so it is sent only when a search finds no
// \Deleted message besides uids; otherwise uids stay flagged \Deleted, for
// the next EXPUNGE by anyone, and a warning is logged.
func (s *session) expunge(uids imap.UIDSet) error {
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := s.c.Store(uids, store, nil).Close(); err != nil {
		return err
	}
	if s.caps.Has(imap.CapUIDPlus) {
		return s.c.UIDExpunge(uids).Close()
	}
	data, err := s.c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return err
	}
	for _, uid := range data.AllUIDs() {
		if !uids.Contains(uid) {
			s.log.Warn("imapfetch: no UIDPLUS and other messages are flagged \\Deleted: leaving ours flagged, not expunged", "uids", uids.String())
			return nil
		}
	}
	return s.c.Expunge().Close()
}
