package suppress

import (
	"fmt"
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
