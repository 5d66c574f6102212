package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigReport returns an RFC 3464 report naming n failed recipients.
func bigReport(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: list-bounces@example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 02 Mar 2026 10:30:00 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n")
	for i := range n {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; user%06d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n", i)
	}
	b.WriteString("\r\n--b--\r\n")
	return b.Bytes()
}

// runMaildir runs the job once over a fresh Maildir holding msgs and
// returns the stats, the state and the Maildir.
func runMaildir(t *testing.T, msgs [][]byte, opts *Options) (Stats, *suppress.DB, *mailsource.Maildir) {
	t.Helper()
	dir := t.TempDir()
	writeMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	db := openState(t, filepath.Join(dir, "s.db"))
	t.Cleanup(func() { db.Close() })
	src, err := mailsource.OpenMaildir(filepath.Join(dir, "Maildir"), &mailsource.MaildirOptions{UnrecognizedFolder: "bounces-unrecognized"})
	require.NoError(t, err)
	st, err := Run(context.Background(), db, src, opts)
	require.NoError(t, err)
	return st, db, src
}

// TestRunManyRecipients records a report that names 50,000 recipients
// whole (the per-message cap of suppressions lifted); with a lower cap the
// message is incomplete: counted so, left for a human, and what was read
// is kept.
func TestRunManyRecipients(t *testing.T) {
	const n = 50000
	msg := bigReport(n)
	t.Run("whole", func(t *testing.T) {
		st, db, src := runMaildir(t, [][]byte{msg}, &Options{MaxSuppressPerMessage: -1})
		assert.Equal(t, 1, st.Bounces)
		assert.Zero(t, st.Incomplete)
		assert.Equal(t, n, st.Events[classify.CategoryHard])
		c, err := db.Counts(context.Background())
		require.NoError(t, err)
		assert.Equal(t, n, c.ByCategory[classify.CategoryHard])
		moved, _ := os.ReadDir(filepath.Join(src.FolderPath(mailsource.DefaultProcessedFolder), "new"))
		assert.Len(t, moved, 1)
	})
	t.Run("capped", func(t *testing.T) {
		var logs bytes.Buffer
		st, db, src := runMaildir(t, [][]byte{msg}, &Options{DSN: dsn.Options{MaxRecipients: 1000}, MaxSuppressPerMessage: -1, Logger: newTestLogger(&logs)})
		assert.Equal(t, 1, st.Incomplete)
		assert.Equal(t, 1, st.Unrecognized, "a message that hit a cap is not counted as cleanly done")
		assert.Zero(t, st.Bounces)
		c, err := db.Counts(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1000, c.ByCategory[classify.CategoryHard], "what was read before the cap is recorded")
		left, _ := os.ReadDir(filepath.Join(src.FolderPath("bounces-unrecognized"), "new"))
		assert.Len(t, left, 1, "the message goes to a human")
		assert.Contains(t, logs.String(), "limit was reached")
	})
}

// TestRunFlood checks the per-message cap of suppressions without proof:
// a report naming more failed addresses than the cap is recorded whole,
// suppresses none of them, goes to a human and is named in the stats and
// the log; one at the cap suppresses as before; with a Proof there is no
// cap.
func TestRunFlood(t *testing.T) {
	tests := []struct {
		name       string
		recipients int
		opts       Options
		flooded    bool
	}{
		{"default cap, one over", DefaultMaxSuppressPerMessage + 1, Options{}, true},
		{"default cap, at it", DefaultMaxSuppressPerMessage, Options{}, false},
		{"lower cap", 11, Options{MaxSuppressPerMessage: 10}, true},
		{"no cap", 500, Options{MaxSuppressPerMessage: -1}, false},
		{"with proof", 500, Options{Proof: &ProofChecker{Checker: proof.Checker{OurDomains: []string{"example.net"}}}, ProofReportOnly: true}, false},
		// Over StreamRecipients: the events are made as they are recorded.
		{"streamed, default cap", StreamRecipients + 1, Options{}, true},
		{"streamed, no cap", StreamRecipients + 1, Options{MaxSuppressPerMessage: -1}, false},
		{"streamed, with proof", StreamRecipients + 1, Options{Proof: &ProofChecker{Checker: proof.Checker{OurDomains: []string{"example.net"}}}, ProofReportOnly: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := tt.opts
			opts.Logger = newTestLogger(&logs)
			st, db, src := runMaildir(t, [][]byte{bigReport(tt.recipients)}, &opts)
			c, err := db.Counts(context.Background())
			require.NoError(t, err)
			left, _ := os.ReadDir(filepath.Join(src.FolderPath("bounces-unrecognized"), "new"))
			if !tt.flooded {
				assert.Zero(t, st.Flooded)
				assert.Equal(t, 1, st.Bounces)
				assert.Equal(t, tt.recipients, c.ByCategory[classify.CategoryHard])
				assert.Empty(t, left)
				return
			}
			assert.Equal(t, 1, st.Flooded)
			require.Len(t, st.FloodedNames, 1)
			assert.Zero(t, st.Bounces)
			assert.Equal(t, 1, st.Unrecognized)
			assert.Zero(t, c.ByCategory[classify.CategoryHard], "a flood suppresses no one")
			assert.Equal(t, tt.recipients, c.ByCategory[classify.CategoryNone], "a flood is recorded whole")
			assert.Len(t, left, 1, "a flood goes to a human")
			assert.Contains(t, logs.String(), "names more failed addresses")
			assert.Contains(t, logs.String(), st.FloodedNames[0])
			var sum bytes.Buffer
			st.Summary(&sum)
			assert.Contains(t, sum.String(), "flooded: 1 messages")
			assert.Contains(t, sum.String(), st.FloodedNames[0])
			lists, err := db.Lists(context.Background(), nil, nil)
			require.NoError(t, err)
			assert.Empty(t, lists.Suppressed)
		})
	}
}

