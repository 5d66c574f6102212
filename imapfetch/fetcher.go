package imapfetch

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Fetcher pulls one mailbox. It owns the connection and reconnects after
// faults. Its methods must not be called concurrently; cancel the context
// to stop a running Fetch or Watch.
type Fetcher struct {
	url       *URL
	opts      Options
	tlsConfig *tls.Config
	sess      *session // nil when disconnected

	// pending holds messages committed by the Handler and not yet acted on,
	// kept across reconnections so that they are acted on without being
	// handed to the Handler again.
	pending pending

	// refused collects the actions the server refused for good.
	refused refusals

	foreign bool // warnForeignHistory warned
	replay  bool // settling a batch interrupted by a fault

	// folders are the destination folders, placed in the server's
	// namespace at the first connection (placeFolders).
	folders Folders
	placed  bool

	noIdle    bool         // tests: behave as if the server lacked IDLE
	afterCopy func() error // tests: runs between COPY and EXPUNGE
}

// pending is the work of a batch between the Handler's commits and the
// actions on the server.
type pending struct {
	uidValidity  uint32
	cursor       uint32 // every listed UID <= cursor was committed (or vanished)
	unsaved      bool   // cursor moved since the State was saved
	processed    imap.UIDSet
	unrecognized imap.UIDSet
	failed       imap.UIDSet
}

func (p *pending) reset(uidValidity, cursor uint32) {
	*p = pending{uidValidity: uidValidity, cursor: cursor}
}

// Dial parses rawURL (see ParseURL), connects, authenticates and selects
// the mailbox, retrying connection faults as the options say. The
// returned Fetcher reconnects by itself later on. Close it when done.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Fetcher, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if u.Security == SecurityTLS && o.InsecurePlaintext {
		o.InsecurePlaintext = false
	}
	cfg, err := o.tlsConfig(u.Host)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{url: u, opts: o, tlsConfig: cfg}
	var st Stats
	if err := f.retry(ctx, &st, func(*session, func()) error { return nil }); err != nil {
		return nil, err
	}
	return f, nil
}

// URL returns the parsed mailbox URL.
func (f *Fetcher) URL() *URL { return f.url }

// Destination says where a message committed with outcome o goes: the
// mailbox it is moved to, or "" when it stays in its mailbox (flagged, or
// left alone); deleted is set when it is expunged.
func (f *Fetcher) Destination(o Outcome) (mailbox string, deleted bool) {
	switch o {
	case OutcomeProcessed:
		switch f.opts.Action {
		case ActionMove:
			return f.opts.ProcessedMailbox, false
		case ActionDelete:
			return "", true
		}
	case OutcomeUnrecognized:
		return f.opts.UnrecognizedMailbox, false
	}
	return "", false
}

// Close logs out and closes the connection. Messages committed but not
// yet acted on (after a fault) are left in place: the next run hands them
// to the Handler again and acts on them.
func (f *Fetcher) Close() error {
	if f.sess == nil {
		return nil
	}
	s := f.sess
	f.sess = nil
	s.arm()
	err := s.c.Logout().Wait()
	s.close()
	if err != nil {
		return s.wrap("LOGOUT", err)
	}
	return nil
}

// Fetch makes one pass over the mailbox: it hands every message above the
// State's last UID to h, in UID order and in batches, and acts on each
// batch once h has committed it. It reconnects and resumes after faults.
// The Stats are valid even when an error is returned. Messages the server
// refuses for good to move, flag or delete are left in place and the pass
// goes on; Fetch then returns an error wrapping ErrRefused.
func (f *Fetcher) Fetch(ctx context.Context, state State, h Handler) (Stats, error) {
	return f.FetchBatches(ctx, state, &handlerBatch{h: h})
}

// FetchBatches is Fetch with a BatchHandler: the messages of each batch are
// handed to bh.Handle, committed together by bh.Commit, and only then acted
// on, one command per outcome.
func (f *Fetcher) FetchBatches(ctx context.Context, state State, bh BatchHandler) (Stats, error) {
	var st Stats
	f.refused = refusals{}
	err := f.retry(ctx, &st, func(s *session, progress func()) error {
		return f.pass(ctx, s, state, bh, &st, progress)
	})
	st.LeftInPlace = f.refused.n
	if err == nil {
		err = f.refused.err()
	}
	return st, err
}

