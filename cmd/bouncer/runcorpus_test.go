package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/dovecottest"
	"github.com/bouncer-dev/bouncer/internal/testmail"
	"github.com/bouncer-dev/bouncer/suppress"
)

// sharedCorpus is ../shared/corpus beside the checkout (development, CI).
const sharedCorpus = "../../../shared/corpus"

// labelled is a message of the end-to-end run with the categories its
// labels accept for each address it concerns (lower case); a message with
// no labels (an unlabelled corpus file) is left unchecked, one labelled but
// empty (a message that is not a bounce) must suppress no one.
type labelled struct {
	name    string
	data    []byte
	labels  map[string]map[classify.Category]bool
	checked bool
}

// ourAdjudications lists, in the format of the corpus's adjudicated.tsv,
// the labels that contradict the taxonomy and that the corpus's file does
// not list yet, each judged by reading the message (docs/accuracy.md,
// "Disagreements").
const ourAdjudications = "../../testdata/corpus-adjudicated.tsv"

// corpusLabels reads expected.tsv, with the accepted categories of the
// corpus's adjudicated.tsv and of ourAdjudications in place of the labels
// they overrule, as the corpus's score does: file → address → the
// categories the taxonomy accepts.
func corpusLabels(t *testing.T) map[string]map[string]map[classify.Category]bool {
	t.Helper()
	adj := map[string][]string{} // file\tindex → categories
	adjRcpt := map[string]string{}
	for _, path := range []string{filepath.Join(sharedCorpus, "adjudicated.tsv"), ourAdjudications} {
		for _, f := range readTSV(t, path) {
			k := f["file"] + "\t" + f["index"]
			adj[k] = strings.Split(f["categories"], "|")
			adjRcpt[k] = strings.ToLower(f["recipient"])
		}
	}
	out := map[string]map[string]map[classify.Category]bool{}
	for _, f := range readTSV(t, filepath.Join(sharedCorpus, "expected.tsv")) {
		k := f["file"] + "\t" + f["index"]
		addr := strings.ToLower(f["recipient"])
		if r := adjRcpt[k]; r != "" {
			addr = r
		}
		cats := []string{string(classify.Reason(f["reason"]).Category())}
		if a, ok := adj[k]; ok {
			cats = a
		}
		if out[f["file"]] == nil {
			out[f["file"]] = map[string]map[classify.Category]bool{}
		}
		if out[f["file"]][addr] == nil {
			out[f["file"]][addr] = map[classify.Category]bool{}
		}
		for _, c := range cats {
			out[f["file"]][addr][classify.Category(c)] = true
		}
	}
	return out
}

// readTSV reads a tab-separated file with a header row; lines starting
// with "#" are comments.
func readTSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var hdr []string
	var out []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Split(line, "\t")
		if hdr == nil {
			hdr = fs
			continue
		}
		row := map[string]string{}
		for i, h := range hdr {
			if i < len(fs) {
				row[h] = fs[i]
			}
		}
		out = append(out, row)
	}
	require.NoError(t, sc.Err())
	return out
}

