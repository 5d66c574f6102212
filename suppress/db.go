package suppress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Sentinel errors; the errors returned wrap them with %w.
var (
	// ErrLocked reports that another process holds the state's lock.
	ErrLocked = errors.New("suppress: state is locked by another bouncer run")
	// ErrNewerSchema reports a state file written by a newer bouncer.
	ErrNewerSchema = errors.New("suppress: state was written by a newer version")
	// ErrBadMessage reports a Message that cannot be recorded at all.
	ErrBadMessage = errors.New("suppress: bad message")
	// ErrBadEvent reports an Event that was skipped (other than for its
	// address, which is ErrBadAddress).
	ErrBadEvent = errors.New("suppress: bad event")
	// ErrClosed reports use of a closed DB.
	ErrClosed = errors.New("suppress: database is closed")
	// ErrDiskFull reports that the state's filesystem is full (SQLITE_FULL
	// or ENOSPC): nothing of the failed transaction was written.
	ErrDiskFull = errors.New("suppress: disk full")
	// ErrReadOnly reports a state file, or its folder, that this process
	// cannot write (SQLITE_READONLY, or SQLITE_CANTOPEN on an existing file).
	ErrReadOnly = errors.New("suppress: state is read-only")
)

// DefaultBusyTimeout is how long a statement waits for another connection's
// write lock when Options.BusyTimeout is zero.
const DefaultBusyTimeout = 5 * time.Second

// DefaultWALLimit is the size of the write-ahead log past which a commit
// checkpoints it and truncates it, when Options.WALLimit is zero.
const DefaultWALLimit = 1 << 20

// closeReleaseTimeout bounds the release of each lease by Close.
const closeReleaseTimeout = 5 * time.Second

// readConns is the number of connections of the read pool (Known, Lists).
const readConns = 4

// Options configures Open. The zero value, and a nil pointer, mean the
// defaults. Its fields concern the SQLite file; a PostgreSQL state takes
// its settings from its URL (postgres.go).
type Options struct {
	// BusyTimeout is how long SQLite waits for a lock held by another
	// connection before it fails; default DefaultBusyTimeout.
	BusyTimeout time.Duration
	// WALLimit is the size in bytes of the write-ahead log past which a
	// commit checkpoints it into the database and truncates it, so that the
	// log never holds much more than one batch: on a nearly full disk the
	// space it took is given back before the next batch. Default
	// DefaultWALLimit (1 MiB); negative: leave it to SQLite's automatic
	// checkpoint (1,000 pages, never truncated).
	WALLimit int64
	// CreateFolder creates the folder of the state when it is missing.
	CreateFolder bool
}

// DB is the suppression state: the processed messages, their bounce events
// and the IMAP sync state, in one SQLite file or a PostgreSQL database
// (postgres.go). Its methods are safe for concurrent use.
type DB struct {
	sql  *sql.DB // SQLite: the one writing connection; PostgreSQL: the pool
	read *sql.DB // readers, concurrent with the writer (WAL); PostgreSQL: sql
	path string  // the file, or the URL without its password
	d    *dialect
	// walLimit is Options.WALLimit with its default.
	walLimit int64
	// Statements prepared once, on the writing connection and on the
	// read pool.
	insMessage, insEvent, byHash, byUID *sql.Stmt
	readHash, readUID, readKnown        *sql.Stmt

	mu   sync.Mutex
	lock *fileLock // held by Lock, released by Unlock or Close

	outbox []OutboxTarget  // set by SetOutbox (outbox.go); guarded by mu
	leases map[*Lease]bool // held (lease.go); guarded by mu
}

// StateMode is the mode of a state file Open creates: it holds the
// subscribers' addresses, for bouncer alone. SQLite gives its -wal and
// -shm files the mode of the state.
const StateMode = 0o600

// createPrivate creates the state file at path, empty (an empty file is
// an empty SQLite database), with StateMode, when it does not exist. When
// it cannot (a read-only folder), SQLite's own open says why.
func createPrivate(path string) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, StateMode)
	if err == nil {
		f.Close()
	}
}