// Watch processes the mailbox as mail arrives until ctx is canceled, then
// returns nil. It logs running totals to Options.Logger after each pass
// that did something. It makes a pass, waits in IDLE (RFC 2177) for new mail, or
// polls every Options.PollInterval when the server lacks IDLE, and makes a
// pass again. Faults are retried as in Fetch; Watch returns an error only
// when retries are exhausted or the error is permanent.
func (f *Fetcher) Watch(ctx context.Context, state State, h Handler) error {
	return f.WatchBatches(ctx, state, &handlerBatch{h: h})
}

// WatchBatches is Watch with a BatchHandler (see FetchBatches).
func (f *Fetcher) WatchBatches(ctx context.Context, state State, h BatchHandler) error {
	var st Stats
	err := f.retry(ctx, &st, func(s *session, progress func()) error {
		for {
			// Drain the signal first: mail arriving during the pass signals
			// again and is picked up by the next pass.
			select {
			case <-s.newMail:
			default:
			}
			before := st
			if err := f.pass(ctx, s, state, h, &st, progress); err != nil {
				return err
			}
			progress()
			if st != before {
				f.opts.Logger.Info("imapfetch: pass done", "mailbox", f.url.Mailbox, "fetched", st.Fetched, "processed", st.Processed,
					"unrecognized", st.Unrecognized, "failed", st.Failed, "reconnects", st.Reconnects)
			}
			if err := f.wait(ctx, s); err != nil {
				return err
			}
		}
	})
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil
	}
	return err
}

// wait returns when new mail may be there: IDLE saw EXISTS, a NOOP every
// IdleRecheck saw it, or IdleTimeout or PollInterval passed.
func (f *Fetcher) wait(ctx context.Context, s *session) error {
	if s.caps.Has(imap.CapIdle) && !f.noIdle {
		deadline := time.Now().Add(f.opts.IdleTimeout)
		for {
			woke, err := f.idle(ctx, s, min(f.opts.IdleRecheck, time.Until(deadline)))
			if err != nil || woke || !time.Now().Before(deadline) {
				return err
			}
			// Servers that report new mail late in IDLE, or never (GNU
			// Mailutils imap4d), report it to a NOOP (RFC 3501 section
			// 6.1.2).
			if err := f.noop(s); err != nil {
				return err
			}
			select {
			case <-s.newMail:
				return nil
			default:
			}
		}
	}
	timer := time.NewTimer(f.opts.PollInterval)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return f.noop(s)
}

// noop sends NOOP.
func (f *Fetcher) noop(s *session) error {
	s.arm()
	defer s.disarm()
	return s.wrap("NOOP", s.c.Noop().Wait())
}

// idle stays in IDLE (RFC 2177) for at most d. woke is set when the
// server reported new mail or the connection closed.
func (f *Fetcher) idle(ctx context.Context, s *session, d time.Duration) (woke bool, err error) {
	s.arm()
	idle, err := s.c.Idle()
	s.disarm()
	if err != nil {
		return false, s.wrap("IDLE", err)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-s.newMail:
		woke = true
	case <-timer.C:
	case <-ctx.Done():
	case <-s.c.Closed():
		woke = true
	}
	s.arm()
	defer s.disarm()
	err = idle.Close()
	if err == nil {
		err = idle.Wait()
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return woke, s.wrap("IDLE", err)
}

// retry runs fn on a connected session, reconnecting with backoff after
// retryable errors. fn calls progress after committed work; the count of
// consecutive failures then starts again.
func (f *Fetcher) retry(ctx context.Context, st *Stats, fn func(s *session, progress func()) error) error {
	failures := 0
	progress := func() { failures = 0 }
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := f.connected(ctx)
		if err == nil {
			s := f.sess
			stop := context.AfterFunc(ctx, s.close)
			err = fn(s, progress)
			stop()
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				f.drop()
				return ctx.Err()
			}
			if errors.Is(err, ErrHandler) || errors.Is(err, ErrState) {
				return err // not the connection's fault: keep it
			}
			f.drop()
		}
		if permanent(err) {
			return err
		}
		failures++
		if failures > f.opts.MaxRetries {
			if f.opts.MaxRetries == 0 {
				return err
			}
			return fmt.Errorf("%w (gave up after %d attempts)", err, failures)
		}
		delay := f.opts.Backoff << (failures - 1)
		if delay > f.opts.MaxBackoff || delay <= 0 {
			delay = f.opts.MaxBackoff
		}
		f.opts.Logger.Warn("imapfetch: retrying", "addr", f.url.Addr(), "mailbox", f.url.Mailbox, "attempt", failures, "delay", delay, "err", err)
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		st.Reconnects++
	}
}

