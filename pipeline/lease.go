package pipeline

import (
	"context"
	"fmt"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
)

// keyedSource is a source that names the mailbox it works (IMAP: its URL),
// the key of its lease.
type keyedSource interface {
	MailboxKey() string
}

// leaseKey is the key Run leases before it works src: Options.LeaseKey,
// else, on a shared state (PostgreSQL), the mailbox key of an IMAP source.
// A Maildir is local to its host and is not leased unless LeaseKey says so.
func leaseKey(db *suppress.DB, src mailsource.Source, o *Options) string {
	if o.LeaseKey != "" {
		return o.LeaseKey
	}
	if k, ok := src.(keyedSource); ok && db.Shared() {
		return k.MailboxKey()
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

// add adds the counts of o to st.
func (st *Stats) add(o Stats) {
	st.Messages += o.Messages
	st.Already += o.Already
	st.Bounces += o.Bounces
	st.NotBounces += o.NotBounces
	st.Unrecognized += o.Unrecognized
	st.Incomplete += o.Incomplete
	st.Failed += o.Failed
	st.Skipped += o.Skipped
	st.Unconfirmed += o.Unconfirmed
	st.Unverified += o.Unverified
	for c, n := range o.Events {
		if st.Events == nil {
			st.Events = make(map[classify.Category]int)
		}
		st.Events[c] += n
	}
}
