package imapfetch_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/bouncer-dev/bouncer/imapfetch"
)

// One pass over a bounce mailbox: bounces are moved away once committed,
// other mail goes to a folder for humans.
func ExampleDial() {
	ctx := context.Background()
	f, err := imapfetch.Dial(ctx, "imaps://bounce%40example.com@imap.example.com/INBOX", &imapfetch.Options{
		SecretFile:          "/run/secrets/imap-password",
		Action:              imapfetch.ActionMove,
		ProcessedMailbox:    "bounces-processed",
		UnrecognizedMailbox: "bounces-unrecognized",
	})
	if err != nil {
		log.Fatal(err) // e.g. "imapfetch: authentication failed: imap.example.com:993 as ..."
	}
	defer f.Close()

	state := &imapfetch.MemState{} // a real caller keeps this next to its own store
	stats, err := f.Fetch(ctx, state, func(ctx context.Context, m *imapfetch.Message) (imapfetch.Outcome, error) {
		// Parse m.Body and commit the result, keyed by content hash or
		// Message-ID, before returning.
		if _, err := io.Copy(io.Discard, m.Body); err != nil {
			return 0, err // incomplete: nothing committed, the message stays
		}
		return imapfetch.OutcomeProcessed, nil
	})
	fmt.Println(stats.Fetched, err)
}