// connected makes sure f.sess is a live session.
func (f *Fetcher) connected(ctx context.Context) error {
	if f.sess != nil {
		select {
		case <-f.sess.c.Closed():
			f.drop()
		default:
			return nil
		}
	}
	s, err := dial(ctx, f.url, &f.opts, f.tlsConfig)
	if err != nil {
		return err
	}
	f.sess = s
	f.place(s)
	return nil
}

// place places the destination folders in the personal namespace of the
// server, once, at the first connection.
func (f *Fetcher) place(s *session) {
	if f.placed || s == nil {
		return
	}
	f.placed = true
	prefix, delim := "", rune(0)
	if f.opts.DefaultNamed != 0 {
		prefix, delim = s.namespace()
	}
	f.folders = placeFolders(&f.opts, prefix, delim)
	if prefix != "" {
		f.opts.Logger.Info("imapfetch: folders placed in the personal namespace", "addr", f.url.Addr(), "prefix", prefix,
			"processed", f.folders.Processed, "unrecognized", f.folders.Unrecognized, "failed", f.folders.Failed)
	}
}

func (f *Fetcher) drop() {
	if f.sess != nil {
		f.sess.close()
		f.sess = nil
	}
}

// pass fetches and acts on every message above the State's last UID.
func (f *Fetcher) pass(ctx context.Context, s *session, state State, h BatchHandler, st *Stats, progress func()) error {
	mailbox := f.url.Mailbox
	if !s.fresh {
		// Select again: UIDVALIDITY may have changed since, and the
		// server's view of the mailbox is refreshed.
		if err := s.selectMailbox(mailbox); err != nil {
			return err
		}
	}
	s.fresh = false
	savedValidity, last, err := state.Load(ctx, mailbox)
	if err != nil {
		return &Error{Kind: KindState, Mailbox: mailbox, Op: "load", Err: err}
	}
	if savedValidity == 0 {
		f.warnForeignHistory(s, mailbox)
	}
	if savedValidity != s.uidValidity {
		if savedValidity != 0 {
			// RFC 3501 section 2.3.1.1: the old UIDs mean nothing now.
			f.opts.Logger.Warn("imapfetch: UIDVALIDITY changed, starting over", "mailbox", mailbox, "old", savedValidity, "new", s.uidValidity)
			st.Resets++
		}
		last = 0
		if err := state.Save(ctx, mailbox, s.uidValidity, 0); err != nil {
			return &Error{Kind: KindState, Mailbox: mailbox, Op: "save", Err: err}
		}
	}
	if f.pending.unsaved && f.pending.uidValidity == s.uidValidity && f.pending.cursor > last {
		// A batch interrupted by a fault: act on what was committed and is
		// still there.
		f.replay = true
		err := f.settle(ctx, s, state)
		f.replay = false
		if err != nil {
			return err
		}
		last = f.pending.cursor
		progress()
	}
	f.pending.reset(s.uidValidity, last)

	uids, err := f.list(s, last)
	if err != nil {
		return err
	}
	if e, ok := h.(Expecter); ok {
		e.Expect(len(uids))
	}
	for len(uids) > 0 {
		n := min(len(uids), f.opts.BatchSize)
		batch := uids[:n]
		uids = uids[n:]
		err := f.fetchBatch(ctx, s, batch, h, st)
		if err != nil && !errors.Is(err, ErrHandler) {
			return err // connection trouble: pending is settled after reconnecting
		}
		if serr := f.settle(ctx, s, state); serr != nil {
			return serr
		}
		if err != nil {
			return err
		}
		progress()
	}
	return nil
}

// listed is a message found by list.
type listed struct {
	uid      imap.UID
	size     int64
	internal time.Time // INTERNALDATE: when the server received it
}

// list returns the UIDs above last with their sizes, in UID order.
func (f *Fetcher) list(s *session, last uint32) ([]listed, error) {
	if last == ^uint32(0) {
		return nil, nil
	}
	s.arm()
	defer s.disarm()
	// "UID FETCH N:*" also matches the highest UID when it is below N
	// (RFC 3501 section 6.4.8): filter below.
	cmd := s.c.Fetch(imap.UIDSet{{Start: imap.UID(last + 1), Stop: 0}}, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true})
	var out []listed
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect() // UID and size only: no body
		if err != nil {
			cmd.Close()
			return nil, s.wrap("UID FETCH (list)", err)
		}
		s.arm()
		if uint32(buf.UID) > last {
			out = append(out, listed{uid: buf.UID, size: buf.RFC822Size, internal: buf.InternalDate})
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, s.wrap("UID FETCH (list)", err)
	}
	slices.SortFunc(out, func(a, b listed) int { return cmp.Compare(a.uid, b.uid) })
	out = slices.CompactFunc(out, func(a, b listed) bool { return a.uid == b.uid })
	return out, nil
}