// Open opens the state file at path, creating it if it does not exist, and
// migrates its schema to the current version. The database is in WAL mode with
// synchronous=FULL, so a committed Record survives a crash or SIGKILL.
//
// A path that is a PostgreSQL URL (IsURL: "postgres://user@host/db") opens
// that database instead, with the same schema and the same behaviour
// (postgres.go); the database must exist, its tables are created.
func Open(ctx context.Context, path string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	if path == "" {
		return nil, errors.New("suppress: empty state path")
	}
	if IsURL(path) {
		return openPostgres(ctx, path, opts)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	if opts.CreateFolder {
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("suppress: state %s: %w", path, err)
		}
	}
	createPrivate(abs)
	walLimit := opts.WALLimit
	if walLimit == 0 {
		walLimit = DefaultWALLimit
	}
	sdb, err := sql.Open(SQLiteDriver, sqliteDSN(abs, busy, true))
	if err != nil {
		return nil, fmt.Errorf("suppress: open %s: %w", path, err)
	}
	// One writing connection: SQLite serialises writers anyway, and one
	// connection keeps the pragmas and transactions simple.
	sdb.SetMaxOpenConns(1)
	db := &DB{sql: sdb, path: path, d: sqliteDialect, walLimit: walLimit}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, db.openErr(err)
	}
	if walLimit > 0 {
		if _, err := sdb.ExecContext(ctx, fmt.Sprintf("PRAGMA journal_size_limit = %d", walLimit)); err != nil {
			sdb.Close()
			return nil, db.openErr(err)
		}
	}
	rdb, err := sql.Open(SQLiteDriver, sqliteDSN(abs, busy, false))
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("suppress: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(readConns)
	db.read = rdb
	if err := db.prepare(ctx); err != nil {
		db.sql.Close()
		db.read.Close()
		return nil, db.openErr(err)
	}
	return db, nil
}

// KnownBatch is the number of hashes KnownHashes looks up per query.
const KnownBatch = 32

// knownSQL looks up KnownBatch hashes; KnownHashes pads a shorter list with
// empty strings (no hash is empty).
var knownSQL = `SELECT hash, outcome FROM messages WHERE hash IN (?` + strings.Repeat(", ?", KnownBatch-1) + `)`

