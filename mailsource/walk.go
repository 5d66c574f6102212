// Package mailsource reads mail from local sources and defines the contract
// every source of the bounce job fulfils (Source, Sink): a source hands each
// message to a Sink, asks it to commit, and only then acts on exactly the
// committed messages. imapfetch is the IMAP source (adapted by
// pipeline.IMAP); Maildir here is the local one, and Reader the one message
// an MTA's pipe hands over on standard input (bouncer ingest).
//
// Besides the Maildir source, Walk lists the files that command-line paths
// name in a fixed order (single message files, folders searched recursively,
// Maildir included), and Mbox splits an mbox stream (RFC 4155, mboxrd
// quoting) into messages without holding any of them in memory.
//
// # Divergences
//
// In a folder, names that start with "." are skipped (editor and indexer
// files), except Maildir++ sub-folders (".Sent", which hold cur and new). In
// a Maildir (a folder with cur and new sub-folders) only the sub-folders are
// read: the files beside them are the index files of the mail server
// (dovecot-uidlist, …), not messages. Symbolic links to files are followed;
// links to folders are not, so that a loop cannot trap the walk. A Maildir
// file whose name does not start with a delivery time (the Maildir
// convention, "1700000000.M1P2.host") is dated by its modification time.
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
