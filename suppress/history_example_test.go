package suppress_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// ExampleDB_Why records a hard bounce, asks why the address is
// suppressed, allows it, and asks again.
func ExampleDB_Why() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "suppress-why")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := suppress.Open(ctx, filepath.Join(dir, "bouncer.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	date := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_, err = db.Record(ctx, &suppress.Message{
		Hash: suppress.Hash([]byte("a bounce")), Source: "maildir:/var/mail/bounces", Location: "new/1.eml",
		Placed: suppress.PlacedProcessed,
		Events: []suppress.Event{{Address: "gone@example.com", Reason: classify.ReasonUserUnknown, Status: "5.1.1",
			Diagnostic: "550 5.1.1 user unknown", Date: date, Evidence: `phrase "user unknown"`, RecipientFrom: "dsn"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	hs, err := db.Why(ctx, nil, "Gone@Example.com", "never@example.com")
	if err != nil {
		log.Fatal(err)
	}
	h := hs[0]
	fmt.Println(h.Normalized, "suppressed:", h.Suppressed, "rule:", h.Rule, "since:", h.Since.Format(time.DateOnly))
	fmt.Println("evidence:", h.Events[0].Evidence, "from:", h.Events[0].RecipientFrom, "in:", h.Events[0].Source.Location)
	fmt.Println(hs[1].Normalized, "known:", hs[1].Known)

	_, err = db.Allow(ctx, suppress.AllowRequest{Addresses: []string{"gone@example.com"},
		Reason: "the mailbox works again", By: "ops", At: date.Add(time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	hs, _ = db.Why(ctx, nil, "gone@example.com")
	fmt.Println("after the allow: suppressed:", hs[0].Suppressed, "allowed:", hs[0].Allowed, "by:", hs[0].Allows[0].By)
	// Output:
	// gone@example.com suppressed: true rule: hard since: 2026-03-02
	// evidence: phrase "user unknown" from: dsn in: new/1.eml
	// never@example.com known: false
	// after the allow: suppressed: false allowed: true by: ops
}
