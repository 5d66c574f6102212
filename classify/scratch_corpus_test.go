package classify

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
)

func TestScratchCorpus(t *testing.T) {
	dir := os.Getenv("SCRATCH_CORPUS")
	if dir == "" {
		t.Skip()
	}
	f, _ := os.Open(filepath.Join(dir, "expected.tsv"))
	cr := csv.NewReader(f)
	cr.Comma = '\t'
	rows, _ := cr.ReadAll()
	reps := map[string]*dsn.Report{}
	ok, okc, n := 0, 0, 0
	for _, row := range rows[1:] {
		file, rcpt, want := row[0], row[2], Reason(row[5])
		rep, found := reps[file]
		if !found {
			fh, _ := os.Open(filepath.Join(dir, "bounces", file))
			rep, _ = dsn.Parse(fh, nil)
			fh.Close()
			reps[file] = rep
		}
		if rep == nil {
			continue
		}
		for _, r := range rep.Recipients {
			if !strings.EqualFold(r.FinalRecipient, rcpt) {
				continue
			}
			n++
			in := Input{Kind: rep.Kind, Status: r.Status, ReplyCode: r.ReplyCode, Diagnostic: r.Diagnostic, Action: r.Action,
				RemoteMTA: r.RemoteMTA, Command: r.Command, FeedbackType: r.FeedbackType, Vendor: rep.Vendor, DiagnosticType: r.DiagnosticType}
			res := Classify(in)
			if res.Reason == want {
				ok++
			}
			if res.Category == want.Category() {
				okc++
			}
			if res.Reason != want {
				d := normalize(r.Diagnostic)
				if len(d) > 200 {
					d = d[:200]
				}
				fmt.Printf("%-28s %s/%s %s cmd=%s %s want %-13s got %-13s %s | %s\n", file, r.Status, r.ReplyCode, r.Action, r.Command, rep.Vendor, want, res.Reason, res.Evidence, d)
			}
			break
		}
	}
	fmt.Printf("reason %d/%d category %d/%d\n", ok, n, okc, n)
}

func TestScratchSize(t *testing.T) {
	if os.Getenv("SCRATCH_CORPUS") == "" {
		t.Skip()
	}
	fmt.Println("phrases", len(builtins.phrases), "states", len(builtins.m.next)/builtins.m.width, "width", builtins.m.width, "bytes", len(builtins.m.next)*4)
}