// report is a free-text bounce naming recipients at the given positions.
func report(recips ...dsn.Recipient) *dsn.Report {
	return &dsn.Report{Kind: dsn.KindBounce, Vendor: "test", Date: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Recipients: recips}
}

func hard(addr string, pos dsn.Position) dsn.Recipient {
	return dsn.Recipient{FinalRecipient: addr, Position: pos, Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 user unknown"}
}

// TestProcessTextPosition checks that an address read from running text
// suppresses only when the report confirms it elsewhere.
func TestProcessTextPosition(t *testing.T) {
	p := NewProcessor(nil)
	for _, tc := range []struct {
		name     string
		rep      *dsn.Report
		want     classify.Category // of the recorded event
		outcome  suppress.Outcome
		note     string
		unconfim int
	}{
		{"template", report(hard("a@example.net", dsn.PositionTemplate)), classify.CategoryHard, suppress.OutcomeBounce, "", 0},
		{"text alone", report(hard("a@example.net", dsn.PositionText)), classify.CategoryNone, suppress.OutcomeNotBounce, NoteUnconfirmed, 1},
		{"text, the original's recipient", func() *dsn.Report {
			r := report(hard("A@Example.NET", dsn.PositionText))
			r.Original.Recipients = []string{"other@example.org", "a@example.net"}
			return r
		}(), classify.CategoryHard, suppress.OutcomeBounce, "", 0},
		{"text, the VERP address", func() *dsn.Report {
			r := report(hard("a@example.net", dsn.PositionText))
			r.VERP = "<a@EXAMPLE.net>"
			return r
		}(), classify.CategoryHard, suppress.OutcomeBounce, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := p.build(context.Background(), &mailsource.Message{Name: "m"}, strings.Repeat("0", 64), nil, tc.rep, nil)
			require.Len(t, res.Message.Events, 1)
			assert.Equal(t, tc.want, res.Message.Events[0].Category)
			assert.Equal(t, classify.CategoryHard, res.Records[0].Category, "the record keeps its classification")
			assert.Equal(t, tc.outcome, res.Message.Outcome)
			assert.Equal(t, tc.note, res.Records[0].Note)
			assert.Equal(t, tc.unconfim, res.Unconfirmed)
		})
	}
}

// refuse is a Proof that refuses every bounce; workers call it at once.
type refuse struct{ calls atomic.Int64 }

func (r *refuse) Check(_ context.Context, b *Bounce) []proof.Verdict {
	r.calls.Add(1)
	return make([]proof.Verdict, len(b.Report.Recipients))
}

func TestProcessProof(t *testing.T) {
	refuser := &refuse{}
	p := NewProcessor(&Options{Proof: refuser})
	res := p.build(context.Background(), &mailsource.Message{Name: "m"}, strings.Repeat("0", 64), nil,
		report(hard("a@example.net", dsn.PositionDSN)), nil)
	assert.EqualValues(t, 1, refuser.calls.Load())
	assert.Equal(t, 1, res.Unverified)
	assert.Equal(t, classify.CategoryNone, res.Message.Events[0].Category, "an unverified failure suppresses nothing")
	assert.Equal(t, NoteUnverified+string(proof.ReasonNoProof), res.Records[0].Note)

	// Without a failure there is nothing to prove.
	res = p.build(context.Background(), &mailsource.Message{Name: "m"}, strings.Repeat("0", 64), nil,
		&dsn.Report{Kind: dsn.KindNotBounce}, nil)
	assert.EqualValues(t, 1, refuser.calls.Load())
	assert.Zero(t, res.Unverified)
}

// TestRunSecondPass checks that a second run over messages left in place
// parses none of them: each is known by its hash.
func TestRunSecondPass(t *testing.T) {
	dir := t.TempDir()
	msgs := distinctBounces(t, 200)
	writeMaildir(t, filepath.Join(dir, "Maildir"), msgs)
	db := openState(t, filepath.Join(dir, "s.db"))
	defer db.Close()
	src, err := mailsource.OpenMaildir(filepath.Join(dir, "Maildir"), &mailsource.MaildirOptions{Action: mailsource.ActionNone})
	require.NoError(t, err)
	first, err := Run(context.Background(), db, src, &Options{BatchSize: 7})
	require.NoError(t, err)
	assert.Equal(t, 200, first.Messages)
	assert.Zero(t, first.Already)
	second, err := Run(context.Background(), db, src, nil)
	require.NoError(t, err)
	assert.Equal(t, 200, second.Already)
	assert.Zero(t, second.Bounces+second.NotBounces+second.Unrecognized)
}

// newTestLogger returns a logger writing text lines to w.
func newTestLogger(w *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// TestRunForeignHistory runs a Maildir with one state, then new mail with
// another (a second --state file): the second warns that the processed
// folder holds messages it has no record of; the first, run again, does
// not.
func TestRunForeignHistory(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "Maildir")
	writeMaildir(t, md, distinctBounces(t, 5))
	run := func(state string) string {
		var log bytes.Buffer
		db := openState(t, filepath.Join(dir, state))
		defer db.Close()
		src, err := mailsource.OpenMaildir(md, &mailsource.MaildirOptions{Action: mailsource.ActionMove})
		require.NoError(t, err)
		_, err = Run(context.Background(), db, src, &Options{Logger: newTestLogger(&log)})
		require.NoError(t, err)
		return log.String()
	}
	assert.NotContains(t, run("a.db"), "another state", "a first run over an empty processed folder")
	assert.NotContains(t, run("a.db"), "another state", "the same state again")
	assert.Contains(t, run("b.db"), "another state may be working this mailbox", "a second state")
}
