package imapfetch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
)

// MovingKeyword is the keyword set on messages just before they are copied
// to their destination on a server without MOVE. COPY copies it too, so
// the copies in the destination carry it. A message found with it at the
// next attempt (after a crash or a dropped connection between COPY and
// EXPUNGE) is looked for in the destination before it is copied again.
const MovingKeyword = "$BouncerMoving"

// settle acts on the pending messages, group by group, then saves the
// cursor in the State. A group is forgotten as soon as it is acted on, so
// a fault in a later group does not repeat it. A group the server refuses
// for good (ErrRefused) is left in place, recorded in f.refused, and the
// cursor moves on: later passes are not stuck on it.
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
			if !errors.Is(err, ErrRefused) {
				return err
			}
			n := f.refused.add(err, *g.uids)
			f.opts.Logger.Warn("imapfetch: server refused for good, leaving the messages in place", "mailbox", f.url.Mailbox,
				"action", string(g.action), "to", g.mailbox, "uids", g.uids.String(), "count", n, "err", err)
		}
		*g.uids = nil
	}
	if err := state.Save(ctx, f.url.Mailbox, p.uidValidity, p.cursor); err != nil {
		return &Error{Kind: KindState, Mailbox: f.url.Mailbox, Op: "save", Err: err}
	}
	p.unsaved = false
	return nil
}

// refusals collects the actions the server refused for good during a
// Fetch.
type refusals struct {
	n     int   // messages left in place
	first error // the first refusal
}

// add records that the server refused err for uids and returns their
// number.
func (r *refusals) add(err error, uids imap.UIDSet) int {
	n := 1
	if nums, ok := uids.Nums(); ok {
		n = len(nums)
	}
	r.n += n
	if r.first == nil {
		r.first = err
	}
	return n
}

// err returns nil, or the first refusal with the count of messages left in
// place.
func (r *refusals) err() error {
	if r.first == nil {
		return nil
	}
	return fmt.Errorf("%w (%d messages left in place)", r.first, r.n)
}

// act applies action to exactly uids.
func (f *Fetcher) act(s *session, action Action, mailbox string, uids imap.UIDSet) error {
	s.arm()
	defer s.disarm()
	switch action {
	case ActionMove:
		op := "UID MOVE"
		if !s.caps.Has(imap.CapMove) {
			op = "UID COPY"
		}
		err := f.move(s, uids, mailbox)
		if mustCreate(err) {
			// RFC 3501 section 6.4.7: create the destination and retry.
			// Some servers answer NONEXISTENT instead of TRYCREATE.
			if cerr := s.c.Create(mailbox, nil).Wait(); cerr != nil && !alreadyExists(cerr) {
				return createError(s, mailbox, cerr)
			}
			// TRYCREATE again now is permanent (see permanentCodes).
			err = f.move(s, uids, mailbox)
		}
		return s.wrapIn(op, mailbox, err)
	case ActionFlag:
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.Flag(f.opts.Keyword)}}
		return s.wrap("UID STORE", s.c.Store(uids, store, nil).Close())
	case ActionDelete:
		return s.wrap("UID EXPUNGE", s.expunge(uids))
	}
	return nil
}

// createError classifies a failed CREATE of a move's destination. A NO
// without a response code is permanent here, unlike elsewhere: the server
// has just said the mailbox is missing (TRYCREATE) and now that it cannot
// make it, so moving there cannot succeed.
func createError(s *session, mailbox string, err error) error {
	e := s.wrapIn("CREATE", mailbox, err).(*Error)
	var imapErr *imap.Error
	if e.Kind == KindServer && errors.As(err, &imapErr) && imapErr.Code == "" {
		e.Kind = KindRefused
	}
	return e
}

func mustCreate(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && (imapErr.Code == imap.ResponseCodeTryCreate || imapErr.Code == imap.ResponseCodeNonExistent)
}

func alreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists
}

// move moves uids with MOVE (RFC 6851) or, without it, with copyExpunge.
// (go-imap's own fallback expunges even when COPY failed.)
func (f *Fetcher) move(s *session, uids imap.UIDSet, mailbox string) error {
	if s.caps.Has(imap.CapMove) {
		_, err := s.c.Move(uids, mailbox).Wait()
		return err
	}
	return f.copyExpunge(s, uids, mailbox)
}

