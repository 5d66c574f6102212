package suppress

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// A lease gives one host at a time a mailbox to work. It is a row of the
// leases table (migration step 3): the mailbox key, the holder and the
// expiry, timed by the database's clock (the hosts' clocks may differ).
// The holder renews it while it works; when the holder dies, the lease
// expires after its TTL and another host may take it. While a DB holds
// leases, every Batch renews them inside its transaction before it
// commits, and fails with ErrLeaseLost when one was taken over: a host
// that lost its mailbox commits nothing more for it.
//
// On PostgreSQL several hosts share the database and the leases keep them
// apart; on SQLite the file lock (DB.Lock) does that already, and leases
// work the same way for the processes of one machine. A DB that holds a
// lost lease refuses to commit batches until the lease is released.

// leaseSchema is migration step 3 (see migrations in db.go).
const leaseSchema = `CREATE TABLE leases (
		mailbox TEXT    PRIMARY KEY, -- the mailbox key (pipeline: the IMAP URL)
		holder  TEXT    NOT NULL,    -- LeaseOptions.Holder
		expires INTEGER NOT NULL     -- Unix milliseconds, the database's clock
	);`

// Lease defaults.
const (
	// DefaultLeaseTTL is how long a lease lasts without renewal: how long
	// a mailbox waits for another host after its holder died.
	DefaultLeaseTTL = 30 * time.Second
	// MinLeaseTTL is the shortest TTL accepted; a shorter one is raised
	// to it.
	MinLeaseTTL = 100 * time.Millisecond
)

// Lease errors.
var (
	// ErrLeased reports a mailbox whose lease another holder has.
	ErrLeased = errors.New("suppress: mailbox is worked by another host")
	// ErrLeaseLost reports a lease that expired and was taken by another
	// holder, or that could not be renewed within its TTL.
	ErrLeaseLost = errors.New("suppress: lease lost")
)

// LeaseOptions configures AcquireLease and WaitLease. The zero value, and
// a nil pointer, mean the defaults.
type LeaseOptions struct {
	// TTL is how long the lease lasts without renewal; default
	// DefaultLeaseTTL (30 s), at least MinLeaseTTL.
	TTL time.Duration
	// Renew is how often the lease is renewed; default TTL/3.
	Renew time.Duration
	// Holder names the holder; default "host/pid/random". Two Leases with
	// the same holder and key are the same lease.
	Holder string
}

func (o *LeaseOptions) withDefaults() LeaseOptions {
	var v LeaseOptions
	if o != nil {
		v = *o
	}
	if v.TTL <= 0 {
		v.TTL = DefaultLeaseTTL
	}
	v.TTL = max(v.TTL, MinLeaseTTL)
	if v.Renew <= 0 || v.Renew >= v.TTL {
		v.Renew = v.TTL / 3
	}
	if v.Holder == "" {
		v.Holder = DefaultHolder()
	}
	return v
}

// DefaultHolder is the holder name of this process: host name, process id
// and a random tag.
func DefaultHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	var r [4]byte
	rand.Read(r[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(r[:]))
}

// Lease is a held lease on a mailbox key. It is renewed in the background
// until Release; Lost is closed when it is lost.
type Lease struct {
	db   *DB
	key  string
	opts LeaseOptions

	lost     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	lostOnce sync.Once
	stopOnce sync.Once
	mu       sync.Mutex
	err      error     // why it was lost
	renewed  time.Time // the last successful renewal, local clock
}

const (
	acquireLeaseSQL = `INSERT INTO leases (mailbox, holder, expires) VALUES (?, ?, {now} + ?)
		ON CONFLICT (mailbox) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= {now}`
	renewLeaseSQL   = `UPDATE leases SET expires = {now} + ? WHERE mailbox = ? AND holder = ?`
	releaseLeaseSQL = `DELETE FROM leases WHERE mailbox = ? AND holder = ?`
	leaseHolderSQL  = `SELECT holder, expires - {now} FROM leases WHERE mailbox = ?`
)

// leaseSQL fills in the dialect's clock and placeholders.
func (db *DB) leaseSQL(q string) string {
	return db.d.bind(strings.ReplaceAll(q, "{now}", db.d.nowMillis))
}

