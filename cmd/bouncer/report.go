package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// summary prints what the run did.
func summary(w io.Writer, cfg *runConfig, st pipeline.Stats, before, after suppress.Lists, files []string) {
	st.Summary(w)
	after.Summary(w, before, 20)
	for _, f := range files {
		if cfg.summaryPath {
			if abs, err := filepath.Abs(f); err == nil {
				f = abs
			}
		}
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	if len(files) == 0 {
		fmt.Fprintf(w, "no list written (no --out or --out-dir); bouncer export --state %s writes it from the state\n", cfg.state)
	}
}

// errorTexts words the typed errors of a run, first match wins: %[1]s is
// the login (user@host), %[2]s the server address, %[3]s the state, %[4]s
// the error's own text after its sentinel's.
var errorTexts = []struct {
	sentinel error
	format   string
}{
	{suppress.ErrDiskFull, "disk full: the state %[3]s or the lists cannot be written (%[4]s); free some space and run again: what was recorded is kept, and nothing was moved that was not recorded"},
	{syscall.ENOSPC, "disk full: the state %[3]s or the lists cannot be written (%[4]s); free some space and run again: what was recorded is kept, and nothing was moved that was not recorded"},
	{suppress.ErrReadOnly, "the state is read-only: %[4]s; bouncer run must be able to write it and its folder"},
	{imapfetch.ErrAuth, "imap: login failed for %[1]s: %[4]s"},
	{imapfetch.ErrCertificate, "imap: the certificate of %[2]s is not trusted (see --ca-file): %[4]s"},
	{imapfetch.ErrTLSRequired, "imap: %[2]s offers no STARTTLS (use imaps://, or --insecure-plaintext on a trusted network): %[4]s"},
	{imapfetch.ErrSecret, "imap: cannot read the password: %[4]s"},
	{imapfetch.ErrMailbox, "imap: cannot open mailbox %[4]s"},
	{imapfetch.ErrConnection, "imap: cannot reach %[2]s: %[4]s"},
	{imapfetch.ErrTimeout, "imap: %[2]s does not answer: %[4]s"},
	{imapfetch.ErrOptions, "imap: %[4]s"},
}

// describeError turns an error of a run into one line for stderr.
func describeError(err error, cfg *runConfig) string {
	text := oneLine(err)
	var who, addr string
	if u, perr := imapfetch.ParseURL(cfg.imapURL); perr == nil {
		who = u.User + "@" + u.Host
		addr = u.Addr()
	}
	for _, e := range errorTexts {
		if !errors.Is(err, e.sentinel) {
			continue
		}
		// The sentinel's text leads the error's: keep what follows it.
		detail := text
		if i := strings.Index(text, e.sentinel.Error()); i >= 0 && e.sentinel != syscall.ENOSPC {
			detail = strings.TrimLeft(text[i+len(e.sentinel.Error()):], ": ")
		}
		return "bouncer: " + fmt.Sprintf(e.format, who, addr, cfg.state, detail)
	}
	if t, ok := strings.CutPrefix(text, "imapfetch: "); ok {
		return "bouncer: imap: " + t
	}
	return "bouncer: " + text
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
