package imapfetch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without MOVE and without UIDPLUS (go-imap's in-memory server with
// IMAP4rev1 only), a kill between COPY and EXPUNGE leaves no duplicate
// either; a message whose copy is gone from the destination is copied
// again rather than lost.
func TestNoMoveNoUIDPlusKill(t *testing.T) {
	tests := []struct {
		name       string
		removeCopy bool // someone empties the destination before the restart
	}{
		{name: "copy found, not copied again"},
		{name: "copy gone, copied again", removeCopy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMem(t, capsRev1)
			const n = 6
			for i := 0; i < n; i++ {
				srv.append(t, "INBOX", testMessage(2*i, 100)) // bounces only
			}
			opts := testOptions(t, testPassword)
			opts.Action = ActionMove
			opts.ProcessedMailbox = "done"
			f := dialTest(t, srv.url("INBOX"), opts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.afterCopy = func() error {
				cancel()
				return errKilled
			}
			state := &MemState{}
			rec := newRecorder()
			_, err := f.Fetch(ctx, state, rec.handle)
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, n, srv.count(t, "done"))
			require.Equal(t, n, srv.count(t, "INBOX"), "not expunged before the kill")
			if tc.removeCopy {
				require.NoError(t, srv.user.Delete("done"))
				require.NoError(t, srv.user.Create("done", nil))
			}

			f.Close()
			f = dialTest(t, srv.url("INBOX"), opts)
			_, err = f.Fetch(context.Background(), state, rec.handle)
			require.NoError(t, err)
			assert.Equal(t, 0, srv.count(t, "INBOX"))
			assert.Equal(t, n, srv.count(t, "done"), "each message exactly once in done")
		})
	}
}
