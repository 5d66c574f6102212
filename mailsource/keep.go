package mailsource

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeptSuffix ends the name of a message a Copy keeps, after the hex
// SHA-256 of its bytes: the same message kept twice is one file.
const KeptSuffix = ".bouncer"

// Copy writes a copy of a message, as it is read, into the tmp folder of
// a Maildir, and then keeps it (into new, for a human's mail reader) or
// discards it. A pipe's message is read once and handed on; Copy is how
// what it held survives when it must (bouncer ingest --keep-unrecognized).
// The name is the hash of the bytes (KeptSuffix), so a message the MTA
// delivers again is kept once; the folders and files are the owner's only
// (0700, 0600): a bounce holds other people's addresses.
type Copy struct {
	dir  string
	tmp  *os.File
	sum  hash.Hash
	err  error // the first write error
	done bool
}

// NewCopy creates the Maildir dir (tmp, new, cur) when missing and opens
// a file in its tmp folder for the copy.
func NewCopy(dir string) (*Copy, error) {
	for _, d := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("mailsource: keep a copy: %w", err)
		}
	}
	f, err := os.CreateTemp(filepath.Join(dir, "tmp"), fmt.Sprintf("%d.*.bouncer", os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("mailsource: keep a copy: %w", err)
	}
	return &Copy{dir: dir, tmp: f, sum: sha256.New()}, nil
}

// Write writes p to the copy. It never fails, so that a copy that cannot
// be written does not stop the reading it shadows (io.TeeReader): the
// first error is kept and Keep reports it.
func (c *Copy) Write(p []byte) (int, error) {
	if c.err == nil && !c.done {
		if _, err := c.tmp.Write(p); err != nil {
			c.err = err
		}
		c.sum.Write(p)
	}
	return len(p), nil
}

// Keep moves the copy into the Maildir's new folder and returns its path;
// when the same bytes were kept before (in new, or read and moved to cur
// by a mail reader), it discards this one and returns that one's path.
func (c *Copy) Keep() (string, error) {
	if c.done {
		return "", errors.New("mailsource: keep a copy: already kept or discarded")
	}
	c.done = true
	tmp := c.tmp.Name()
	err := c.err
	if err == nil {
		err = c.tmp.Sync()
	}
	if cerr := c.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mailsource: keep a copy: %w", err)
	}
	name := hex.EncodeToString(c.sum.Sum(nil)) + KeptSuffix
	if old := c.kept(name); old != "" {
		os.Remove(tmp)
		return old, nil
	}
	dst := filepath.Join(c.dir, "new", name)
	if err := renameNoReplace(tmp, dst); err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return dst, nil // kept meanwhile by another delivery of it
		}
		return "", fmt.Errorf("mailsource: keep a copy: %w", err)
	}
	if d, err := os.Open(filepath.Join(c.dir, "new")); err == nil {
		d.Sync() // the rename is durable before the MTA deletes its copy
		d.Close()
	}
	return dst, nil
}

// kept returns the path of the message kept under name before, in new or
// in cur (where a reader adds ":2,FLAGS"), or "".
func (c *Copy) kept(name string) string {
	if _, err := os.Stat(filepath.Join(c.dir, "new", name)); err == nil {
		return filepath.Join(c.dir, "new", name)
	}
	entries, _ := os.ReadDir(filepath.Join(c.dir, "cur"))
	for _, e := range entries {
		if n := e.Name(); n == name || strings.HasPrefix(n, name+":") {
			return filepath.Join(c.dir, "cur", n)
		}
	}
	return ""
}

// Discard removes the copy. It is safe to call after Keep.
func (c *Copy) Discard() {
	if c.done {
		return
	}
	c.done = true
	c.tmp.Close()
	os.Remove(c.tmp.Name())
}
