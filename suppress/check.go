package suppress

import (
	"context"
	"errors"
	"fmt"
	"github.com/bouncer-dev/bouncer/internal/plural"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckWritable makes sure the lists can be written before a run touches
// a mailbox: a temporary file is created and removed in the folder of file
// (for WriteFile) and in dir (for WriteDir; created when missing). Either
// may be empty.
func CheckWritable(file, dir string) error {
	probe := func(what, path, folder string) error {
		f, err := os.CreateTemp(folder, ".bouncer-probe-")
		if err != nil {
			return fmt.Errorf("suppress: %s %s: cannot write the lists: %w", what, path, err)
		}
		name := f.Name()
		f.Close()
		return os.Remove(name)
	}
	if file != "" {
		if err := probe("list", file, filepath.Dir(file)); err != nil {
			return err
		}
		if fi, err := os.Stat(file); err == nil && fi.IsDir() {
			return fmt.Errorf("suppress: list %s: %w (a folder)", file, fs.ErrExist)
		}
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("suppress: lists folder: cannot write the lists: %w", err)
		}
		if err := probe("lists folder", dir, dir); err != nil {
			return err
		}
	}
	return nil
}

// ErrWriteList wraps the error of writing a list in WriteLists (the lists
// were read; the disk refused them).
var ErrWriteList = errors.New("suppress: cannot write the lists")

// WriteLists reads the lists from the history with pol and writes them in
// format f: the suppressed addresses to file (WriteFile) and one list per
// category into dir (WriteDir); either may be empty. It returns the lists
// and the paths written, also when writing failed (ErrWriteList).
func (db *DB) WriteLists(ctx context.Context, pol *Policy, f Format, file, dir string) (Lists, []string, error) {
	l, err := db.Lists(ctx, pol, nil)
	if err != nil {
		return l, nil, err
	}
	var files []string
	if file != "" {
		if err := WriteFile(file, f, l.Suppressed); err != nil {
			return l, files, fmt.Errorf("%w: %w", ErrWriteList, err)
		}
		files = append(files, file)
	}
	if dir != "" {
		paths, err := WriteDir(dir, f, l)
		files = append(files, paths...)
		if err != nil {
			return l, files, fmt.Errorf("%w: %w", ErrWriteList, err)
		}
	}
	return l, files, nil
}

// Summary writes, for a human, what changed since before: the addresses
// newly suppressed (the first show of them), and the sizes of the lists.
func (l Lists) Summary(w io.Writer, before Lists, show int) {
	newly := NewlySuppressed(before.Suppressed, l.Suppressed)
	fmt.Fprintf(w, "newly suppressed: %s\n", plural.N(len(newly), "address", "addresses"))
	for i, e := range newly {
		if i == show {
			fmt.Fprintf(w, "  … and %d more\n", len(newly)-show)
			break
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n", e.Address, e.Category, e.Reason)
	}
	fmt.Fprintf(w, "suppression list: %s; policy report: %s\n", plural.N(len(l.Suppressed), "address", "addresses"),
		plural.N(len(l.Policy), "address", "addresses"))
}
