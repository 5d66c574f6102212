package suppress

import (
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// The SQLite driver is chosen here, and only here: its database/sql name,
// its DSN syntax for the pragmas, and its error type. docs/sqlite.md
// measures it against the other embedded drivers.

// SQLiteDriver is the database/sql name of the SQLite driver that
// suppress registers: a program or test that reads a state file directly
// opens it with sql.Open(suppress.SQLiteDriver, "file:state.db?mode=ro").
const SQLiteDriver = "sqlite"

// sqliteDSN is the DSN of the state file at abs: WAL, synchronous=FULL,
// foreign keys, the busy timeout; immediate makes every transaction
// BEGIN IMMEDIATE (the writing connection).
func sqliteDSN(abs string, busy time.Duration, immediate bool) string {
	dsn := "file:" + escapeURIPath(abs) + fmt.Sprintf(
		"?_busy_timeout=%d&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1", busy.Milliseconds())
	if immediate {
		dsn += "&_txlock=immediate"
	}
	return dsn
}

// SQLite's primary result codes (sqlite.org/rescode.html), the same for
// every driver.
const (
	codePerm     = 3
	codeReadOnly = 8
	codeFull     = 13
	codeCantOpen = 14
	// codeIOErrShmSize is the extended code of a full disk met while
	// the WAL's shared memory grows (SQLITE_IOERR_SHMSIZE).
	codeIOErrShmSize = 10 | 19<<8
)

// sqliteExtendedCode returns the extended SQLite result code of err, or 0.
func sqliteExtendedCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// sqliteCode returns the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}
