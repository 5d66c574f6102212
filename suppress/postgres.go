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
	name := Redact(rawURL)
	if q := u.Query(); !q.Has("connect_timeout") {
		q.Set("connect_timeout", strconv.Itoa(int(DefaultConnectTimeout.Seconds())))
		u.RawQuery = q.Encode()
	}
	// The driver's errors may quote the URL it was given (pgconn hides
	// its password, not a passfile or an sslpassword): every secret of
	// the URL is scrubbed from them.
	scrub := urlScrubber(u, rawURL, name)
	sdb, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("suppress: open %s: %w", name, scrubbed(err, scrub))
	}
	sdb.SetMaxOpenConns(pgConns)
	sdb.SetMaxIdleConns(pgConns)
	db := &DB{sql: sdb, read: sdb, path: name, d: postgresDialect}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, db.openErr(scrubbed(err, scrub))
	}
	if err := db.prepare(ctx); err != nil {
		sdb.Close()
		return nil, db.openErr(scrubbed(err, scrub))
	}
	return db, nil
}

// Shared reports whether the state is shared by several hosts
// (PostgreSQL), whose runs then lease each mailbox (AcquireLease).
func (db *DB) Shared() bool { return db.d != sqliteDialect }

// redactedValue stands for a secret in what is shown.
const redactedValue = "xxxxx"

// Redact returns state fit to show: a PostgreSQL URL without its user-info
// (user and password) and without the values of the query parameters
// that may hold or point to a secret (password, sslpassword, passfile,
// sslkey…: sensitiveKey); a file path as it is.
func Redact(state string) string {
	if !IsURL(state) {
		return state
	}
	u, err := url.Parse(state)
	if err != nil {
		return redactedURL(state)
	}
	if u.User != nil {
		u.User = url.User(redactedValue)
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redactedValue
		} else {
			for k := range q {
				if sensitiveKey(k) {
					q[k] = []string{redactedValue}
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// sensitiveKey reports whether a query parameter of a PostgreSQL URL may
// hold a secret or name the file of one (libpq: password, sslpassword,
// passfile, sslkey, sslcert…).
func sensitiveKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"pass", "secret", "key", "token", "cred", "cert", "auth"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redactedURL keeps the scheme and the host of s, a URL that does not
// parse: the user-info and everything after the path are hidden.
func redactedURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "(unparsable URL)"
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "?" + redactedValue
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = redactedValue + rest[i:]
	}
	return scheme + "://" + rest
}

// urlScrubber returns a Replacer that hides in an error text the URLs of
// a state (as given, and as handed to the driver) behind name, and every
// secret of u: its password and sensitive query values.
func urlScrubber(u *url.URL, raw, name string) *strings.Replacer {
	pairs := []string{raw, name, u.String(), name}
	if p, ok := u.User.Password(); ok && p != "" {
		pairs = append(pairs, p, redactedValue)
	}
	for k, vs := range u.Query() {
		for _, v := range vs {
			if sensitiveKey(k) && v != "" {
				pairs = append(pairs, v, redactedValue, url.QueryEscape(v), redactedValue)
			}
		}
	}
	return strings.NewReplacer(pairs...)
}

// scrubbedError is an error whose text had secrets taken out; it wraps the
// original for errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubbed returns err with its text passed through r.
func scrubbed(err error, r *strings.Replacer) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: r.Replace(err.Error()), err: err}
}
