package imapfetch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
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
		if err := f.act(ctx, s, state, g.action, g.mailbox, *g.uids); err != nil {
			if !errors.Is(err, ErrRefused) {
				return err
			}
			if g.action == ActionMove {
				f.forgetMove(ctx, s, state, *g.uids, g.mailbox)
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
func (f *Fetcher) act(ctx context.Context, s *session, state State, action Action, mailbox string, uids imap.UIDSet) error {
	s.arm()
	defer s.disarm()
	if f.replay {
		// After a reconnection, act only on the messages still there: an
		// attempt cut after its EXPUNGE has moved some of them already, and
		// GNU Mailutils imap4d 3.15 answers BAD to a UID COPY naming a
		// UID that is gone.
		var err error
		if uids, err = f.existing(ctx, s, state, uids, action, mailbox); err != nil || len(uids) == 0 {
			return err
		}
	}
	switch action {
	case ActionMove:
		err := f.move(ctx, s, state, uids, mailbox)
		if !moveRefused(err) {
			return err
		}
		// RFC 3501 section 6.4.7 asks for NO [TRYCREATE] when the
		// destination is missing, but Courier-IMAP 5.0 and Cyrus 3.6 answer
		// a plain NO, and GNU Mailutils imap4d writes the code after the
		// command name: whatever the answer, look the folder up, create it
		// when missing, and try once more. A refusal that stays is for good.
		if cerr := s.ensureFolder(mailbox); cerr != nil {
			return cerr
		}
		s.arm()
		return refusedFor(f.move(ctx, s, state, uids, mailbox))
	case ActionFlag:
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.Flag(f.opts.Keyword)}}
		return s.wrap("UID STORE", s.c.Store(uids, store, nil).Close())
	case ActionDelete:
		return s.wrap("UID EXPUNGE", s.expunge(uids))
	}
	return nil
}

// existing returns the UIDs of uids still in the selected mailbox (UID
// SEARCH UID, RFC 3501 section 6.4.4). The others leave the copy journal
// of a move.
func (f *Fetcher) existing(ctx context.Context, s *session, state State, uids imap.UIDSet, action Action, mailbox string) (imap.UIDSet, error) {
	data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uids}}, nil).Wait()
	if err != nil {
		return nil, s.wrap("UID SEARCH", err)
	}
	var out imap.UIDSet
	there := map[imap.UID]bool{}
	for _, uid := range data.AllUIDs() {
		if uids.Contains(uid) {
			out.AddNum(uid)
			there[uid] = true
		}
	}
	nums, _ := uids.Nums()
	var gone []uint32
	for _, uid := range nums {
		if !there[uid] {
			gone = append(gone, uint32(uid))
		}
	}
	if len(gone) == 0 {
		return out, nil
	}
	s.log.Info("imapfetch: messages already gone from the mailbox, not acted on again", "mailbox", f.url.Mailbox, "count", len(gone))
	if j, ok := state.(CopyJournal); ok && action == ActionMove {
		if err := j.EndCopy(ctx, f.url.Mailbox, mailbox, gone); err != nil {
			return nil, &Error{Kind: KindState, Mailbox: f.url.Mailbox, Op: "journal", Err: err}
		}
	}
	return out, nil
}

// moveRefused reports whether err is the server's refusal of the COPY or
// MOVE of a move, one a missing destination may explain (folderRefusal).
func moveRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) || (e.Op != opCopy && e.Op != opMove) {
		return false
	}
	return folderRefusal(e.Err)
}

// The commands of a move, as errors name them.
const (
	opCopy    = "UID COPY"
	opMove    = "UID MOVE"
	opExamine = "EXAMINE"
)

// forgetMove undoes the marks of a move the server refused for good: the
// MovingKeyword on the messages and their entries in the copy journal, so
// that nothing of it weighs on later runs. Failures are only logged.
func (f *Fetcher) forgetMove(ctx context.Context, s *session, state State, uids imap.UIDSet, mailbox string) {
	if j, ok := state.(CopyJournal); ok {
		if err := j.EndCopy(ctx, f.url.Mailbox, mailbox, uidNums(uids)); err != nil {
			f.opts.Logger.Warn("imapfetch: cannot clear the copy journal", "mailbox", f.url.Mailbox, "err", err)
		}
	}
	if !s.keywords || s.caps.Has(imap.CapMove) {
		return
	}
	s.arm()
	defer s.disarm()
	store := &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{MovingKeyword}}
	if err := s.c.Store(uids, store, nil).Close(); err != nil {
		f.opts.Logger.Warn("imapfetch: cannot remove the moving keyword", "mailbox", f.url.Mailbox, "err", err)
	}
}

func alreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && responseCode(imapErr) == imap.ResponseCodeAlreadyExists
}

