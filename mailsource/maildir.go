package mailsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotMaildir reports a folder without the new/ and cur/ of a Maildir.
var ErrNotMaildir = errors.New("mailsource: not a Maildir")

// Action is what a Maildir source does with a processed bounce once it is
// committed.
type Action string

const (
	// ActionNone leaves every file where it is (the hash of its bytes
	// tells the Sink it was recorded).
	ActionNone Action = "none"
	// ActionMove moves it into the Maildir++ folder
	// MaildirOptions.ProcessedFolder.
	ActionMove Action = "move"
	// ActionSeen moves it to cur/ with the S (seen) flag.
	ActionSeen Action = "seen"
	// ActionDelete removes it.
	ActionDelete Action = "delete"
)

// maildirHead is the size up to which a file is read at once; the rest of a
// larger one is streamed.
const maildirHead = 256 << 10

// Defaults of MaildirOptions.
const (
	DefaultProcessedFolder = "bounces-processed"
	DefaultMaildirBatch    = 1000
)

// MaildirOptions configures a Maildir source. The zero value, and a nil
// pointer, mean the defaults.
type MaildirOptions struct {
	// Action applies to processed bounces; default ActionMove.
	Action Action
	// ProcessedFolder receives bounces with ActionMove, as the Maildir++
	// folder "." + name (a "/" in the name becomes "."); default
	// DefaultProcessedFolder.
	ProcessedFolder string
	// UnrecognizedFolder receives what is not a bounce, for a human, as a
	// Maildir++ folder; empty: such files stay where they are. Unless
	// Action is ActionNone.
	UnrecognizedFolder string
	// Batch is the number of messages added before the source commits and
	// acts on them; default DefaultMaildirBatch.
	Batch int
}

// Maildir is the Source of a local Maildir: the files of its new/ and cur/
// folders, in name order, new/ first.
type Maildir struct {
	dir  string
	opts MaildirOptions
	// folders caches the Maildir++ folders made ready for moves.
	mu      sync.Mutex
	folders map[string]bool
}

var _ Source = (*Maildir)(nil)

// OpenMaildir checks that dir is a Maildir (it has new/ and cur/) and
// returns its source.
func OpenMaildir(dir string, opts *MaildirOptions) (*Maildir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mailsource: %w", err)
	}
	for _, sub := range []string{"new", "cur"} {
		if fi, err := os.Stat(filepath.Join(abs, sub)); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s has no %s/ folder", ErrNotMaildir, dir, sub)
		}
	}
	var o MaildirOptions
	if opts != nil {
		o = *opts
	}
	switch o.Action {
	case "":
		o.Action = ActionMove
	case ActionNone, ActionMove, ActionSeen, ActionDelete:
	default:
		return nil, fmt.Errorf("mailsource: unknown Maildir action %q", o.Action)
	}
	if o.ProcessedFolder == "" {
		o.ProcessedFolder = DefaultProcessedFolder
	}
	if o.Batch <= 0 {
		o.Batch = DefaultMaildirBatch
	}
	return &Maildir{dir: abs, opts: o, folders: make(map[string]bool)}, nil
}

// Dir returns the absolute path of the Maildir.
func (m *Maildir) Dir() string { return m.dir }

// maildirFile is a file added to the Sink, waiting for its outcome.
type maildirFile struct {
	sub, name string
}

// Pass implements Source: it adds the files of new/ and cur/ to sink,
// commits every Batch messages and acts on the committed ones.
func (m *Maildir) Pass(ctx context.Context, sink Sink) error {
	// List both folders first: acting on a message in new/ may move it
	// into cur/, where this pass must not meet it again.
	var lists [2][]fs.DirEntry
	subs := [2]string{"new", "cur"}
	for i, sub := range subs {
		entries, err := os.ReadDir(filepath.Join(m.dir, sub))
		if err != nil {
			return fmt.Errorf("mailsource: %w", err)
		}
		lists[i] = entries
	}
	if e, ok := sink.(Expecter); ok {
		e.Expect(countFiles(lists[0]) + countFiles(lists[1]))
	}
	waiting := make(map[Ticket]maildirFile, m.opts.Batch)
	var buf []byte
	var br bytes.Reader
	for i, sub := range subs {
		for _, e := range lists[i] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			path := filepath.Join(m.dir, sub, e.Name())
			complete, f, err := ReadFileHead(path, &buf, maildirHead)
			if errors.Is(err, fs.ErrNotExist) {
				continue // taken by another mail client meanwhile
			}
			if err != nil {
				return fmt.Errorf("mailsource: %w", err)
			}
			br.Reset(buf)
			msg := &Message{Name: path, Received: Received(e), Size: int64(len(buf)), Body: &br}
			if !complete {
				msg.Size = 0
				msg.Body = io.MultiReader(&br, f)
			}
			t, err := sink.Add(ctx, msg)
			if f != nil {
				f.Close()
			}
			if err != nil {
				return err
			}
			waiting[t] = maildirFile{sub, e.Name()}
			if len(waiting) >= m.opts.Batch {
				if err := m.settle(ctx, sink, waiting); err != nil {
					return err
				}
			}
		}
	}
	return m.settle(ctx, sink, waiting)
}

