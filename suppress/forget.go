package suppress

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Forgotten is the text that takes the place of an erased address in the
// text of other rows (another recipient's diagnostic that quoted it).
const Forgotten = "[forgotten]"

// Limits of the checkpoint after Forget: a reader of another process (a
// running bouncer run) may hold the log for a moment.
const (
	ForgetCheckpointTries = 50
	ForgetCheckpointPause = 100 * time.Millisecond
)

// ForgetReport says what Forget erased.
type ForgetReport struct {
	Addresses []ForgottenAddress `json:"addresses"`
	// Compacted is true when the state's files were rewritten so that the
	// erased bytes are gone from them: SQLite's secure delete, the log
	// checkpointed and truncated, and VACUUM; on PostgreSQL, a VACUUM of
	// the tables (the server's files keep dead rows until then; see
	// docs/history.md). Note says why not, when it is false.
	Compacted bool   `json:"compacted"`
	Note      string `json:"note,omitempty"`
}

// ForgottenAddress counts the rows erased for one address.
type ForgottenAddress struct {
	Address string `json:"address"`
	Events  int    `json:"events"`
	Outbox  int    `json:"outbox"`
	Allows  int    `json:"allows"`
	// Lifts counts the records of its allows' lifts pushed to a target
	// (their answer, an error that may quote the address).
	Lifts  int `json:"lifts"`
	Pruned int `json:"pruned"`
	// Scrubbed counts text fields of other rows (another recipient's
	// diagnostic, a Message-ID, a file name) where the address was
	// replaced by Forgotten.
	Scrubbed int `json:"scrubbed"`
}

// scrubColumns are the text columns that may quote an address of another
// row, with their table's key.
var scrubColumns = []struct{ table, key, column string }{
	{"events", "id", "diagnostic"},
	{"events", "id", "original_message_id"},
	{"events", "id", "evidence"},
	{"events", "id", "source"},
	{"messages", "id", "message_id"},
	{"messages", "id", "location"},
	{"outbox", "id", "last_error"},
	{"lifts", "id", "last_error"},
	{"lifts", "id", "result"},
	{"allows", "id", "reason"},
	{"pruned", "address", "diagnostic"},
}

// Forget erases every trace of each address from the state, in one write
// transaction: its events and their outbox entries, its allow records and
// the records of their lifts,
// its pruned summary, and the address wherever the text of another row
// quotes it. The messages stay recorded (by hash, without the address),
// so that a rerun over the same mailbox does not record them again.
//
// Then, on SQLite, the bytes are made to leave the files: the deletion
// runs with PRAGMA secure_delete=ON (freed content is overwritten with
// zeros), the write-ahead log is checkpointed and truncated, the file is
// rebuilt (VACUUM) and the log truncated again. On PostgreSQL the tables
// are vacuumed. Forget takes no run lock: it is safe while bouncer run
// works the same state (it waits for the run's batch, as a batch does).
func (db *DB) Forget(ctx context.Context, addrs []string) (ForgetReport, error) {
	norm := make([]string, 0, len(addrs))
	for _, a := range addrs {
		n, err := NormalizeAddress(a)
		if err != nil {
			return ForgetReport{}, err
		}
		norm = append(norm, n)
	}
	var rep ForgetReport
	if db.d == sqliteDialect {
		if _, err := db.sql.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return rep, db.wrapErr("forget", err)
		}
		defer db.sql.ExecContext(context.Background(), "PRAGMA secure_delete = OFF")
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return rep, db.wrapErr("forget", err)
	}
	defer tx.Rollback()
	for _, addr := range norm {
		f, err := db.forgetOne(ctx, tx, addr)
		if err != nil {
			return rep, db.wrapErr("forget", err)
		}
		rep.Addresses = append(rep.Addresses, f)
	}
	if err := tx.Commit(); err != nil {
		return rep, db.wrapErr("forget", err)
	}
	rep.Compacted, rep.Note = db.compact(ctx)
	return rep, nil
}