// fetchBatch streams the bodies of batch to h, has h commit them, and
// records the committed outcomes in f.pending. It returns an ErrHandler
// error when h failed on a message and there is no FailedMailbox, after
// reading the rest of the batch.
func (f *Fetcher) fetchBatch(ctx context.Context, s *session, batch []listed, h BatchHandler, st *Stats) error {
	taken := make(map[imap.UID]bool, len(batch))
	handlerErr, err := f.stream(ctx, s, batch, h, st, taken)
	// Commit what h took, whatever happened since: it is acted on after a
	// reconnection, without being handed to h again.
	done, cerr := h.Commit(ctx)
	settled := make(map[imap.UID]bool, len(done))
	for _, c := range done {
		uid := imap.UID(c.UID)
		if !taken[uid] {
			continue
		}
		switch {
		case c.Err != nil:
			if f.opts.FailedMailbox == "" {
				if handlerErr == nil {
					handlerErr = &Error{Kind: KindHandler, Mailbox: f.url.Mailbox, Op: "Handler", Err: fmt.Errorf("UID %d (left in place): %w", uid, c.Err)}
				}
				continue
			}
			f.opts.Logger.Warn("imapfetch: handler failed, moving message", "mailbox", f.url.Mailbox, "uid", uid, "to", f.opts.FailedMailbox, "err", c.Err)
			f.pending.failed.AddNum(uid)
			st.Failed++
		case c.Outcome == OutcomeProcessed:
			f.pending.processed.AddNum(uid)
			st.Processed++
		case c.Outcome == OutcomeUnrecognized:
			f.pending.unrecognized.AddNum(uid)
			st.Unrecognized++
		default:
			if handlerErr == nil {
				handlerErr = &Error{Kind: KindHandler, Mailbox: f.url.Mailbox, Op: "Handler", Err: fmt.Errorf("UID %d (left in place): handler returned no valid outcome (%v)", uid, c.Outcome)}
			}
			continue
		}
		settled[uid] = true
	}
	if cerr != nil && handlerErr == nil {
		handlerErr = &Error{Kind: KindHandler, Mailbox: f.url.Mailbox, Op: "Commit", Err: cerr}
	}
	// The cursor covers the longest run of settled UIDs from the start of
	// the batch: a UID above one not settled must not move it past that
	// one (a server may answer out of UID order, a commit may fail).
	for _, m := range batch {
		if !settled[m.uid] && !f.pending.failed.Contains(m.uid) {
			break
		}
		f.pending.cursor = uint32(m.uid)
		f.pending.unsaved = true
	}
	if err != nil {
		return err
	}
	if handlerErr != nil {
		return handlerErr
	}
	if len(taken) < len(batch) {
		// Listed but not returned: expunged meanwhile, unless the server
		// still has them, which must not be skipped.
		missing := make(map[imap.UID]int64)
		for _, m := range batch {
			if !taken[m.uid] && !f.pending.failed.Contains(m.uid) {
				missing[m.uid] = m.size
			}
		}
		if len(missing) > 0 {
			if err := f.checkGone(s, missing); err != nil {
				return err
			}
		}
	}
	f.pending.cursor = uint32(batch[len(batch)-1].uid)
	f.pending.unsaved = true
	return nil
}

