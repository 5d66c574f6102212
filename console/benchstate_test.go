package console

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// benchEvents is the size of the benchmark's history.
const benchEvents = 1_000_000

// benchAddresses is how many different addresses the history names.
const benchAddresses = 200_000

// benchEnd is the date of the latest event of the benchmark's history.
var benchEnd = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// benchState returns a state holding benchEvents events over a year,
// built once with a bulk insert (one SQL statement per table) and cached
// in the temporary folder, keyed by the schema version.
func benchState(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("bouncer-console-bench-v%d-%d", suppress.SchemaVersion, benchEvents))
	path := filepath.Join(dir, "state.db")
	if _, err := os.Stat(path + ".done"); err == nil {
		return path
	}
	require.NoError(tb, os.RemoveAll(dir))
	require.NoError(tb, os.MkdirAll(dir, 0o700))
	ctx := context.Background()
	db, err := suppress.Open(ctx, path, nil)
	require.NoError(tb, err)
	require.NoError(tb, db.Close())
	raw, err := sql.Open(suppress.SQLiteDriver, "file:"+path) // WAL: set by Open, kept in the file
	require.NoError(tb, err)
	defer raw.Close()
	end := benchEnd.Unix()
	stmts := []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
		 INSERT INTO messages (id, hash, mailbox, uidvalidity, uid, message_id, outcome, source, events)
		 SELECT i, printf('%064x', i), 'imaps://bounce@mail.example.org/INBOX', 1, i,
		        printf('<b%d@mx.example>', i), 'bounce', 'imap', 1 FROM n`,
		// Categories: 4 in 10 soft, 3 hard, 2 policy, 1 complaint; dates
		// spread over a year back from benchEnd.
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
		 INSERT INTO events (message, address, category, reason, status, reply_code, diagnostic, date, original_message_id, source)
		 SELECT i, printf('user%d@d%d.example', i % ?2, (i % ?2) % 500),
		        CASE i % 10 WHEN 0 THEN 'hard' WHEN 1 THEN 'hard' WHEN 2 THEN 'hard' WHEN 3 THEN 'policy' WHEN 4 THEN 'policy'
		                    WHEN 5 THEN 'complaint' ELSE 'soft' END,
		        CASE i % 10 WHEN 0 THEN 'userunknown' WHEN 1 THEN 'userunknown' WHEN 2 THEN 'hostunknown'
		                    WHEN 3 THEN 'blocked' WHEN 4 THEN 'authfailure' WHEN 5 THEN 'feedback' ELSE 'mailboxfull' END,
		        '5.1.1', '550', printf('550 5.1.1 <user%d>: Recipient address rejected', i % ?2),
		        ?3 - (i * 7919) % (365 * 86400), printf('<o%d@news.example>', i), 'rfc3464' FROM n`,
	}
	tx, err := raw.Begin()
	require.NoError(tb, err)
	for _, s := range stmts {
		_, err := tx.Exec(s, benchEvents, benchAddresses, end)
		require.NoError(tb, err)
	}
	require.NoError(tb, tx.Commit())
	require.NoError(tb, os.WriteFile(path+".done", nil, 0o600))
	return path
}

// benchServer returns the console over the benchmark's state, its
// snapshot built.
func benchServer(b *testing.B) *Server {
	path := benchState(b)
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	srv, err := New(db, &Options{Token: testToken, Refresh: time.Hour})
	require.NoError(b, err)
	start := time.Now()
	_, err = srv.snap.get(context.Background())
	require.NoError(b, err)
	b.Logf("snapshot of %d events built in %v", benchEvents, time.Since(start))
	return srv
}

// benchGet renders path b.N times.
func benchGet(b *testing.B, srv *Server, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
	}
}

// BenchmarkOverview renders the overview of a state of 1,000,000 events
// (the snapshot built once, as the console keeps it between changes).
func BenchmarkOverview(b *testing.B) {
	benchGet(b, benchServer(b), "/")
}

// BenchmarkSuppressionsFiltered renders a filtered page of the list of a
// state of 1,000,000 events.
func BenchmarkSuppressionsFiltered(b *testing.B) {
	benchGet(b, benchServer(b), "/suppressions?category=hard&domain=d7.example&since=90d&page=2&per=50")
}

// BenchmarkAPISuppression answers "is this address suppressed?" on a
// state of 1,000,000 events.
func BenchmarkAPISuppression(b *testing.B) {
	benchGet(b, benchServer(b), "/api/v1/suppressions/user70@d70.example")
}

// BenchmarkSnapshot builds the snapshot of a state of 1,000,000 events:
// what the console does, in the background, after each change of the
// history (the pages show the previous snapshot meanwhile).
func BenchmarkSnapshot(b *testing.B) {
	path := benchState(b)
	db, err := suppress.Open(context.Background(), path, nil)
	require.NoError(b, err)
	defer db.Close()
	for b.Loop() {
		_, err := build(context.Background(), db, nil)
		require.NoError(b, err)
	}
}
