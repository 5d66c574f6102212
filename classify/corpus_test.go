package classify

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
)

// TestCorpus measures, when BOUNCER_CORPUS names the shared corpus
// (../shared/corpus: bounces/ and expected.tsv), how often the reason and
// the category agree with the expected ones, reading each message with
// dsn.Parse. It reports; it does not fail (the accuracy is the parser's and
// the classifier's together). With -v it lists the disagreements.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("BOUNCER_CORPUS")
	if dir == "" {
		t.Skip("BOUNCER_CORPUS not set")
	}
	f, err := os.Open(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = '\t'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	reports := map[string]*dsn.Report{}
	var found, reason, category int
	for _, row := range rows[1:] {
		file, rcpt, want := row[0], row[2], Reason(row[5])
		rep, ok := reports[file]
		if !ok {
			fh, err := os.Open(filepath.Join(dir, "bounces", file))
			if err != nil {
				t.Fatal(err)
			}
			rep, _ = dsn.Parse(fh, nil)
			fh.Close()
			reports[file] = rep
		}
		if rep == nil {
			continue
		}
		for _, r := range rep.Recipients {
			if !strings.EqualFold(r.FinalRecipient, rcpt) {
				continue
			}
			found++
			in := Input{Kind: rep.Kind, Status: r.Status, ReplyCode: r.ReplyCode, Diagnostic: r.Diagnostic,
				DiagnosticType: r.DiagnosticType, Action: r.Action, RemoteMTA: r.RemoteMTA, Command: r.Command,
				FeedbackType: r.FeedbackType, Vendor: rep.Vendor}
			got := Classify(in)
			if got.Reason == want {
				reason++
			}
			if got.Category == want.Category() {
				category++
			}
			if got.Reason != want {
				t.Logf("%s %s: %s/%s (%s), want %s/%s; status %q reply %q command %q diagnostic %.120q",
					file, rcpt, got.Reason, got.Category, got.Evidence, want, want.Category(), r.Status, r.ReplyCode, r.Command, r.Diagnostic)
			}
			break
		}
	}
	n := len(rows) - 1
	t.Logf("%d records, %d found by the parser: reason %.1f%%, category %.1f%% (of all records)",
		n, found, 100*float64(reason)/float64(n), 100*float64(category)/float64(n))
}