// forgetOne erases addr inside tx.
func (db *DB) forgetOne(ctx context.Context, tx *sql.Tx, addr string) (ForgottenAddress, error) {
	f := ForgottenAddress{Address: addr}
	steps := []struct {
		n *int
		q string
	}{
		{&f.Outbox, `DELETE FROM outbox WHERE event IN (SELECT id FROM events WHERE address = ?)`},
		{&f.Events, `DELETE FROM events WHERE address = ?`},
		{&f.Lifts, `DELETE FROM lifts WHERE allow IN (SELECT id FROM allows WHERE address = ?)`},
		{&f.Allows, `DELETE FROM allows WHERE address = ?`},
		{&f.Pruned, `DELETE FROM pruned WHERE address = ?`},
	}
	for _, s := range steps {
		res, err := tx.ExecContext(ctx, db.d.bind(s.q), addr)
		if err != nil {
			return f, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return f, err
		}
		*s.n = int(n)
	}
	n, err := db.scrub(ctx, tx, addr)
	f.Scrubbed = n
	return f, err
}

// scrub replaces addr, in any case, by Forgotten in the text columns of
// scrubColumns, and returns how many fields it changed.
func (db *DB) scrub(ctx context.Context, tx *sql.Tx, addr string) (int, error) {
	re := addressPattern(addr)
	pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(addr) + "%"
	total := 0
	for _, c := range scrubColumns {
		rows, err := tx.QueryContext(ctx, db.d.bind(fmt.Sprintf(
			`SELECT %s, %s FROM %s WHERE lower(%s) LIKE ? ESCAPE '\'`, c.key, c.column, c.table, c.column)), pattern)
		if err != nil {
			return total, err
		}
		type change struct {
			key  any
			text string
		}
		var changes []change
		for rows.Next() {
			var (
				key  any
				text string
			)
			if err := rows.Scan(&key, &text); err != nil {
				rows.Close()
				return total, err
			}
			if t := scrubText(re, text); t != text {
				changes = append(changes, change{key, t})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		for _, ch := range changes {
			if _, err := tx.ExecContext(ctx, db.d.bind(fmt.Sprintf(
				`UPDATE %s SET %s = ? WHERE %s = ?`, c.table, c.column, c.key)), ch.text, ch.key); err != nil {
				return total, err
			}
		}
		total += len(changes)
	}
	return total, nil
}

// addressPattern matches addr in any case (Unicode simple folding).
func addressPattern(addr string) *regexp.Regexp {
	return regexp.MustCompile("(?i)" + regexp.QuoteMeta(addr))
}

// scrubText replaces every match of re in text by Forgotten. Forgotten
// holds brackets, which no normalised address does, so a replacement
// cannot make a new match with the text around it.
func scrubText(re *regexp.Regexp, text string) string {
	return re.ReplaceAllLiteralString(text, Forgotten)
}

// compact rewrites the state's files after Forget so that deleted bytes
// leave them; it reports whether it could, and why not.
func (db *DB) compact(ctx context.Context) (bool, string) {
	if db.d != sqliteDialect {
		for _, t := range []string{"events", "outbox", "allows", "pruned", "messages"} {
			if _, err := db.sql.ExecContext(ctx, "VACUUM "+t); err != nil {
				return false, fmt.Sprintf("VACUUM %s: %v (the deleted rows stay in the server's files until a VACUUM)", t, err)
			}
		}
		return true, ""
	}
	if err := db.truncateLog(ctx); err != nil {
		return false, err.Error()
	}
	if _, err := db.sql.ExecContext(ctx, "VACUUM"); err != nil {
		return false, fmt.Sprintf("VACUUM: %v (run bouncer forget again when the state is idle)", err)
	}
	if err := db.truncateLog(ctx); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// truncateLog checkpoints the write-ahead log into the database and
// truncates it, trying again while a reader of another connection holds
// it (PRAGMA wal_checkpoint reports busy rather than failing).
func (db *DB) truncateLog(ctx context.Context) error {
	for try := 0; ; try++ {
		var busy, logPages, done int
		err := db.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if try+1 >= ForgetCheckpointTries {
			return fmt.Errorf("checkpoint: the log is in use by another connection after %d tries; run bouncer forget again when the state is idle", try+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(ForgetCheckpointPause):
		}
	}
}
