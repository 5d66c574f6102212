package suppress

import (
	"context"
	"fmt"
)

// copyJournalSchema is the copy journal of IMAP moves on servers without
// MOVE (imapfetch.CopyJournal): which UIDs of a mailbox are being copied
// to which folder, written before the COPY and cleared after the EXPUNGE.
const copyJournalSchema = `CREATE TABLE imap_copying (
		mailbox     TEXT    NOT NULL, -- the sync_state key of the source mailbox
		dest        TEXT    NOT NULL, -- the folder copied to
		uidvalidity INTEGER NOT NULL,
		uid         INTEGER NOT NULL,
		PRIMARY KEY (mailbox, dest, uid)
	);`

// BeginCopy records that uids of the mailbox keyed key (under
// uidValidity) are being copied to dest, and forgets what was recorded for
// key under another UIDVALIDITY.
func (db *DB) BeginCopy(ctx context.Context, key, dest string, uidValidity uint32, uids []uint32) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.d.bind("DELETE FROM imap_copying WHERE mailbox = ? AND uidvalidity != ?"), key, int64(uidValidity)); err != nil {
		return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	ins := db.d.bind(`INSERT INTO imap_copying (mailbox, dest, uidvalidity, uid) VALUES (?, ?, ?, ?)
		ON CONFLICT (mailbox, dest, uid) DO UPDATE SET uidvalidity = excluded.uidvalidity`)
	for _, uid := range uids {
		if _, err := tx.ExecContext(ctx, ins, key, dest, int64(uidValidity), int64(uid)); err != nil {
			return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	return nil
}

// Copying returns the UIDs of the mailbox keyed key recorded as being
// copied to dest under uidValidity, in order.
func (db *DB) Copying(ctx context.Context, key, dest string, uidValidity uint32) ([]uint32, error) {
	rows, err := db.sql.QueryContext(ctx, db.d.bind(
		"SELECT uid FROM imap_copying WHERE mailbox = ? AND dest = ? AND uidvalidity = ? ORDER BY uid"), key, dest, int64(uidValidity))
	if err != nil {
		return nil, fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var uid int64
		if err := rows.Scan(&uid); err != nil {
			return nil, fmt.Errorf("suppress: copy journal of %q: %w", key, err)
		}
		out = append(out, uint32(uid))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	return out, nil
}

// EndCopy forgets uids of the mailbox keyed key and dest.
func (db *DB) EndCopy(ctx context.Context, key, dest string, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	defer tx.Rollback()
	del := db.d.bind("DELETE FROM imap_copying WHERE mailbox = ? AND dest = ? AND uid = ?")
	for _, uid := range uids {
		if _, err := tx.ExecContext(ctx, del, key, dest, int64(uid)); err != nil {
			return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("suppress: copy journal of %q: %w", key, err)
	}
	return nil
}

// BeginCopy implements imapfetch.CopyJournal with DB.BeginCopy.
func (s SyncState) BeginCopy(ctx context.Context, mailbox, dest string, uidValidity uint32, uids []uint32) error {
	return s.DB.BeginCopy(ctx, s.key(mailbox), dest, uidValidity, uids)
}

// Copying implements imapfetch.CopyJournal with DB.Copying.
func (s SyncState) Copying(ctx context.Context, mailbox, dest string, uidValidity uint32) ([]uint32, error) {
	return s.DB.Copying(ctx, s.key(mailbox), dest, uidValidity)
}

// EndCopy implements imapfetch.CopyJournal with DB.EndCopy.
func (s SyncState) EndCopy(ctx context.Context, mailbox, dest string, uids []uint32) error {
	return s.DB.EndCopy(ctx, s.key(mailbox), dest, uids)
}
