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