// move moves uids with MOVE (RFC 6851) or, without it, with copyExpunge.
// (go-imap's own fallback expunges even when COPY failed.) Its errors
// name the command that failed.
func (f *Fetcher) move(ctx context.Context, s *session, state State, uids imap.UIDSet, mailbox string) error {
	if s.caps.Has(imap.CapMove) {
		_, err := s.c.Move(uids, mailbox).Wait()
		return s.wrapIn(opMove, mailbox, err)
	}
	return f.copyExpunge(ctx, s, state, uids, mailbox)
}

// copyExpunge copies uids to mailbox, and only once COPY succeeded flags
// them \Deleted and expunges them, without leaving a second copy in
// mailbox when an earlier attempt was cut between its COPY and its
// EXPUNGE. Before COPY it marks the messages as being copied: with
// MovingKeyword where the mailbox keeps keywords, and in the State's
// CopyJournal when it has one. Messages found marked are first looked for
// in mailbox (see alreadyCopied). With neither keywords nor a journal, a
// cut attempt leaves a duplicate.
func (f *Fetcher) copyExpunge(ctx context.Context, s *session, state State, uids imap.UIDSet, mailbox string) error {
	journal, _ := state.(CopyJournal)
	maybe, err := f.maybeCopied(ctx, s, journal, uids, mailbox)
	if err != nil {
		return err
	}
	toCopy := uids
	if len(maybe) > 0 {
		copied, err := f.alreadyCopied(s, maybe, mailbox)
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
		if s.keywords {
			store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{MovingKeyword}}
			if err := s.c.Store(toCopy, store, nil).Close(); err != nil {
				return s.wrap("UID STORE", err)
			}
		}
		if journal != nil {
			if err := journal.BeginCopy(ctx, f.url.Mailbox, mailbox, s.uidValidity, uidNums(toCopy)); err != nil {
				return &Error{Kind: KindState, Mailbox: f.url.Mailbox, Op: "journal", Err: err}
			}
		}
		if _, err := s.c.Copy(toCopy, mailbox).Wait(); err != nil {
			return s.wrapIn(opCopy, mailbox, err)
		}
	}
	if f.afterCopy != nil {
		if err := f.afterCopy(); err != nil {
			return err
		}
	}
	if err := s.expunge(uids); err != nil {
		return s.wrap("UID EXPUNGE", err)
	}
	if journal != nil {
		if err := journal.EndCopy(ctx, f.url.Mailbox, mailbox, uidNums(uids)); err != nil {
			return &Error{Kind: KindState, Mailbox: f.url.Mailbox, Op: "journal", Err: err}
		}
	}
	return nil
}

// maybeCopied returns the UIDs of uids that an earlier, interrupted move
// to mailbox may have copied: flagged MovingKeyword, or recorded in the
// journal.
func (f *Fetcher) maybeCopied(ctx context.Context, s *session, journal CopyJournal, uids imap.UIDSet, mailbox string) ([]imap.UID, error) {
	seen := map[imap.UID]bool{}
	if s.keywords {
		data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uids}, Flag: []imap.Flag{MovingKeyword}}, nil).Wait()
		if err != nil {
			return nil, s.wrap("UID SEARCH", err)
		}
		for _, uid := range data.AllUIDs() {
			seen[uid] = uids.Contains(uid)
		}
	}
	if journal != nil {
		recorded, err := journal.Copying(ctx, f.url.Mailbox, mailbox, s.uidValidity)
		if err != nil {
			return nil, &Error{Kind: KindState, Mailbox: f.url.Mailbox, Op: "journal", Err: err}
		}
		for _, uid := range recorded {
			seen[imap.UID(uid)] = seen[imap.UID(uid)] || uids.Contains(imap.UID(uid))
		}
	}
	var out []imap.UID
	for uid, in := range seen {
		if in {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out, nil
}

// uidNums returns the UIDs of a set of UIDs (no "*").
func uidNums(set imap.UIDSet) []uint32 {
	nums, _ := set.Nums()
	out := make([]uint32, len(nums))
	for i, uid := range nums {
		out[i] = uint32(uid)
	}
	return out
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

// copyIdentity identifies a message across a COPY: its Message-ID, its
// RFC822.SIZE, its INTERNALDATE, which COPY preserves (RFC 3501
// section 6.4.7), and the hash of the first copyHeaderBytes of its header.
// The header tells apart two messages of the same size and second that
// have no Message-ID (bounces of one campaign, made by one MTA in the same
// second, to addresses of the same length): taking one for the copy of
// the other would expunge a message that was never copied.
type copyIdentity struct {
	messageID string
	size      int64
	date      time.Time
	header    [sha256.Size]byte
}

// copyHeaderBytes is how much of a message's header copyIdentity hashes:
// far under every cap of the connection (Options.MaxLiteralBytes).
const copyHeaderBytes = 64 << 10

// copyHeaderSection is the part of a message that copyIdentity hashes.
var copyHeaderSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true,
	Partial: &imap.SectionPartial{Offset: 0, Size: copyHeaderBytes}}

// alreadyCopied returns the UIDs among maybe (messages of the selected
// mailbox an interrupted move may have copied) that already have a copy
// in mailbox: a message with the same Message-ID, RFC822.SIZE,
// INTERNALDATE and header (copyIdentity). The server's SEARCH narrows the candidates by Message-ID
// and date only; the sizes are compared here, from FETCH: Courier-IMAP
// 5.0's SEARCH LARGER/SMALLER compares the size of its file (LF line
// ends), not the RFC822.SIZE it reports (CRLF). It examines mailbox
// (read-only) and selects the original mailbox again; when its
// UIDVALIDITY changed meanwhile, it fails (and the pass starts over). A
// mailbox that cannot be examined and that LIST does not show holds no
// copy.
func (f *Fetcher) alreadyCopied(s *session, maybe []imap.UID, mailbox string) (map[imap.UID]bool, error) {
	source, err := identities(s, maybe)
	if err != nil {
		return nil, err
	}
	validity := s.uidValidity
	dest, err := s.c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, f.examineFailed(s, validity, mailbox, err)
	}
	copied := map[imap.UID]bool{}
	if dest.NumMessages == 0 {
		// Just created (after TRYCREATE): nothing to look for.
		return copied, s.reselect(validity)
	}
	destKeywords := slices.Contains(dest.PermanentFlags, imap.FlagWildcard)
	for uid, k := range source {
		found, err := findCopy(s, k, destKeywords)
		if err != nil {
			return nil, err
		}
		if found {
			copied[uid] = true
		}
	}
	return copied, s.reselect(validity)
}

