package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
)

// keyedSource is a source that names the mailbox it works (IMAP: its URL),
// the key of its lease.
type keyedSource interface {
	MailboxKey() string
}

// leaseKey is the key Run leases before it works src: Options.LeaseKey,
// else, on a shared state (PostgreSQL), the mailbox key of an IMAP source,
// or for a Maildir "maildir://HOST/PATH": a Maildir is local to its host,
// so two hosts' Maildirs at the same path are two mailboxes.
func leaseKey(db *suppress.DB, src mailsource.Source, o *Options) string {
	if o.LeaseKey != "" {
		return o.LeaseKey
	}
	if !db.Shared() {
		return "" // SQLite: the state's file lock keeps runs apart
	}
	switch s := src.(type) {
	case keyedSource:
		return s.MailboxKey()
	case *mailsource.Maildir:
		host, err := os.Hostname()
		if err != nil {
			host = "localhost"
		}
		return "maildir://" + host + filepath.ToSlash(s.Dir())
	}
	return ""
}

// runLeased works src while it holds the lease on key. Without Watch, a
// mailbox leased by another host is an error wrapping suppress.ErrLeased;
// with Watch, Run waits for the lease (a standby host), and waits again
// when it loses it. A lost lease cancels the work: what was committed
// stays, the rest is left for the new holder.
func runLeased(ctx context.Context, db *suppress.DB, src mailsource.Source, o *Options, key string) (Stats, error) {
	var total Stats
	for {
		var (
			lease *suppress.Lease
			err   error
		)
		if o.Watch {
			lease, err = db.WaitLease(ctx, key, &o.Lease)
			if err != nil && ctx.Err() != nil {
				return total, nil // --watch ends with a signal
			}
		} else {
			lease, err = db.AcquireLease(ctx, key, &o.Lease)
		}
		if err != nil {
			return total, fmt.Errorf("pipeline: %w", err)
		}
		lctx, cancel := context.WithCancelCause(ctx)
		go func() {
			select {
			case <-lease.Lost():
				cancel(lease.Err())
			case <-lctx.Done():
			}
		}()
		st, err := run(lctx, db, src, o)
		lostErr := lease.Err()
		cancel(nil)
		if rerr := lease.Release(context.WithoutCancel(ctx)); err == nil && lostErr == nil {
			err = rerr
		}
		total.add(st)
		if lostErr == nil {
			return total, err
		}
		if !o.Watch || ctx.Err() != nil {
			return total, fmt.Errorf("pipeline: %w", lostErr)
		}
		o.Logger.Warn("pipeline: lease lost; waiting to take the mailbox again", "mailbox", key, "err", lostErr)
	}
}

// add adds the counts of o, a later pass, to st (Stats.Add), keeping the
// latest delivery pass.
func (st *Stats) add(o Stats) {
	push, pushErr := st.Push, st.PushErr
	if o.Push != nil { // the latest delivery pass
		push, pushErr = o.Push, o.PushErr
	}
	*st = st.Add(o)
	st.Push, st.PushErr = push, pushErr
}
