package suppress

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
)

func BenchmarkDecide(b *testing.B) {
	reasons := []classify.Reason{classify.ReasonUserUnknown, classify.ReasonMailboxFull, classify.ReasonBlocked, classify.ReasonVacation}
	var events []Event
	for i := 0; i < 10000; i++ {
		r := reasons[i%len(reasons)]
		events = append(events, Event{Address: fmt.Sprintf("u%d@example.com", i%3000), Category: r.Category(), Reason: r, Date: day(i%60, i%24)})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Decide(events, nil, nil)
	}
}

func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := testMessage(uint32(i + 1))
		if _, err := db.Record(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// historyState is a state of n events over n/4 addresses, for the
// benchmarks of the operator's questions.
func historyState(b *testing.B, n int) *DB {
	b.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	batch, err := db.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	reasons := []classify.Reason{classify.ReasonUserUnknown, classify.ReasonMailboxFull, classify.ReasonBlocked}
	for i := range n {
		m := evidenceMessage(i%300, fmt.Sprintf("u%d@example%d.com", i%(n/4), i%50), reasons[i%len(reasons)])
		m.Hash, m.UID = Hash([]byte(fmt.Sprint("bench", i))), uint32(i+1)
		if _, err := batch.Record(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkWhy asks about one address of a state of 100,000 events: the
// decision reads the whole history (the policy's now is the latest bounce).
func BenchmarkWhy(b *testing.B) {
	db := historyState(b, 100000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := db.Why(ctx, nil, "u7@example7.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStats counts a state of 100,000 events.
func BenchmarkStats(b *testing.B) {
	db := historyState(b, 100000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := db.Stats(ctx, StatsQuery{By: StatsByDomain}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForget erases one address from a state of 100,000 events,
// VACUUM included.
func BenchmarkForget(b *testing.B) {
	db := historyState(b, 100000)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := db.Forget(ctx, []string{fmt.Sprintf("u%d@example%d.com", i, i%50)}); err != nil {
			b.Fatal(err)
		}
	}
}
