package suppress

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/pgtest"
)

// mixedMessages is a history that exercises the policy and the list
// formats: every category, soft bounces over days and aged out, ties on
// the date, text that needs cleaning or defusing, addresses that sort
// differently by byte and by locale.
func mixedMessages(n int) []*Message {
	reasons := []classify.Reason{classify.ReasonUserUnknown, classify.ReasonMailboxFull, classify.ReasonBlocked,
		classify.ReasonFeedback, classify.ReasonVacation, classify.ReasonDelivered}
	diags := []string{"550 5.1.1 user unknown", "=cmd|' /C calc'!A0", "452 4.2.2 mailbox full\r\n\tplease retry",
		"Ünïcödé réponse – 拒绝", "nul\x00byte", strings.Repeat("long ", 300), "-1+1", "@SUM(1)", "\xff\xfe bad utf-8"}
	locals := []string{"alice", "Bob", "_under", "zed", "a.b", "ÿ"[:0] + "x-y", "Émile", "o'neil"}
	var out []*Message
	for i := range n {
		m := &Message{
			Mailbox:     "imaps://u@mx.example/INBOX",
			UIDValidity: 7,
			UID:         uint32(i + 1),
			Hash:        Hash([]byte(fmt.Sprintf("mixed %d", i))),
			MessageID:   fmt.Sprintf("<b%d@mx.example>", i),
			Source:      "imap",
			Date:        time.Date(2026, 1, 1+i%40, i%24, 0, 0, 0, time.UTC),
		}
		for k := range 1 + i%3 {
			r := reasons[(i+k)%len(reasons)]
			e := Event{
				Address:    fmt.Sprintf("%s%d@Example%d.COM", locals[(i*3+k)%len(locals)], (i+k)%5, k),
				Reason:     r,
				Status:     fmt.Sprintf("5.%d.%d", k, i%3),
				ReplyCode:  []string{"550", "452", "", "5x0"}[i%4],
				Diagnostic: diags[(i+k)%len(diags)],
				MessageID:  fmt.Sprintf("<orig%d@list.example>", i%7),
				Source:     "rfc3464",
				Permanent:  i%4 == 1,
			}
			if i%5 != 0 { // else the message's date stands in
				e.Date = time.Date(2026, 1, 1+(i*7+k)%45, 12, 0, 0, 0, time.UTC)
			}
			m.Events = append(m.Events, e)
		}
		out = append(out, m)
	}
	return out
}

// snapshot is everything a state shows of its history, as bytes.
func snapshot(t *testing.T, db *DB) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	evs, err := db.Events(ctx)
	require.NoError(t, err)
	// The events as a set: their ids (the order of recording) differ
	// between hosts that record at once.
	lines := make([]string, 0, len(evs))
	for _, e := range evs {
		lines = append(lines, fmt.Sprintf("%+v\n", e))
	}
	slices.Sort(lines)
	b.WriteString(strings.Join(lines, ""))
	c, err := db.Counts(ctx)
	require.NoError(t, err)
	fmt.Fprintf(&b, "%d %v %v\n", c.Messages, c.ByOutcome, c.ByCategory)
	for _, pol := range []*Policy{nil, {SuppressPolicy: true, SoftThreshold: 2, SoftDistinctDays: 1}} {
		l, err := db.Lists(ctx, pol, nil)
		require.NoError(t, err)
		for _, f := range Formats() {
			fmt.Fprintf(&b, "== %s\n", f)
			require.NoError(t, WriteCSV(&b, f, l.Suppressed))
			require.NoError(t, WriteCSV(&b, f, l.WithPolicy()))
		}
	}
	return b.String()
}

// TestStoresAgree records the same history in SQLite and in PostgreSQL:
// the events, counts and every list format are the same bytes.
func TestStoresAgree(t *testing.T) {
	ctx := context.Background()
	msgs := mixedMessages(120)
	var snaps []string
	for _, s := range stores {
		db := openTest(t, s.newState(t))
		b, err := db.Begin(ctx)
		require.NoError(t, err)
		for _, m := range msgs {
			_, err := b.Record(ctx, m)
			require.NoError(t, err)
		}
		require.NoError(t, b.Commit(ctx))
		for _, m := range msgs[:10] { // again: nothing new
			res, err := db.Record(ctx, m)
			require.NoError(t, err)
			assert.True(t, res.Already)
		}
		snaps = append(snaps, snapshot(t, db))
	}
	require.Len(t, snaps, 2)
	assert.Contains(t, snaps[0], "complaint")
	assert.Equal(t, snaps[0], snaps[1], "SQLite and PostgreSQL give different lists")
}

// TestPostgresTwoHosts records one message set from two hosts (two DB
// handles) at once, in batches, each in its own order: every message is
// recorded once, and the lists equal those of a single host.
func TestPostgresTwoHosts(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	msgs := mixedMessages(200)

	single := openTest(t, srv.Database(t))
	for _, m := range msgs {
		_, err := single.Record(ctx, m)
		require.NoError(t, err)
	}
	want := snapshot(t, single)

	url := srv.Database(t)
	hosts := []*DB{openTest(t, url), openTest(t, url)}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		fresh  int
		errs   []error
		starts = make(chan struct{})
	)
	for h, db := range hosts {
		order := rand.New(rand.NewPCG(uint64(h), 1)).Perm(len(msgs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-starts
			for len(order) > 0 {
				n := min(len(order), 16)
				b, err := db.Begin(ctx)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				for _, i := range order[:n] {
					res, err := b.Record(ctx, msgs[i])
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						b.Rollback()
						return
					}
					if !res.Already {
						mu.Lock()
						fresh++
						mu.Unlock()
					}
				}
				if err := b.Commit(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				order = order[n:]
			}
		}()
	}
	close(starts)
	wg.Wait()
	require.Empty(t, errs)
	assert.Equal(t, len(msgs), fresh, "each message is new to exactly one host")
	msgsN, _ := countRows(t, hosts[0])
	assert.Equal(t, len(msgs), msgsN)
	assert.Equal(t, want, snapshot(t, hosts[1]))
}

func TestPostgresMigrations(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).Database(t)

	// Several hosts opening a new database at once migrate it once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, url, nil)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	db := openTest(t, url)
	var v, rows int
	require.NoError(t, db.sql.QueryRow("SELECT max(version), count(*) FROM bouncer_schema").Scan(&v, &rows))
	assert.Equal(t, SchemaVersion, v)
	assert.Equal(t, 1, rows)

	// UIDs and UIDVALIDITY are unsigned 32-bit: they fit.
	require.NoError(t, db.SaveState(ctx, "INBOX", 4294967295, 4294967295))
	uv, last, err := db.LoadState(ctx, "INBOX")
	require.NoError(t, err)
	assert.Equal(t, uint32(4294967295), uv)
	assert.Equal(t, uint32(4294967295), last)

	_, err = db.sql.Exec("UPDATE bouncer_schema SET version = $1", SchemaVersion+1)
	require.NoError(t, err)
	_, err = Open(ctx, url, nil)
	assert.ErrorIs(t, err, ErrNewerSchema)
}

func TestPostgresOpenErrors(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	_, err := Open(ctx, strings.Replace(srv.URL("nosuchdb"), "bouncer@", "bouncer:s3cret@", 1), nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret", "the password stays out of errors")

	_, err = Open(ctx, "postgres://u:s3cret@host:badport/db", nil)
	assert.ErrorIs(t, err, ErrBadURL)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestBindDollar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x = '?' AND y = ?", "x = '?' AND y = $1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, bindDollar(tt.in), "bindDollar(%q)", tt.in)
	}
}
