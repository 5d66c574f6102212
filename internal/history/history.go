// Package history is the operator's side of bouncer's state for the
// command line: bouncer why, allow, forget, stats, prune and push
// --status open the state (Open) and call the one API of package suppress
// (DB.Why, Allow, Forget, Stats, Prune, OutboxStatus), which the console
// calls too; this package only writes the answers, as text for a person or
// as JSON (one document, the suppress types with their JSON tags).
//
// Text from a remote server (diagnostics, Message-IDs) is printed on one
// line with every control character folded (textcut.OneLine), so that a
// bounce cannot move the cursor of the terminal that reads it, and cut to
// MaxTextBytes.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/internal/textcut"
	"github.com/bouncer-dev/bouncer/suppress"
)

// MaxTextBytes is the most bytes of one remote text printed by the text
// form (the JSON form holds what the state holds).
const MaxTextBytes = 300

// ErrNoState reports a state file that does not exist: suppress.Open
// would create an empty one, and a typo must not pass unnoticed.
var ErrNoState = errors.New("no state")

// Format is the form of an answer.
type Format string

const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// ParseFormat parses a --format value; "" is FormatText.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "":
		return FormatText, nil
	case FormatText, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown --format %q: want text or json", s)
}

// Open opens the state at path, refusing an SQLite file that does not
// exist (ErrNoState).
func Open(ctx context.Context, path string) (*suppress.DB, error) {
	if !suppress.IsURL(path) {
		if _, err := os.Stat(path); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%w %s: %w", ErrNoState, path, err)
		}
	}
	db, err := suppress.Open(ctx, path, nil)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", suppress.Redact(path), err)
	}
	return db, nil
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// text is remote text fit for a terminal: one line, no control
// characters, cut.
func text(s string) string { return textcut.Ellipsis(textcut.OneLine(s), MaxTextBytes) }

// date writes t in RFC 3339 UTC, or "-" when zero.
func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// errWriter keeps the first write error, so that a long report checks it
// once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}