// countFiles counts the entries of a Maildir folder that Pass reads.
func countFiles(entries []fs.DirEntry) int {
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// Location implements Locator: the path a message of Pass (named by its
// path) has once acted on with outcome o; "" when it is deleted.
func (m *Maildir) Location(name string, o Outcome) string {
	sub := filepath.Base(filepath.Dir(name))
	base := filepath.Base(name)
	switch {
	case m.opts.Action == ActionNone || o == OutcomeFailed:
		return name
	case o != OutcomeProcessed:
		if m.opts.UnrecognizedFolder == "" {
			return name
		}
		return filepath.Join(m.FolderPath(m.opts.UnrecognizedFolder), sub, base)
	case m.opts.Action == ActionMove:
		return filepath.Join(m.FolderPath(m.opts.ProcessedFolder), sub, base)
	case m.opts.Action == ActionSeen:
		return filepath.Join(m.dir, "cur", WithSeenFlag(base))
	}
	return "" // ActionDelete
}

// settle commits what was added and acts on the committed files.
func (m *Maildir) settle(ctx context.Context, sink Sink, waiting map[Ticket]maildirFile) error {
	if len(waiting) == 0 {
		return nil
	}
	done, err := sink.Commit(ctx)
	for _, c := range done {
		f, ok := waiting[c.Ticket]
		if !ok {
			continue
		}
		delete(waiting, c.Ticket)
		if aerr := m.act(f, c.Outcome); aerr != nil && err == nil {
			err = fmt.Errorf("mailsource: %w", aerr)
		}
	}
	clear(waiting) // what was not committed is met again by the next pass
	return err
}

// act does the action an outcome calls for on the committed file.
func (m *Maildir) act(f maildirFile, outcome Outcome) error {
	if m.opts.Action == ActionNone || outcome == OutcomeFailed {
		return nil
	}
	src := filepath.Join(m.dir, f.sub, f.name)
	var err error
	switch {
	case outcome != OutcomeProcessed:
		if m.opts.UnrecognizedFolder == "" {
			return nil
		}
		err = m.move(src, m.opts.UnrecognizedFolder, f.sub, f.name)
	case m.opts.Action == ActionMove:
		err = m.move(src, m.opts.ProcessedFolder, f.sub, f.name)
	case m.opts.Action == ActionSeen:
		_, err = moveNoReplace(src, filepath.Join(m.dir, "cur", WithSeenFlag(f.name)))
	case m.opts.Action == ActionDelete:
		err = os.Remove(src)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil // taken by another mail client meanwhile
	}
	return err
}

// FolderPath returns the path of the Maildir++ folder of an IMAP-style
// mailbox name: "bounces-processed" is DIR/.bounces-processed, "a/b" is
// DIR/.a.b.
func (m *Maildir) FolderPath(mailbox string) string {
	return filepath.Join(m.dir, "."+strings.ReplaceAll(mailbox, "/", "."))
}

// move moves src into the sub folder (new or cur) of a Maildir++ folder,
// created when missing.
func (m *Maildir) move(src, mailbox, sub, name string) error {
	folder := m.FolderPath(mailbox)
	m.mu.Lock()
	ready := m.folders[folder]
	m.mu.Unlock()
	if !ready {
		for _, d := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(folder, d), 0o700); err != nil {
				return err
			}
		}
		marker := filepath.Join(folder, "maildirfolder")
		if _, err := os.Stat(marker); errors.Is(err, fs.ErrNotExist) {
			if err := os.WriteFile(marker, nil, 0o600); err != nil {
				return err
			}
		}
		m.mu.Lock()
		m.folders[folder] = true
		m.mu.Unlock()
	}
	_, err := moveNoReplace(src, filepath.Join(folder, sub, name))
	return err
}

// WithSeenFlag returns the cur/ name of a Maildir message with the S
// (seen) flag: "name:2,FLAGS" with S added, flags in ASCII order.
func WithSeenFlag(name string) string {
	base, flags, ok := strings.Cut(name, ":2,")
	if !ok {
		return name + ":2,S"
	}
	if strings.Contains(flags, "S") {
		return name
	}
	b := []byte(flags + "S")
	slices.Sort(b)
	return base + ":2," + string(b)
}

// minMaildirTime is the earliest delivery time a Maildir name is believed
// for (1973-03-03): a name like "1.eml" is not a Maildir name.
const minMaildirTime = 100_000_000

// Received returns when a Maildir message was delivered: the time at the
// start of its file name when the name is a Maildir name
// ("1700000000.M1P2.host", seconds, a unique part and a host), else the
// file's modification time.
func Received(e fs.DirEntry) time.Time {
	name, _, _ := strings.Cut(e.Name(), ":")
	if parts := strings.Split(name, "."); len(parts) >= 3 && parts[1] != "" && parts[2] != "" {
		if sec, err := strconv.ParseInt(parts[0], 10, 64); err == nil && sec >= minMaildirTime {
			return time.Unix(sec, 0).UTC()
		}
	}
	if fi, err := e.Info(); err == nil {
		return fi.ModTime().UTC()
	}
	return time.Time{}
}

// Processed returns how many messages the processed folder holds (with
// ActionMove; 0 otherwise), in cur/ and new/: a state that has recorded
// nothing while the folder is in use is not the state that filled it.
func (m *Maildir) Processed() int {
	if m.opts.Action != ActionMove {
		return 0
	}
	n := 0
	for _, d := range []string{"cur", "new"} {
		if es, err := os.ReadDir(filepath.Join(m.FolderPath(m.opts.ProcessedFolder), d)); err == nil {
			n += len(es)
		}
	}
	return n
}
