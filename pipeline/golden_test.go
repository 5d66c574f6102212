package pipeline

import (
	"flag"
	"github.com/bouncer-dev/bouncer/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite ../testdata/*.golden.jsonl")

// TestGoldenParse runs every sample in ../testdata through the parse
// pipeline (dsn.Parse, then classify) and compares the records, with their
// evidence, to NAME.golden.jsonl beside it: the reason and category a
// sample gets are pinned down, and a change shows as a diff. Run
// go test ./pipeline -run TestGoldenParse -update to rewrite them.
func TestGoldenParse(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.eml")
	require.NoError(t, err, "no samples in ../testdata")
	require.NotEmpty(t, files, "no samples in ../testdata")
	enc := jsonEncoder{explain: true}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			fh, err := os.Open(f)
			require.NoError(t, err)
			defer fh.Close()
			rep, perr := dsn.Parse(fh, nil)
			got := enc.Encode(nil, parseRecords(nil, name+".eml", rep, perr, nil))
			golden.Check(t, strings.TrimSuffix(f, ".eml")+".golden.jsonl", got, *updateGolden,
				"run go test ./pipeline -run TestGoldenParse -update")
		})
	}
}