// copyExpunge copies uids to mailbox, and only once COPY succeeded flags
// them \Deleted and expunges them, without leaving a second copy in
// mailbox when an earlier attempt was cut between its COPY and its
// EXPUNGE: the messages are flagged MovingKeyword before COPY, and those
// found already flagged are first looked for in mailbox (see
// alreadyCopied). Without keywords (PERMANENTFLAGS lacks \*), a cut
// attempt leaves a duplicate.
func (f *Fetcher) copyExpunge(s *session, uids imap.UIDSet, mailbox string) error {
	toCopy := uids
	if s.keywords {
		data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uids}, Flag: []imap.Flag{MovingKeyword}}, nil).Wait()
		if err != nil {
			return err
		}
		if marked := data.AllUIDs(); len(marked) > 0 {
			copied, err := f.alreadyCopied(s, marked, mailbox)
			s.arm() // selecting again disarmed the watchdog
			if err != nil {
				return err
			}
			if len(copied) > 0 {
				s.log.Info("imapfetch: messages already copied by an interrupted move, not copied again", "mailbox", mailbox, "count", len(copied))
				toCopy = minus(uids, copied)
			}
		}
		if len(toCopy) > 0 {
			store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{MovingKeyword}}
			if err := s.c.Store(toCopy, store, nil).Close(); err != nil {
				return err
			}
		}
	}
	if len(toCopy) > 0 {
		if _, err := s.c.Copy(toCopy, mailbox).Wait(); err != nil {
			return err
		}
	}
	if f.afterCopy != nil {
		if err := f.afterCopy(); err != nil {
			return err
		}
	}
	return s.expunge(uids)
}

// minus returns the UIDs of set that are not in drop.
func minus(set imap.UIDSet, drop map[imap.UID]bool) imap.UIDSet {
	var out imap.UIDSet
	nums, _ := set.Nums()
	for _, uid := range nums {
		if !drop[uid] {
			out.AddNum(uid)
		}
	}
	return out
}

// maxCopyCandidates caps the destination messages examined per source
// message by alreadyCopied.
const maxCopyCandidates = 16

// alreadyCopied returns the UIDs among marked (messages of the selected
// mailbox flagged MovingKeyword) that already have a copy in mailbox: a
// message flagged MovingKeyword there too, with the same Message-ID, size
// and INTERNALDATE (which COPY preserves, RFC 3501 section 6.4.7). It
// examines mailbox (read-only) and selects the original mailbox again;
// when its UIDVALIDITY changed meanwhile, it fails (and the pass starts
// over).
func (f *Fetcher) alreadyCopied(s *session, marked []imap.UID, mailbox string) (map[imap.UID]bool, error) {
	type key struct {
		messageID string
		size      int64
		date      time.Time
	}
	var set imap.UIDSet
	set.AddNum(marked...)
	source := map[imap.UID]key{}
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true, InternalDate: true})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, err
		}
		if buf.Envelope != nil && set.Contains(buf.UID) {
			source[buf.UID] = key{buf.Envelope.MessageID, buf.RFC822Size, buf.InternalDate}
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}

	validity := s.uidValidity
	dest, err := s.c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		if mustCreate(err) {
			// No destination: nothing was copied. Back to the source.
			return nil, s.reselect(validity)
		}
		return nil, err
	}
	copied := map[imap.UID]bool{}
	if dest.NumMessages == 0 {
		// Just created (after TRYCREATE): nothing to look for.
		return copied, s.reselect(validity)
	}
	for uid, k := range source {
		criteria := &imap.SearchCriteria{Flag: []imap.Flag{MovingKeyword}, Larger: k.size - 1, Smaller: k.size + 1}
		if k.messageID != "" {
			criteria.Header = []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: k.messageID}}
		}
		data, err := s.c.UIDSearch(criteria, nil).Wait()
		if err != nil {
			return nil, err
		}
		found := data.AllUIDs()
		if len(found) == 0 {
			continue
		}
		var candidates imap.UIDSet
		candidates.AddNum(found[:min(len(found), maxCopyCandidates)]...)
		dates, err := s.c.Fetch(candidates, &imap.FetchOptions{UID: true, InternalDate: true}).Collect()
		if err != nil {
			return nil, err
		}
		for _, d := range dates {
			if d.InternalDate.Equal(k.date) {
				copied[uid] = true
				break
			}
		}
	}
	return copied, s.reselect(validity)
}

// reselect selects the session's mailbox again after another was
// examined, and fails when its UIDVALIDITY is no longer validity.
func (s *session) reselect(validity uint32) error {
	if err := s.selectMailbox(s.mailbox); err != nil {
		return err
	}
	if s.uidValidity != validity {
		return &Error{Kind: KindServer, Addr: s.addr, Mailbox: s.mailbox, Op: "SELECT", Err: fmt.Errorf("UIDVALIDITY changed from %d to %d", validity, s.uidValidity)}
	}
	return nil
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
