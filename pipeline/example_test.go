package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// A returned message, as a mail server delivers it to the bounce mailbox.
const bounce = `From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: list-bounces@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Mar 2026 10:30:00 +0000
Message-ID: <b-1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 No such user

--b1--
`

// Example runs the whole job from a Go service, without the CLI: a Maildir
// source, a state, one Run, then the suppression list.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pipeline-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	maildir := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, sub), 0o700); err != nil {
			log.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(maildir, "new", "1772447400.M1P1.mx"), []byte(bounce), 0o600); err != nil {
		log.Fatal(err)
	}

	db, err := suppress.Open(ctx, filepath.Join(dir, "bouncer.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Lock(); err != nil {
		log.Fatal(err) // another run holds the state
	}
	src, err := mailsource.OpenMaildir(maildir, &mailsource.MaildirOptions{
		Action:             mailsource.ActionMove,
		UnrecognizedFolder: "bounces-unrecognized",
	})
	if err != nil {
		log.Fatal(err)
	}
	st, err := pipeline.Run(ctx, db, src, &pipeline.Options{Source: "maildir:" + src.Dir()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d messages, %d bounces, %d hard\n", st.Messages, st.Bounces, st.Events["hard"])

	lists, err := db.Lists(ctx, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range lists.Suppressed {
		fmt.Println(e.Address, e.Category, e.Reason)
	}
	moved, _ := os.ReadDir(src.FolderPath(mailsource.DefaultProcessedFolder) + "/new")
	fmt.Println(len(moved), "message in", mailsource.DefaultProcessedFolder)
	// Output:
	// 1 messages, 1 bounces, 1 hard
	// gone@example.net hard userunknown
	// 1 message in bounces-processed
}