// AcquireLease takes the lease on key for this holder, once: when another
// holder has it and it has not expired, the error wraps ErrLeased and names
// the holder. The lease is then renewed every LeaseOptions.Renew until
// Release.
func (db *DB) AcquireLease(ctx context.Context, key string, opts *LeaseOptions) (*Lease, error) {
	if key == "" {
		return nil, errors.New("suppress: lease of an empty key")
	}
	o := opts.withDefaults()
	res, err := db.sql.ExecContext(ctx, db.leaseSQL(acquireLeaseSQL), key, o.Holder, o.TTL.Milliseconds())
	if err != nil {
		return nil, db.wrapErr("lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, db.wrapErr("lease", err)
	}
	if n == 0 {
		var (
			holder string
			left   int64
		)
		err := db.sql.QueryRowContext(ctx, db.leaseSQL(leaseHolderSQL), key).Scan(&holder, &left)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, db.wrapErr("lease", err)
		}
		return nil, fmt.Errorf("%w: %s is held by %s for %v more", ErrLeased, key, holder,
			(time.Duration(left) * time.Millisecond).Round(time.Millisecond))
	}
	l := &Lease{db: db, key: key, opts: o, renewed: time.Now(),
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	db.mu.Lock()
	if db.leases == nil {
		db.leases = make(map[*Lease]bool)
	}
	db.leases[l] = true
	db.mu.Unlock()
	go l.keep()
	return l, nil
}

// WaitLease is AcquireLease tried every LeaseOptions.Renew until it
// succeeds or ctx ends: a standby host waiting for the holder to stop or
// die.
func (db *DB) WaitLease(ctx context.Context, key string, opts *LeaseOptions) (*Lease, error) {
	o := opts.withDefaults()
	for {
		l, err := db.AcquireLease(ctx, key, &o)
		if !errors.Is(err, ErrLeased) {
			return l, err
		}
		t := time.NewTimer(o.Renew)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up waiting: %v)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// Key returns the mailbox key of the lease.
func (l *Lease) Key() string { return l.key }

// Holder returns the holder the lease is held for.
func (l *Lease) Holder() string { return l.opts.Holder }

// Lost is closed when the lease is lost: taken by another holder after it
// expired, or not renewed within its TTL. Err says why.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns why the lease was lost (wrapping ErrLeaseLost), or nil.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *Lease) setLost(err error) {
	l.lostOnce.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.lost)
	})
}

// keep renews the lease until Release or its loss. A renewal that fails
// for a database error is tried again at the next tick; when none has
// succeeded for a TTL, the lease may be another's and is given up.
func (l *Lease) keep() {
	defer close(l.done)
	t := time.NewTicker(l.opts.Renew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.lost:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.Renew)
		err := l.Renew(ctx)
		cancel()
		if errors.Is(err, ErrLeaseLost) {
			return
		}
		l.mu.Lock()
		stale := time.Since(l.renewed) >= l.opts.TTL
		l.mu.Unlock()
		if err != nil && stale {
			l.setLost(fmt.Errorf("%w: %s: not renewed for %v: %v", ErrLeaseLost, l.key, l.opts.TTL, err))
			return
		}
	}
}

// Renew extends the lease by its TTL now. When another holder has taken
// it, the lease is lost and the error wraps ErrLeaseLost.
func (l *Lease) Renew(ctx context.Context) error {
	if err := l.Err(); err != nil {
		return err
	}
	start := time.Now()
	if err := l.renewIn(ctx, l.db.sql.ExecContext); err != nil {
		return err
	}
	l.mu.Lock()
	l.renewed = start
	l.mu.Unlock()
	return nil
}

// renewIn renews the lease with exec (the pool, or a Batch's transaction).
func (l *Lease) renewIn(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error)) error {
	res, err := exec(ctx, l.db.leaseSQL(renewLeaseSQL), l.opts.TTL.Milliseconds(), l.key, l.opts.Holder)
	if err != nil {
		return l.db.wrapErr("renew lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return l.db.wrapErr("renew lease", err)
	}
	if n == 0 {
		err := fmt.Errorf("%w: %s was taken by another host", ErrLeaseLost, l.key)
		l.setLost(err)
		return err
	}
	return nil
}

// Release stops the renewal and gives the lease up, so that another host
// may take the mailbox at once. Releasing a lost lease does nothing.
func (l *Lease) Release(ctx context.Context) error {
	l.abandon()
	lost := l.Err() != nil
	l.setLost(fmt.Errorf("%w: %s was released", ErrLeaseLost, l.key))
	l.db.mu.Lock()
	delete(l.db.leases, l)
	l.db.mu.Unlock()
	if lost {
		return nil
	}
	if _, err := l.db.sql.ExecContext(ctx, l.db.leaseSQL(releaseLeaseSQL), l.key, l.opts.Holder); err != nil {
		return l.db.wrapErr("release lease", err)
	}
	return nil
}

// abandon stops the renewal and leaves the row to expire, as a host that
// died does.
func (l *Lease) abandon() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// heldLeases returns the leases db holds (lost ones too, until released).
func (db *DB) heldLeases() []*Lease {
	db.mu.Lock()
	defer db.mu.Unlock()
	held := make([]*Lease, 0, len(db.leases))
	for l := range db.leases {
		held = append(held, l)
	}
	return held
}

// renewLeases renews, inside tx, every lease that db holds: the fence of
// Batch.Commit. A lease lost and not yet released fails it too.
func (db *DB) renewLeases(ctx context.Context, tx *sql.Tx) error {
	for _, l := range db.heldLeases() {
		if err := l.Err(); err != nil {
			return err
		}
		if err := l.renewIn(ctx, tx.ExecContext); err != nil {
			return err
		}
	}
	return nil
}
