// Package dryrun lets bouncer run --dry-run do the whole job but change
// nothing: the run records into a copy of the state (CopyState), the
// sources are opened with no action, and Source counts what the commits
// would have done to the messages.
//
// # Divergences
//
//   - IMAP SELECT (not EXAMINE) still clears the session flag \Recent of
//     the messages it shows (RFC 3501 section 2.3.2), as any client's
//     look at the mailbox does; IMAP4rev2 (RFC 9051) dropped the flag.
package dryrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bouncer-dev/bouncer/mailsource"
)

// walSuffix names SQLite's write-ahead log beside a database.
const walSuffix = "-wal"

// lockSuffix names the lock file of a state (suppress.DB.Lock).
const lockSuffix = ".lock"

// ErrLocked reports a state that a bouncer run is writing.
var ErrLocked = errors.New("dryrun: the state is in use by another bouncer run")

// CopyState copies the state file at path, and its write-ahead log when
// there is one, into dir and returns the path of the copy, which the run
// may then write. The original is only read: no file is created or
// changed beside it. While it copies it holds a shared lock on the
// state's lock file, when that exists, so that no bouncer run writes the
// state meanwhile (ErrLocked when one holds it). A missing state gives the
// path of a state yet to be created in dir.
func CopyState(path, dir string) (string, error) {
	dst := filepath.Join(dir, filepath.Base(path))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return dst, nil
	}
	unlock, err := sharedLock(path + lockSuffix)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := copyFile(path, dst); err != nil {
		return "", err
	}
	if err := copyFile(path+walSuffix, dst+walSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("dryrun: copy the state: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("dryrun: copy the state: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("dryrun: copy the state %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("dryrun: copy the state %s: %w", src, err)
	}
	return nil
}

// Moves counts what the commits of a run would have done to the
// messages.
type Moves struct {
	Processed    int // recorded bounces: the --after action
	Unrecognized int // recorded, for a human: the unrecognized folder
	Failed       int // not read whole: left in place
}

// Source is a mailsource.Source that counts the outcomes of the commits
// of its passes. Open the source it wraps with no action (IMAP
// ActionNone, Maildir ActionNone), so that nothing moves.
type Source struct {
	src   mailsource.Source
	Moves Moves
}

// Wrap returns src counting its outcomes.
func Wrap(src mailsource.Source) *Source { return &Source{src: src} }

// Pass implements mailsource.Source.
func (s *Source) Pass(ctx context.Context, sink mailsource.Sink) error {
	return s.src.Pass(ctx, &countingSink{Sink: sink, moves: &s.Moves})
}

type countingSink struct {
	mailsource.Sink
	moves *Moves
}

func (c *countingSink) Commit(ctx context.Context) ([]mailsource.Committed, error) {
	done, err := c.Sink.Commit(ctx)
	for _, d := range done {
		switch d.Outcome {
		case mailsource.OutcomeProcessed:
			c.moves.Processed++
		case mailsource.OutcomeUnrecognized:
			c.moves.Unrecognized++
		default:
			c.moves.Failed++
		}
	}
	return done, err
}
