package suppress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrBadURL reports a PostgreSQL state URL that cannot be parsed.
var ErrBadURL = errors.New("suppress: bad PostgreSQL URL")

// pgConns is the size of the connection pool of a PostgreSQL state: one
// for an open Batch, the rest for the lookups, the lists, the outbox and
// the leases.
const pgConns = 6

// DefaultConnectTimeout is how long connecting to a PostgreSQL state may
// take when its URL sets no connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// openPostgres opens the PostgreSQL database at rawURL (pgx's database/sql
// driver) and migrates its schema. The same statements as SQLite's run on
// it, through the dialect: the same tables, constraints and order.
// Options.BusyTimeout, WALLimit and CreateFolder concern SQLite only; a
// URL without connect_timeout gets DefaultConnectTimeout.
func openPostgres(ctx context.Context, rawURL string, opts *Options) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The error quotes the URL, which may hold a password.
		return nil, fmt.Errorf("%w: %s", ErrBadURL, redactedURL(rawURL))
	}
	name := u.Redacted()
	if q := u.Query(); !q.Has("connect_timeout") {
		q.Set("connect_timeout", strconv.Itoa(int(DefaultConnectTimeout.Seconds())))
		u.RawQuery = q.Encode()
	}
	sdb, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("suppress: open %s: %w", name, err)
	}
	sdb.SetMaxOpenConns(pgConns)
	sdb.SetMaxIdleConns(pgConns)
	db := &DB{sql: sdb, read: sdb, path: name, d: postgresDialect}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, db.openErr(err)
	}
	if err := db.prepare(ctx); err != nil {
		sdb.Close()
		return nil, db.openErr(err)
	}
	return db, nil
}

// Shared reports whether the state is shared by several hosts
// (PostgreSQL), whose runs then lease each mailbox (AcquireLease).
func (db *DB) Shared() bool { return db.d != sqliteDialect }

// Redact returns state fit to show: a PostgreSQL URL without its
// password, a file path as it is.
func Redact(state string) string {
	if !IsURL(state) {
		return state
	}
	u, err := url.Parse(state)
	if err != nil {
		return redactedURL(state)
	}
	return u.Redacted()
}

// redactedURL hides what follows "://" up to an "@" in s.
func redactedURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "(unparsable URL)"
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = "xxxxx" + rest[i:]
	}
	return scheme + "://" + rest
}
