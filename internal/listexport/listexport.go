// Package listexport is bouncer export: the suppression lists of a state
// alone, without fetching mail, into a file, a folder (one list per
// category) or a writer. The same state gives the same bytes: dates are
// the bounces', and a relative Since counts back from the latest bounce,
// not from the clock.
package listexport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// ErrNoState reports a state file that does not exist: suppress.Open
// would create an empty one, and a typo must not pass unnoticed.
var ErrNoState = errors.New("no state")

// Request is what to export.
type Request struct {
	State  string // the state file
	Policy *suppress.Policy
	Query  suppress.Query
	// SinceBack, if set, replaces Query.Since by the latest bounce of the
	// history minus SinceBack.
	SinceBack time.Duration
	Format    suppress.Format
	// Pending exports the addresses with soft bounces under the
	// threshold instead (suppress.WritePendingCSV: each with its count
	// and window); Format, Query and OutDir do not apply.
	Pending bool
	// Out, OutDir or, when both are empty, Stdout receives the lists.
	Out, OutDir string
	Stdout      io.Writer
}

// Export writes the lists r asks for and returns the paths written.
func Export(ctx context.Context, r *Request) ([]string, error) {
	if _, err := os.Stat(r.State); err != nil && !suppress.IsURL(r.State) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the message names the path already
		}
		return nil, fmt.Errorf("%w %s: %w", ErrNoState, r.State, err)
	}
	if r.Pending {
		return exportPending(ctx, r)
	}
	lists, err := read(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", suppress.Redact(r.State), err)
	}
	if r.OutDir != "" {
		return suppress.WriteDir(r.OutDir, r.Format, lists)
	}
	entries := lists.Suppressed
	if slices.Contains(r.Query.Categories, classify.CategoryPolicy) {
		entries = lists.WithPolicy()
	}
	if r.Out != "" {
		return []string{r.Out}, suppress.WriteFile(r.Out, r.Format, entries)
	}
	return nil, suppress.WriteCSV(r.Stdout, r.Format, entries)
}

// read reads the lists of the state.
func read(ctx context.Context, r *Request) (suppress.Lists, error) {
	db, err := suppress.Open(ctx, r.State, nil)
	if err != nil {
		return suppress.Lists{}, err
	}
	defer db.Close()
	q := r.Query
	lists, err := db.Lists(ctx, r.Policy, &q)
	if err == nil && r.SinceBack > 0 {
		q.Since = lists.Now.Add(-r.SinceBack)
		lists, err = db.Lists(ctx, r.Policy, &q)
	}
	return lists, err
}

// exportPending writes the pending addresses (Request.Pending).
func exportPending(ctx context.Context, r *Request) ([]string, error) {
	db, err := suppress.Open(ctx, r.State, nil)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", suppress.Redact(r.State), err)
	}
	defer db.Close()
	es, err := db.Pending(ctx, r.Policy)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", suppress.Redact(r.State), err)
	}
	if r.Out == "" {
		return nil, suppress.WritePendingCSV(r.Stdout, es)
	}
	return []string{r.Out}, suppress.WritePendingFile(r.Out, es)
}
