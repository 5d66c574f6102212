package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/suppress"
)

// runMaildir processes the messages of a local Maildir (its new/ and cur/),
// once or, with --watch, every --poll until ctx is canceled.
//
// After a message is recorded it is moved into a Maildir++ subfolder of the
// Maildir: ".bounces-processed" for bounces (--after move),
// ".bounces-unrecognized" for the rest. --after seen moves a bounce to cur/
// with the S flag, --after delete removes it, --after none leaves every file
// where it is. A message is recorded by the hash of its bytes, so a file seen
// again (after a crash, or with --after none) is not counted twice.
func (p *processor) runMaildir(ctx context.Context, cfg *runConfig) error {
	dir, err := filepath.Abs(cfg.maildir)
	if err != nil {
		return err
	}
	for _, sub := range []string{"new", "cur"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return fmt.Errorf("maildir %s: no %s/ folder: not a Maildir", cfg.maildir, sub)
		}
	}
	p.source = "maildir:" + dir
	for {
		if err := p.maildirPass(ctx, dir, cfg); err != nil {
			return err
		}
		p.flushPass(ctx)
		if !cfg.watch {
			return nil
		}
		t := time.NewTimer(cfg.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// maildirPass processes the files in new/ and cur/, in name order.
func (p *processor) maildirPass(ctx context.Context, dir string, cfg *runConfig) error {
	// List both folders first: acting on a message in new/ may move it
	// into cur/, where this pass must not meet it again.
	var lists [2][]fs.DirEntry
	for i, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
		lists[i] = entries
	}
	for i, sub := range []string{"new", "cur"} {
		for _, e := range lists[i] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			path := filepath.Join(dir, sub, e.Name())
			f, err := os.Open(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // taken by another mail client meanwhile
			}
			if err != nil {
				return fmt.Errorf("maildir: %w", err)
			}
			outcome, err := p.process(ctx, f, "", 0, 0, maildirReceived(e))
			f.Close()
			if err != nil {
				return fmt.Errorf("maildir: %s: %w", path, err)
			}
			if err := maildirAct(dir, sub, e.Name(), outcome, cfg); err != nil {
				return fmt.Errorf("maildir: %w", err)
			}
		}
	}
	return nil
}

// maildirAct does the --after action on the recorded message dir/sub/name.
func maildirAct(dir, sub, name string, outcome suppress.Outcome, cfg *runConfig) error {
	if cfg.after == afterNone {
		return nil
	}
	src := filepath.Join(dir, sub, name)
	if outcome != suppress.OutcomeBounce {
		if cfg.unrecognizedFolder == "" {
			return nil
		}
		return maildirMove(src, filepath.Join(dir, maildirFolder(cfg.unrecognizedFolder)), sub, name)
	}
	switch cfg.after {
	case afterMove:
		return maildirMove(src, filepath.Join(dir, maildirFolder(cfg.processedFolder)), sub, name)
	case afterSeen:
		return os.Rename(src, filepath.Join(dir, "cur", withSeenFlag(name)))
	case afterDelete:
		return os.Remove(src)
	}
	return nil
}

// maildirFolder returns the Maildir++ folder name of an IMAP-style mailbox
// name: "bounces-processed" is ".bounces-processed", "a/b" is ".a.b".
func maildirFolder(mailbox string) string {
	return "." + strings.ReplaceAll(mailbox, "/", ".")
}

// maildirMove moves src into the sub folder (new or cur) of the Maildir++
// folder, created when missing.
func maildirMove(src, folder, sub, name string) error {
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
	return os.Rename(src, filepath.Join(folder, sub, name))
}

// withSeenFlag returns the cur/ name of a Maildir message with the S
// (seen) flag: "name:2,FLAGS" with S added, flags in ASCII order.
func withSeenFlag(name string) string {
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

// maildirReceived returns when a Maildir message was delivered: the time at
// the start of its file name ("1700000000.M1P2.host", the Maildir
// convention), else the file's modification time.
func maildirReceived(e fs.DirEntry) time.Time {
	name := e.Name()
	if i := strings.IndexByte(name, '.'); i > 0 {
		if sec, err := strconv.ParseInt(name[:i], 10, 64); err == nil && sec > 0 {
			return time.Unix(sec, 0).UTC()
		}
	}
	if fi, err := e.Info(); err == nil {
		return fi.ModTime().UTC()
	}
	return time.Time{}
}