// examineFailed handles a failed EXAMINE of mailbox, the destination of
// an interrupted move. A failed EXAMINE leaves no mailbox selected
// (RFC 3501 section 6.3.2), so the source is selected again first. A
// refusal for a mailbox LIST does not show means nothing was copied there
// (nil error, Courier-IMAP 5.0 answers a plain NO); a refusal for one it
// shows is permanent and names EXAMINE.
func (f *Fetcher) examineFailed(s *session, validity uint32, mailbox string, err error) error {
	var imapErr *imap.Error
	if !errors.As(err, &imapErr) || imapErr.Type == imap.StatusResponseTypeBye {
		return s.wrapIn(opExamine, mailbox, err)
	}
	if rerr := s.reselect(validity); rerr != nil {
		return rerr
	}
	s.arm()
	exists, lerr := s.folderExists(mailbox)
	if lerr != nil {
		return s.wrapIn("LIST", mailbox, lerr)
	}
	if !exists {
		return nil
	}
	return refusedFor(s.wrapIn(opExamine, mailbox, err))
}

// identities fetches the Message-ID, size and INTERNALDATE of uids.
func identities(s *session, uids []imap.UID) (map[imap.UID]copyIdentity, error) {
	var set imap.UIDSet
	set.AddNum(uids...)
	out := map[imap.UID]copyIdentity{}
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{copyHeaderSection}})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, s.wrap("UID FETCH", err)
		}
		if set.Contains(buf.UID) {
			k := copyIdentity{size: buf.RFC822Size, date: buf.InternalDate, header: sha256.Sum256(buf.FindBodySection(copyHeaderSection))}
			if buf.Envelope != nil {
				k.messageID = buf.Envelope.MessageID
			}
			out[buf.UID] = k
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, s.wrap("UID FETCH", err)
	}
	return out, nil
}

// findCopy reports whether the selected mailbox holds a copy of the
// message k identifies. It searches by Message-ID (HEADER), INTERNALDATE
// (a day either side: SEARCH dates ignore the time and zone) and, when
// the mailbox keeps keywords, MovingKeyword, then compares the size,
// INTERNALDATE and header of the last maxCopyCandidates matches.
func findCopy(s *session, k copyIdentity, keywords bool) (bool, error) {
	criteria := &imap.SearchCriteria{}
	if keywords {
		criteria.Flag = []imap.Flag{MovingKeyword}
	}
	if k.messageID != "" {
		criteria.Header = []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: k.messageID}}
	}
	if !k.date.IsZero() {
		day := k.date.UTC().Truncate(24 * time.Hour)
		criteria.Since, criteria.Before = day.AddDate(0, 0, -1), day.AddDate(0, 0, 2)
	}
	data, err := s.c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return false, s.wrap("UID SEARCH", err)
	}
	found := data.AllUIDs()
	if len(found) == 0 {
		return false, nil
	}
	slices.Sort(found)
	var candidates imap.UIDSet
	candidates.AddNum(found[max(0, len(found)-maxCopyCandidates):]...)
	got, err := s.c.Fetch(candidates, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{copyHeaderSection}}).Collect()
	if err != nil {
		return false, s.wrap("UID FETCH", err)
	}
	for _, d := range got {
		if d.RFC822Size == k.size && d.InternalDate.Equal(k.date) && sha256.Sum256(d.FindBodySection(copyHeaderSection)) == k.header {
			return true, nil
		}
	}
	return false, nil
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