// corpusRunSamples returns the corpus's bounces and not-bounces, and every
// failure line of the seed in its three wrappings (each for an address of
// its own), with their labels.
func corpusRunSamples(t *testing.T) []labelled {
	t.Helper()
	labels := corpusLabels(t)
	var out []labelled
	for _, dir := range []string{"bounces", "not-bounces"} {
		files, err := filepath.Glob(filepath.Join(sharedCorpus, dir, "*"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no messages in %s", dir)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			s := labelled{name: dir + "/" + filepath.Base(f), data: b, labels: labels[filepath.Base(f)]}
			s.checked = s.labels != nil || dir == "not-bounces"
			out = append(out, s)
		}
	}
	for i, row := range readTSV(t, filepath.Join("..", "..", "classify", "testdata", "seed-want.tsv")) {
		for _, wrapping := range []string{"dsn", "qmail", "euc-kr"} {
			addr := fmt.Sprintf("seed%03d-%s@example.net", i, wrapping)
			msg := testmail.SeedMessages(t, row["line"], addr)[wrapping]
			require.NotEmpty(t, msg, "no %s wrapping", wrapping)
			out = append(out, labelled{name: fmt.Sprintf("seed %s %q", wrapping, row["line"]), data: msg, checked: true,
				labels: map[string]map[classify.Category]bool{addr: {classify.Category(row["category"]): true}}})
		}
	}
	return out
}

// crlf returns b with every line ending CRLF, as IMAP serves a message.
func crlf(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// TestRunDovecotCorpusSuppressesNoOneWrongly runs bouncer over a real
// Dovecot holding the whole shared corpus, its not-bounces and the seed
// lines in their three wrappings, and checks the taxonomy's promise
// (docs/taxonomy.md): no address is suppressed for a message whose
// category, as the corpus labels it (adjudicated.tsv overruling
// expected.tsv) or as classify's seed table gives it, is not hard or
// complaint. Each suppression is traced to the messages that caused it
// through the state's events. It needs ../shared beside the checkout.
func TestRunDovecotCorpusSuppressesNoOneWrongly(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedCorpus, "expected.tsv")); err != nil {
		t.Skip("no shared corpus beside the checkout (../shared/corpus)")
	}
	srv := dovecottest.Start(t)
	samples := corpusRunSamples(t)
	byHash := map[string]*labelled{}
	for i := range samples {
		s := &samples[i]
		srv.Append(t, "INBOX", s.data)
		byHash[suppress.Hash(s.data)] = s
		byHash[suppress.Hash(crlf(s.data))] = s
	}
	dir := t.TempDir()
	state, list := filepath.Join(dir, "state.db"), filepath.Join(dir, "list.csv")
	code, stdout, stderr := runBouncer(t, "run", "--imap", srv.URL("INBOX"), "--password-file", srv.PasswordFile,
		"--ca-file", srv.CACertFile, "--state", state, "--out", list)
	require.Equal(t, exitOK, code, "run\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	suppressed := readList(t, list)
	require.NotEmpty(t, suppressed, "the run suppressed no one")

	db, err := sql.Open(suppress.SQLiteDriver, "file:"+state+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(context.Background(),
		`SELECT m.hash, e.address, e.category FROM events e JOIN messages m ON m.id = e.message`)
	require.NoError(t, err)
	defer rows.Close()
	var wrong []string
	checked := 0
	for rows.Next() {
		var hash, addr, cat string
		require.NoError(t, rows.Scan(&hash, &addr, &cat))
		listed, ok := suppressed[addr]
		if !ok || listed != cat {
			continue // this event did not put the address on the list
		}
		s := byHash[hash]
		require.NotNil(t, s, "an event of %s from a message the test did not write", addr)
		if !s.checked {
			continue
		}
		checked++
		cats, ok := s.labels[strings.ToLower(addr)]
		if !ok && len(s.labels) > 0 {
			// The other address of a forward, whose labelled partner is
			// checked, or an address the labels miss (the score counts
			// that): no label to hold it to.
			continue
		}
		if !cats[classify.CategoryHard] && !cats[classify.CategoryComplaint] {
			wrong = append(wrong, fmt.Sprintf("%s suppressed (%s) by %s, labelled %v", addr, cat, s.name, keys(cats)))
		}
	}
	require.NoError(t, rows.Err())
	sort.Strings(wrong)
	assert.Empty(t, wrong, "addresses suppressed whose category is not hard or complaint")
	assert.NotZero(t, checked, "no suppression was traced to a labelled message")
	t.Logf("%d addresses suppressed; %d suppressing events checked against their labels", len(suppressed), checked)
}

// keys returns the categories of m, sorted.
func keys(m map[classify.Category]bool) []string {
	var out []string
	for c := range m {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}
