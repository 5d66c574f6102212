//go:build !linux

package mailsource

// renameNoReplace renames src to dst unless dst exists (fs.ErrExist), by a
// link and an unlink.
func renameNoReplace(src, dst string) error { return linkRename(src, dst) }