// stream runs one UID FETCH over batch and hands each body to h. It
// records in taken the UIDs h took. handlerErr is set when h failed on a
// message and there is no FailedMailbox (the rest is then only drained);
// err when the connection failed.
func (f *Fetcher) stream(ctx context.Context, s *session, batch []listed, h BatchHandler, st *Stats, taken map[imap.UID]bool) (handlerErr, err error) {
	sizes := make(map[imap.UID]int64, len(batch))
	received := make(map[imap.UID]time.Time, len(batch))
	var set imap.UIDSet
	for _, m := range batch {
		sizes[m.uid] = m.size
		received[m.uid] = m.internal
		set.AddNum(m.uid)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	max := f.opts.MaxMessageBytes
	if max > 0 {
		section.Partial = &imap.SectionPartial{Offset: 0, Size: max}
	}

	s.arm()
	defer s.disarm()
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = item.UID
			case imapclient.FetchItemDataBodySection:
				size, ok := sizes[uid]
				if !ok || handlerErr != nil || item.Literal == nil {
					continue // not ours, or draining after a failure
				}
				delete(sizes, uid)
				m := &Message{
					Mailbox:     f.url.Mailbox,
					UIDValidity: s.uidValidity,
					UID:         uint32(uid),
					Size:        size,
					Received:    received[uid],
					Truncated:   max > 0 && size > max,
				}
				complete, herr := f.handle(ctx, s, m, item.Literal, h, st)
				if !complete {
					// With no bytes left, go-imap's reader goroutine stops by
					// itself: wait for it, since the deferred cmd.Close reads
					// the short literal again, which would race with it.
					s.disarm()
					select {
					case <-s.c.Closed():
					case <-time.After(s.timeout):
					}
					return handlerErr, s.wrap("UID FETCH", fmt.Errorf("connection lost in the middle of UID %d", uid))
				}
				switch {
				case herr == nil:
					taken[uid] = true
				case f.opts.FailedMailbox == "":
					handlerErr = &Error{Kind: KindHandler, Mailbox: f.url.Mailbox, Op: "Handler", Err: fmt.Errorf("UID %d (left in place): %w", uid, herr)}
				default:
					f.opts.Logger.Warn("imapfetch: handler failed, moving message", "mailbox", f.url.Mailbox, "uid", uid, "to", f.opts.FailedMailbox, "err", herr)
					f.pending.failed.AddNum(uid)
					st.Failed++
				}
				if err := ctx.Err(); err != nil {
					return handlerErr, err
				}
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return handlerErr, s.wrap("UID FETCH", err)
	}
	return handlerErr, nil
}

// checkGone returns an error when a message of missing still exists.
func (f *Fetcher) checkGone(s *session, missing map[imap.UID]int64) error {
	var set imap.UIDSet
	for uid := range missing {
		set.AddNum(uid)
	}
	s.arm()
	defer s.disarm()
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true})
	var still imap.UID
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err == nil && set.Contains(buf.UID) {
			still = buf.UID
		}
	}
	if err := cmd.Close(); err != nil {
		return s.wrap("UID FETCH (check)", err)
	}
	if still != 0 {
		return s.wrap("UID FETCH", &imap.Error{Type: imap.StatusResponseTypeNo, Text: fmt.Sprintf("no body returned for UID %d", still)})
	}
	return nil
}

// handle hands one message to h. complete is false when the literal came
// short (the connection dropped); the message must then be ignored.
func (f *Fetcher) handle(ctx context.Context, s *session, m *Message, lit imap.LiteralReader, h BatchHandler, st *Stats) (bool, error) {
	body := &countingReader{r: lit, size: lit.Size()}
	m.Body = body
	s.pause() // the Handler's time is its own; a stalled body trips the I/O timeout
	err := h.Handle(ctx, m)
	s.arm()
	// Read what the Handler left, to check the literal arrived whole.
	if _, cerr := io.Copy(io.Discard, body); cerr != nil || !body.complete() {
		return false, nil
	}
	st.Fetched++
	st.Bytes += body.n
	if m.Truncated {
		st.Truncated++
	}
	return true, err
}

// warnForeignHistory warns, on the first pass of a state over a mailbox,
// when the processed folder already holds messages: another state (a
// second --state file, a lost one) has worked this mailbox, and the history
// of its bounces is not in this one.
func (f *Fetcher) warnForeignHistory(s *session, mailbox string) {
	if f.opts.Action != ActionMove || f.opts.ProcessedMailbox == "" {
		return
	}
	data, err := s.c.Status(f.opts.ProcessedMailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || data.NumMessages == nil || *data.NumMessages == 0 {
		return // no such folder yet, or empty: nothing was processed before
	}
	f.opts.Logger.Warn("imapfetch: this state has no record of the mailbox, but its processed folder already holds messages: another state may be working this mailbox, and the history of those bounces is not in this one (check --state)",
		"mailbox", mailbox, "processed", f.opts.ProcessedMailbox, "messages", *data.NumMessages)
	f.foreign = true
}

// ForeignHistory reports whether a pass found the processed folder already
// in use by a state other than this one (see the warning above).
func (f *Fetcher) ForeignHistory() bool { return f.foreign }
