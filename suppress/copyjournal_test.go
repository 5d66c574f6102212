package suppress

import (
	"context"
	"testing"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ imapfetch.CopyJournal = SyncState{}

// The copy journal keeps, per mailbox and destination, the UIDs being
// copied under one UIDVALIDITY, and forgets exactly those ended.
func TestCopyJournal(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		s := db.SyncStateFor("bounce@mail.example/INBOX")
		require.NoError(t, s.BeginCopy(ctx, "INBOX", "done", 7, []uint32{1, 2, 3, 4000000000}))
		require.NoError(t, s.BeginCopy(ctx, "INBOX", "other", 7, []uint32{5}))
		got, err := s.Copying(ctx, "INBOX", "done", 7)
		require.NoError(t, err)
		assert.Equal(t, []uint32{1, 2, 3, 4000000000}, got, "Copying(done)")
		got, err = s.Copying(ctx, "INBOX", "done", 8)
		require.NoError(t, err)
		assert.Empty(t, got, "Copying under another UIDVALIDITY")

		require.NoError(t, s.EndCopy(ctx, "INBOX", "done", []uint32{2, 4000000000}))
		got, err = s.Copying(ctx, "INBOX", "done", 7)
		require.NoError(t, err)
		assert.Equal(t, []uint32{1, 3}, got, "Copying(done) after EndCopy")
		got, err = s.Copying(ctx, "INBOX", "other", 7)
		require.NoError(t, err)
		assert.Equal(t, []uint32{5}, got, "another destination is kept")

		// A new UIDVALIDITY drops what was recorded under the old one.
		require.NoError(t, s.BeginCopy(ctx, "INBOX", "done", 9, []uint32{1}))
		got, err = s.Copying(ctx, "INBOX", "other", 7)
		require.NoError(t, err)
		assert.Empty(t, got, "old UIDVALIDITY forgotten")
	})
}

// A state kept under an older key (the whole URL) is carried over to the
// new key on the first Load, with its copy journal; an existing state
// under the new key wins.
func TestSyncStateCarryOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, newState func(*testing.T) string) {
		ctx := context.Background()
		db := openTest(t, newState(t))
		u, err := imapfetch.ParseURL("imap://bounce@Mail.Example/INBOX")
		require.NoError(t, err)
		old := "imaps://bounce@Mail.Example:993/INBOX"
		require.NoError(t, db.SaveState(ctx, old, 42, 310))
		require.NoError(t, db.SyncStateFor(old).BeginCopy(ctx, "INBOX", "done", 42, []uint32{300}))

		s := db.SyncStateFor(u.Key(), u.LegacyKeys()...)
		v, last, err := s.Load(ctx, "INBOX")
		require.NoError(t, err)
		assert.Equal(t, [2]uint32{42, 310}, [2]uint32{v, last}, "carried over from %s", old)
		v, last, err = db.LoadState(ctx, u.Key())
		require.NoError(t, err)
		assert.Equal(t, [2]uint32{42, 310}, [2]uint32{v, last}, "saved under %s", u.Key())
		got, err := s.Copying(ctx, "INBOX", "done", 42)
		require.NoError(t, err)
		assert.Equal(t, []uint32{300}, got, "copy journal carried over")

		require.NoError(t, s.Save(ctx, "INBOX", 42, 400))
		v, last, err = s.Load(ctx, "INBOX")
		require.NoError(t, err)
		assert.Equal(t, [2]uint32{42, 400}, [2]uint32{v, last}, "the new key's state wins")
	})
}