// Statements of Record and Known.
const (
	insertMessageSQL = `INSERT INTO messages (hash, mailbox, uidvalidity, uid, message_id, outcome, source, events, location, placed)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`
	insertEventSQL = `INSERT INTO events (message, address, category, reason, status, reply_code, diagnostic, date, original_message_id, source,
		 evidence, recipient_from, proof, permanent, list_subscriber, list_campaign)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	byHashSQL = `SELECT outcome FROM messages WHERE hash = ?`
	byUIDSQL  = `SELECT outcome FROM messages WHERE uid != 0 AND mailbox = ? AND uidvalidity = ? AND uid = ? ORDER BY id LIMIT 1`
)

// prepare compiles the statements of Record and Known, once.
func (db *DB) prepare(ctx context.Context) error {
	for _, s := range []struct {
		dst  **sql.Stmt
		pool *sql.DB
		sql  string
	}{
		{&db.insMessage, db.sql, insertMessageSQL},
		{&db.insEvent, db.sql, insertEventSQL},
		{&db.byHash, db.sql, byHashSQL},
		{&db.byUID, db.sql, byUIDSQL},
		{&db.readHash, db.read, byHashSQL},
		{&db.readUID, db.read, byUIDSQL},
		{&db.readKnown, db.read, knownSQL},
	} {
		st, err := s.pool.PrepareContext(ctx, db.d.bind(s.sql))
		if err != nil {
			return err
		}
		*s.dst = st
	}
	return nil
}

// Checkpoint copies the write-ahead log into the database and truncates
// it (PRAGMA wal_checkpoint(TRUNCATE)), giving its disk space back.
//
// On PostgreSQL it does nothing: the server manages its own log.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.d != sqliteDialect {
		return nil
	}
	if _, err := db.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return db.wrapErr("checkpoint", err)
	}
	return nil
}

// afterCommit checkpoints the log when it grew past the limit.
func (db *DB) afterCommit(ctx context.Context) error {
	if db.walLimit <= 0 || db.d != sqliteDialect {
		return nil
	}
	fi, err := os.Stat(db.path + "-wal")
	if err != nil || fi.Size() <= db.walLimit {
		return nil
	}
	return db.Checkpoint(ctx)
}

// openErr words an error of opening the state: a read-only file or folder
// says so.
func (db *DB) openErr(err error) error {
	if errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrReadOnly) {
		return err
	}
	if kind := db.d.kind(err); kind != nil && db.d != sqliteDialect {
		return fmt.Errorf("%w: open %s: %v", kind, db.path, err)
	}
	code := sqliteCode(err)
	if code == codeReadOnly || code == codeCantOpen || code == codePerm {
		if reason := notWritable(db.path); reason != "" {
			return fmt.Errorf("%w: %s: %s (%v)", ErrReadOnly, db.path, reason, err)
		}
	}
	if code == codeFull || sqliteExtendedCode(err) == codeIOErrShmSize {
		return fmt.Errorf("%w: open %s: %v", ErrDiskFull, db.path, err)
	}
	if strings.HasPrefix(err.Error(), "suppress: ") {
		return err
	}
	return fmt.Errorf("suppress: open %s: %w", db.path, err)
}

// notWritable says why this process cannot write the state at path or its
// folder (which must hold the -wal and -shm files), or "" when it can.
func notWritable(path string) string {
	dir := filepath.Dir(path)
	if f, err := os.CreateTemp(dir, ".bouncer-probe-"); err != nil {
		if errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "read-only file system") {
			return "its folder " + dir + " is not writable"
		}
	} else {
		name := f.Name()
		f.Close()
		os.Remove(name)
	}
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err != nil {
		if errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "read-only file system") {
			return "the file is not writable"
		}
	} else {
		f.Close()
	}
	return ""
}

// escapeURIPath escapes the characters that end or change a path in an SQLite
// URI filename.
func escapeURIPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(filepath.ToSlash(p))
}

// Close releases the leases and the lock, if held, and closes the
// database.
func (db *DB) Close() error {
	for _, l := range db.heldLeases() {
		ctx, cancel := context.WithTimeout(context.Background(), closeReleaseTimeout)
		l.Release(ctx)
		cancel()
	}
	err := db.Unlock()
	if db.read != db.sql {
		if cerr := db.read.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("suppress: close: %w", cerr)
		}
	}
	if cerr := db.sql.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("suppress: close: %w", cerr)
	}
	return err
}

// migrations are the schema steps, in order; step i brings the schema from
// version i to i+1 (PRAGMA user_version). Append only: never edit a step that
// has shipped.
var migrations = []string{
	// 1: messages, events, sync state.
	`CREATE TABLE messages (
		id          INTEGER PRIMARY KEY,
		hash        TEXT    NOT NULL UNIQUE, -- sha256 hex of the raw message
		mailbox     TEXT    NOT NULL,
		uidvalidity INTEGER NOT NULL,
		uid         INTEGER NOT NULL,        -- 0: no IMAP UID (maildir, file)
		message_id  TEXT    NOT NULL,
		outcome     TEXT    NOT NULL,
		source      TEXT    NOT NULL,
		events      INTEGER NOT NULL         -- events recorded for it
	);
	CREATE UNIQUE INDEX messages_uid ON messages (mailbox, uidvalidity, uid) WHERE uid != 0;
	CREATE TABLE events (
		id                  INTEGER PRIMARY KEY,
		message             INTEGER NOT NULL REFERENCES messages (id),
		address             TEXT    NOT NULL, -- normalised
		category            TEXT    NOT NULL,
		reason              TEXT    NOT NULL,
		status              TEXT    NOT NULL,
		reply_code          TEXT    NOT NULL,
		diagnostic          TEXT    NOT NULL,
		date                INTEGER NOT NULL, -- Unix seconds, from the bounce
		original_message_id TEXT    NOT NULL,
		source              TEXT    NOT NULL
	);
	CREATE INDEX events_address ON events (address, date);
	CREATE INDEX events_message ON events (message);
	CREATE TABLE sync_state (
		mailbox     TEXT    PRIMARY KEY,
		uidvalidity INTEGER NOT NULL,
		last_uid    INTEGER NOT NULL
	);`,
	// 2: the push outbox (outbox.go).
	outboxSchema,
	// 3: the mailbox leases (lease.go).
	leaseSchema,
	// 4: each event's evidence and each message's place, the allow
	// records and the summaries of pruned suppressions (history.go).
	historySchema,
	// 5: events.permanent: the failure was permanent but unexplained
	// (Event.Permanent), 1 or 0; earlier events are 0.
	`ALTER TABLE events ADD COLUMN permanent INTEGER NOT NULL DEFAULT 0;`,
	// 6: the copy journal of IMAP moves without MOVE (copyjournal.go).
	copyJournalSchema,
	// 7: the list software's ids of an event, what a target made of an
	// entry (listing.go).
	listingSchema,
}

// SchemaVersion is the schema version this package writes: the number of
// migration steps.
const SchemaVersion = 7

// migrate runs the missing migration steps, each in its own write
// transaction together with its version bump.
func (db *DB) migrate(ctx context.Context) error {
	v, err := db.d.version(ctx, db.sql)
	if err != nil {
		return fmt.Errorf("suppress: open %s: %w", db.path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: %s has schema version %d, this bouncer knows %d", ErrNewerSchema, db.path, v, len(migrations))
	}
	for v < len(migrations) {
		tx, err := db.beginWrite(ctx)
		if err != nil {
			return fmt.Errorf("suppress: migrate %s: %w", db.path, err)
		}
		if db.d.schemaTable != "" {
			if _, err := tx.ExecContext(ctx, db.d.schemaTable); err != nil {
				tx.Rollback()
				return fmt.Errorf("suppress: migrate %s: %w", db.path, err)
			}
		}
		// Re-read inside the write transaction: another process may have
		// migrated in between.
		cur, err := db.d.version(ctx, tx)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("suppress: migrate %s: %w", db.path, err)
		}
		if cur != v {
			tx.Rollback()
			if cur > len(migrations) {
				return fmt.Errorf("%w: %s has schema version %d", ErrNewerSchema, db.path, cur)
			}
			v = cur
			continue
		}
		if _, err := tx.ExecContext(ctx, db.d.ddl(migrations[v])); err != nil {
			tx.Rollback()
			return fmt.Errorf("suppress: migrate %s to version %d: %w", db.path, v+1, err)
		}
		if err := db.d.setVersion(ctx, tx, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("suppress: migrate %s to version %d: %w", db.path, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("suppress: migrate %s to version %d: %w", db.path, v+1, err)
		}
		v++
	}
	return nil
}

// beginWrite starts a write transaction: BEGIN IMMEDIATE in SQLite (the
// DSN's _txlock), and on PostgreSQL a transaction that first takes the
// write lock (dialect.writeLock).
func (db *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if db.d.writeLock != "" {
		if _, err := tx.ExecContext(ctx, db.d.writeLock); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// LoadState returns the sync state of an IMAP mailbox: its UIDVALIDITY and
// the highest UID processed. A mailbox never saved yields 0, 0.
func (db *DB) LoadState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	var v, u int64
	err = db.sql.QueryRowContext(ctx,
		db.d.bind("SELECT uidvalidity, last_uid FROM sync_state WHERE mailbox = ?"), mailbox).Scan(&v, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("suppress: load state of %q: %w", mailbox, err)
	}
	return uint32(v), uint32(u), nil
}

// SaveState stores the sync state of an IMAP mailbox, replacing the one
// before.
func (db *DB) SaveState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	_, err := db.sql.ExecContext(ctx, db.d.bind(
		`INSERT INTO sync_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
		 ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid`),
		mailbox, int64(uidValidity), int64(lastUID))
	if err != nil {
		return fmt.Errorf("suppress: save state of %q: %w", mailbox, err)
	}
	return nil
}

// SyncState adapts a DB to the state interface of imapfetch
// (imapfetch.State: Load and Save), backed by LoadState and SaveState.
// The state is kept under Key, or under the mailbox name when Key is empty.
type SyncState struct {
	DB  *DB
	Key string
	// Legacy are keys the state may have been kept under before (an older
	// bouncer keyed a mailbox by its whole URL, imapfetch.URL.LegacyKeys):
	// when nothing is kept under Key, Load carries the first one found over
	// to Key, with its copy journal.
	Legacy []string
}

// SyncState returns db as an imapfetch.State keyed by mailbox name.
func (db *DB) SyncState() SyncState { return SyncState{DB: db} }

// SyncStateFor returns db as an imapfetch.State kept under key (such as
// imapfetch.URL.Key, which names the server and user too), carried over
// from the first of legacy found when there is none under key.
func (db *DB) SyncStateFor(key string, legacy ...string) SyncState {
	return SyncState{DB: db, Key: key, Legacy: legacy}
}

func (s SyncState) key(mailbox string) string {
	if s.Key != "" {
		return s.Key
	}
	return mailbox
}

// Load implements imapfetch.State with DB.LoadState, carrying a state
// kept under a Legacy key over to Key.
func (s SyncState) Load(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	key := s.key(mailbox)
	v, u, err := s.DB.LoadState(ctx, key)
	if err != nil || v != 0 || s.Key == "" {
		return v, u, err
	}
	for _, old := range s.Legacy {
		if old == key {
			continue
		}
		if v, u, err = s.DB.LoadState(ctx, old); err != nil || v == 0 {
			if err != nil {
				return 0, 0, err
			}
			continue
		}
		return v, u, s.DB.carryState(ctx, old, key, v, u)
	}
	return 0, 0, nil
}

// carryState saves the state of old under key, and moves old's copy
// journal to key, in one transaction. The row under old stays, for an
// older bouncer that would still read it.
func (db *DB) carryState(ctx context.Context, old, key string, uidValidity, lastUID uint32) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("suppress: carry the state of %q over: %w", old, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.d.bind(
		`INSERT INTO sync_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
		 ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid`),
		key, int64(uidValidity), int64(lastUID)); err != nil {
		return fmt.Errorf("suppress: carry the state of %q over: %w", old, err)
	}
	if _, err := tx.ExecContext(ctx, db.d.bind("UPDATE imap_copying SET mailbox = ? WHERE mailbox = ?"), key, old); err != nil {
		return fmt.Errorf("suppress: carry the state of %q over: %w", old, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("suppress: carry the state of %q over: %w", old, err)
	}
	return nil
}

// Save implements imapfetch.State with DB.SaveState.
func (s SyncState) Save(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	return s.DB.SaveState(ctx, s.key(mailbox), uidValidity, lastUID)
}

// Lock takes the state's process lock, an OS file lock on the file path +
// ".lock" beside the database, so that a second bouncer run on the same state
// fails at once with an error wrapping ErrLocked instead of waiting. The lock
// is held until Unlock or Close, and the OS drops it when the process dies.
// Calling Lock on a DB that holds the lock does nothing.
//
// On PostgreSQL, Lock does nothing: several hosts and runs share the
// database, and a Lease per mailbox keeps them apart (lease.go).
func (db *DB) Lock() error {
	if db.d != sqliteDialect {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.lock != nil {
		return nil
	}
	// The lock sits beside the real file: two paths to one state (a
	// symlink) take the same lock.
	real := db.path
	if r, err := filepath.EvalSymlinks(db.path); err == nil {
		real = r
	}
	l, err := acquireLock(real + ".lock")
	if err != nil {
		if reason := notWritable(db.path); reason != "" && !errors.Is(err, ErrLocked) {
			return fmt.Errorf("%w: %s: %s (%v)", ErrReadOnly, db.path, reason, err)
		}
		return err
	}
	db.lock = l
	if db.walLimit > 0 {
		// The only writer now: a log left large by a crash or an older
		// version gives its space back before this run needs it.
		if err := db.Checkpoint(context.Background()); err != nil && !errors.Is(err, ErrDiskFull) {
			l.release()
			db.lock = nil
			return db.openErr(err)
		}
	}
	return nil
}

// Unlock releases the lock taken by Lock, if held.
func (db *DB) Unlock() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.lock == nil {
		return nil
	}
	err := db.lock.release()
	db.lock = nil
	return err
}
