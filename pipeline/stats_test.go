package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunCopiesAndEarlierRuns tells the copies of a message met twice in
// one run (two files with the same bytes) from the messages an earlier
// run recorded: only the latter are "already recorded".
func TestRunCopiesAndEarlierRuns(t *testing.T) {
	msgs := distinctBounces(t, 5)
	dir := t.TempDir()
	md := filepath.Join(dir, "Maildir")
	writeMaildir(t, md, append(append([][]byte{}, msgs...), msgs[0], msgs[3]))
	db := openState(t, filepath.Join(dir, "s.db"))
	defer db.Close()
	src, err := mailsource.OpenMaildir(md, &mailsource.MaildirOptions{Action: mailsource.ActionNone})
	require.NoError(t, err)
	for _, batch := range []int{1, 1000} {
		t.Run("batch "+map[int]string{1: "of one", 1000: "of all"}[batch], func(t *testing.T) {
			db := openState(t, filepath.Join(t.TempDir(), "s.db"))
			defer db.Close()
			st, err := Run(context.Background(), db, src, &Options{BatchSize: batch, Workers: 1})
			require.NoError(t, err)
			assert.Equal(t, 7, st.Messages)
			assert.Equal(t, 2, st.Duplicates, "copies within the run")
			assert.Zero(t, st.Already, "nothing was recorded before this run")
			assert.Equal(t, 7, st.Expected, "the Maildir's file count")
		})
	}
	first, err := Run(context.Background(), db, src, nil)
	require.NoError(t, err)
	require.Equal(t, 2, first.Duplicates)
	second, err := Run(context.Background(), db, src, nil)
	require.NoError(t, err)
	assert.Equal(t, 7, second.Already, "every file, copies too, was recorded by the first run")
	assert.Zero(t, second.Duplicates)
}

// TestRunWithoutProof counts a bounce whose failures lack proof as such,
// not as "not a bounce", and writes in unverified.csv where the message is
// once moved.
func TestRunWithoutProof(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "Maildir")
	writeMaildir(t, md, [][]byte{forwardDSN("bounce@lists.example.org", "a@example.com", "a@example.com", "")})
	db := openState(t, filepath.Join(dir, "s.db"))
	defer db.Close()
	src, err := mailsource.OpenMaildir(md, &mailsource.MaildirOptions{Action: mailsource.ActionMove, UnrecognizedFolder: "bounces-unrecognized"})
	require.NoError(t, err)
	file := filepath.Join(dir, "unverified.csv")
	st, err := Run(context.Background(), db, src, &Options{Proof: &refuse{}, UnverifiedFile: file})
	require.NoError(t, err)
	assert.Equal(t, 1, st.WithoutProof)
	assert.Zero(t, st.NotBounces, "a failure without proof is not a message without failure")
	assert.Equal(t, 1, st.Unverified)

	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	where := rows[1][5]
	assert.Equal(t, filepath.Join(src.FolderPath("bounces-unrecognized"), "new"), filepath.Dir(where), "the folder the message was moved to")
	_, err = os.Stat(where)
	assert.NoError(t, err, "the message is where the list says")
}

// TestRunSkippedNamed logs each recipient the state refuses, with its
// message, besides counting it.
func TestRunSkippedNamed(t *testing.T) {
	var log bytes.Buffer
	msg := forwardDSN("bounce@lists.example.org", "a@example.com", "=cmd@example.com", "")
	st, _, _ := runMaildir(t, [][]byte{msg}, &Options{Logger: newTestLogger(&log)})
	require.Equal(t, 1, st.Skipped)
	assert.Contains(t, log.String(), "recipient not recorded")
	assert.Contains(t, log.String(), "=cmd@example.com", "the recipient is named")
}

func TestSummary(t *testing.T) {
	events := map[classify.Category]int{classify.CategoryHard: 1, classify.CategoryComplaint: 2}
	tests := []struct {
		name string
		st   Stats
		want []string // lines, in order
		not  []string
	}{
		{"one of each", Stats{Messages: 3, Bounces: 1, NotBounces: 1, Unrecognized: 1, Events: events},
			[]string{"messages: 3 read: 1 bounce, 1 not a bounce, 1 unrecognized", "failed recipients by category: 1 hard, 0 soft, 0 policy, 2 complaint"},
			[]string{"already", "copies"}},
		{"copies and earlier runs", Stats{Messages: 12, Bounces: 5, NotBounces: 2, Duplicates: 1, Already: 4},
			[]string{"messages: 12 read: 5 bounces, 2 not bounces, 0 unrecognized; 1 copy of a message read earlier in this run; 4 already recorded by an earlier run"}, nil},
		{"without proof", Stats{Messages: 2, WithoutProof: 2, Unverified: 3},
			[]string{"messages: 2 read: 0 bounces, 2 bounces without proof (suppressing nothing), 0 not bounces, 0 unrecognized",
				"unverified: 3 failures without proof"}, nil},
		{"singulars", Stats{Messages: 1, Unrecognized: 1, Incomplete: 1, Failed: 1, Unconfirmed: 1, Skipped: 1},
			[]string{"incomplete: 1 message hit a limit", "not read: 1 message could not", "unconfirmed: 1 address read", "skipped: 1 recipient not recorded"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tt.st.Summary(&b)
			out := b.String()
			at := 0
			for _, w := range tt.want {
				i := strings.Index(out[at:], w)
				if assert.GreaterOrEqual(t, i, 0, "Summary() =\n%s\nwant %q after the lines before", out, w) {
					at += i
				}
			}
			for _, n := range tt.not {
				assert.NotContains(t, out, n)
			}
		})
	}
}

func TestStatsAdd(t *testing.T) {
	a := Stats{Messages: 2, Duplicates: 1, WithoutProof: 1, Expected: 3, Events: map[classify.Category]int{classify.CategoryHard: 1}}
	b := Stats{Messages: 5, Already: 2, Expected: 5, Events: map[classify.Category]int{classify.CategoryHard: 2, classify.CategorySoft: 1}}
	sum := a.Add(b)
	assert.Equal(t, Stats{Messages: 7, Duplicates: 1, Already: 2, WithoutProof: 1, Expected: 8,
		Events: map[classify.Category]int{classify.CategoryHard: 3, classify.CategorySoft: 1}}, sum)
	assert.Equal(t, 1, a.Events[classify.CategoryHard], "Add leaves its operands alone")
}
