// Package mailsource finds the messages that command-line paths name: single
// message files, folders of them (searched recursively, Maildir included),
// mbox files (RFC 4155, mboxrd quoting) and standard input.
//
// Walk lists the files under a path in a fixed order; Mbox splits an mbox
// stream into messages without holding any of them in memory.
//
// Divergences: in a folder, names that start with "." are skipped (editor
// and indexer files), except Maildir++ sub-folders (".Sent", which hold cur
// and new). In a Maildir (a folder with cur and new sub-folders) only the
// sub-folders are read: the files beside them are the index files of the
// mail server (dovecot-uidlist, …), not messages. Symbolic links to files are
// followed; links to folders are not, so that a loop cannot trap the walk.
package mailsource

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Walk calls fn for every message file under root, in a deterministic order:
// root itself if it is not a folder, else the entries of each folder sorted
// by name, depth first. A folder that cannot be read is passed to fn with
// the error; the walk then goes on with the rest. Walk stops and returns the
// error when fn returns one.
func Walk(root string, fn func(path string, err error) error) error {
	fi, err := os.Stat(root)
	if err != nil {
		return fn(root, err)
	}
	if !fi.IsDir() {
		return fn(root, nil)
	}
	return walkDir(root, fn)
}

func walkDir(dir string, fn func(path string, err error) error) error {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil && len(entries) == 0 {
		return fn(dir, err)
	}
	maildir := isMaildir(entries)
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				if err := fn(path, err); err != nil {
					return err
				}
				continue
			}
			if !fi.Mode().IsRegular() {
				continue // links to folders are not followed
			}
			typ = 0
		}
		switch {
		case typ.IsDir():
			if strings.HasPrefix(name, ".") && !isMaildirPath(path) {
				continue
			}
			if err := walkDir(path, fn); err != nil {
				return err
			}
		case typ.IsRegular():
			if maildir || strings.HasPrefix(name, ".") {
				continue
			}
			if err := fn(path, nil); err != nil {
				return err
			}
		}
	}
	if err != nil {
		// A partial listing: report the error after what could be read.
		return fn(dir, err)
	}
	return nil
}

// isMaildir reports whether a folder with these entries is a Maildir: it
// has cur and new sub-folders.
func isMaildir(entries []os.DirEntry) bool {
	var hasCur, hasNew bool
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		switch e.Name() {
		case "cur":
			hasCur = true
		case "new":
			hasNew = true
		}
	}
	return hasCur && hasNew
}

func isMaildirPath(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "cur"))
	return err == nil && fi.IsDir()
}
