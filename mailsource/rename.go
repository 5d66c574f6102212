package mailsource

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxRenameTries bounds the unique names moveNoReplace tries after a
// clash.
const maxRenameTries = 10

// moveNoReplace moves the file src to dst without ever replacing a file:
// when dst exists (a message of the same name moved there before, by
// another run or another Maildir), the message gets a new unique name
// (uniqueName). It returns the path it moved src to.
func moveNoReplace(src, dst string) (string, error) {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return dst, nil // already where it goes (a seen message in cur/)
	}
	to := dst
	for range maxRenameTries {
		err := renameNoReplace(src, to)
		if !errors.Is(err, fs.ErrExist) {
			return to, err
		}
		to = filepath.Join(filepath.Dir(dst), uniqueName(filepath.Base(dst)))
	}
	return "", &os.LinkError{Op: "rename", Old: src, New: dst, Err: fs.ErrExist}
}

// uniqueName returns a Maildir name made unique from name: a random part
// added to its unique part, its info (":2,FLAGS") kept at the end.
func uniqueName(name string) string {
	base, info, hasInfo := strings.Cut(name, ":2,")
	base += "-" + strconv.FormatUint(rand.Uint64(), 36)
	if hasInfo {
		return base + ":2," + info
	}
	return base
}

// linkRename renames src to dst by a hard link and an unlink, which fails
// with fs.ErrExist when dst exists. After a crash between the two the
// message is in both places: read twice (known by its hash), never lost.
func linkRename(src, dst string) error {
	if err := os.Link(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}
