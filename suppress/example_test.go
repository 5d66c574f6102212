package suppress_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "suppress-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := suppress.Open(ctx, filepath.Join(dir, "bouncer.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Lock(); err != nil {
		log.Fatal(err) // another run holds the state: errors.Is(err, suppress.ErrLocked)
	}

	raw := []byte("From: MAILER-DAEMON@mx.example\r\n...")
	date := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	m := &suppress.Message{
		Mailbox: "INBOX", UIDValidity: 1, UID: 42,
		Hash:   suppress.Hash(raw),
		Source: "imap",
		Events: []suppress.Event{
			{Address: "<Gone@Example.COM>", Reason: classify.ReasonUserUnknown, Status: "5.1.1", ReplyCode: "550",
				Diagnostic: "550 5.1.1 user unknown", Date: date},
			{Address: "blocked@example.net", Reason: classify.ReasonBlocked, Status: "5.7.1", Date: date},
			{Address: "not an address", Reason: classify.ReasonUserUnknown, Date: date},
		},
	}
	res, err := db.Record(ctx, m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded:", res.Outcome, res.Events, "events,", len(res.Skipped), "skipped")
	res, _ = db.Record(ctx, m)
	fmt.Println("again: already recorded:", res.Already)

	lists, err := db.Lists(ctx, nil, nil) // default policy
	if err != nil {
		log.Fatal(err)
	}
	var csv strings.Builder
	if err := suppress.WriteCSV(&csv, suppress.FormatGeneric, lists.Suppressed); err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(csv.String(), "\r\n", "\n")) // RFC 4180 lines end in CRLF
	for _, e := range lists.Policy {
		fmt.Println("policy report:", e.Address, e.Reason)
	}
	// Output:
	// recorded: bounce 2 events, 1 skipped
	// again: already recorded: true
	// email,category,reason,status,reply_code,diagnostic,bounces,first_bounce,last_bounce,permanent
	// gone@example.com,hard,userunknown,5.1.1,550,550 5.1.1 user unknown,1,2026-03-02T10:00:00Z,2026-03-02T10:00:00Z,false
	// policy report: blocked@example.net blocked
}
