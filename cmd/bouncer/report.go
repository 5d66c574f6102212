package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
	"golang.org/x/term"
)

// summary prints what the run did.
func summary(w io.Writer, cfg *runConfig, st pipeline.Stats, before, after suppress.Lists, files []string) {
	fmt.Fprintf(w, "messages: %d read", st.Messages)
	if st.Already > 0 {
		fmt.Fprintf(w, " (%d already recorded by an earlier run)", st.Already)
	}
	fmt.Fprintf(w, "; %d bounces, %d not bounces, %d unrecognized\n", st.Bounces, st.NotBounces, st.Unrecognized)
	var parts []string
	for _, c := range []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint} {
		parts = append(parts, fmt.Sprintf("%d %s", st.Events[c], c))
	}
	fmt.Fprintf(w, "bounces by category: %s\n", strings.Join(parts, ", "))
	if st.Incomplete > 0 {
		fmt.Fprintf(w, "incomplete: %d messages hit a limit (--max-*): what was read is recorded, the messages are left for a human\n", st.Incomplete)
	}
	if st.Failed > 0 {
		fmt.Fprintf(w, "not read: %d messages could not be read whole and are left in place for the next run\n", st.Failed)
	}
	if st.Unconfirmed > 0 {
		fmt.Fprintf(w, "unconfirmed: %d addresses read from free text and confirmed nowhere else: recorded, not suppressed\n", st.Unconfirmed)
	}
	if st.Unverified > 0 {
		fmt.Fprintf(w, "unverified: %d failures of bounces the proof refused: recorded, not suppressed\n", st.Unverified)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(w, "skipped: %d recipients that are not addresses or have no date\n", st.Skipped)
	}
	newly := suppress.NewlySuppressed(before.Suppressed, after.Suppressed)
	fmt.Fprintf(w, "newly suppressed: %d addresses\n", len(newly))
	const show = 20
	for i, e := range newly {
		if i == show {
			fmt.Fprintf(w, "  … and %d more\n", len(newly)-show)
			break
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n", e.Address, e.Category, e.Reason)
	}
	fmt.Fprintf(w, "suppression list: %d addresses; policy report: %d addresses\n", len(after.Suppressed), len(after.Policy))
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

// describeError turns an error of a run into one line for stderr.
func describeError(err error, cfg *runConfig) string {
	text := oneLine(err)
	var who, addr string
	if u, perr := imapfetch.ParseURL(cfg.imapURL); perr == nil {
		who = u.User + "@" + u.Host
		addr = u.Addr()
	}
	// The sentinel's text leads the error's: keep what follows it.
	detail := func(sentinel error) string {
		if i := strings.Index(text, sentinel.Error()); i >= 0 {
			return strings.TrimLeft(text[i+len(sentinel.Error()):], ": ")
		}
		return text
	}
	switch {
	case errors.Is(err, suppress.ErrDiskFull) || errors.Is(err, syscall.ENOSPC):
		return fmt.Sprintf("bouncer: disk full: the state %s or the lists cannot be written (%s); free some space and run again: what was recorded is kept, and nothing was moved that was not recorded", cfg.state, text)
	case errors.Is(err, suppress.ErrReadOnly):
		return fmt.Sprintf("bouncer: the state is read-only: %s; bouncer run must be able to write it and its folder", detail(suppress.ErrReadOnly))
	case errors.Is(err, imapfetch.ErrAuth):
		return fmt.Sprintf("bouncer: imap: login failed for %s: %s", who, detail(imapfetch.ErrAuth))
	case errors.Is(err, imapfetch.ErrCertificate):
		return fmt.Sprintf("bouncer: imap: the certificate of %s is not trusted (see --ca-file): %s", addr, detail(imapfetch.ErrCertificate))
	case errors.Is(err, imapfetch.ErrTLSRequired):
		return fmt.Sprintf("bouncer: imap: %s offers no STARTTLS (use imaps://, or --insecure-plaintext on a trusted network): %s", addr, detail(imapfetch.ErrTLSRequired))
	case errors.Is(err, imapfetch.ErrSecret):
		return fmt.Sprintf("bouncer: imap: cannot read the password: %s", detail(imapfetch.ErrSecret))
	case errors.Is(err, imapfetch.ErrMailbox):
		return fmt.Sprintf("bouncer: imap: cannot open mailbox %s", detail(imapfetch.ErrMailbox))
	case errors.Is(err, imapfetch.ErrConnection):
		return fmt.Sprintf("bouncer: imap: cannot reach %s: %s", addr, detail(imapfetch.ErrConnection))
	case errors.Is(err, imapfetch.ErrTimeout):
		return fmt.Sprintf("bouncer: imap: %s does not answer: %s", addr, detail(imapfetch.ErrTimeout))
	case errors.Is(err, imapfetch.ErrOptions):
		return fmt.Sprintf("bouncer: imap: %s", detail(imapfetch.ErrOptions))
	case strings.HasPrefix(text, "imapfetch: "):
		return "bouncer: imap: " + strings.TrimPrefix(text, "imapfetch: ")
	}
	return "bouncer: " + text
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// progress shows a counter on stderr while a run goes, when stderr is a
// terminal.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	used bool
}

// newProgress returns a progress on w, or nil when w is not a terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w}
}

func (p *progress) update(st pipeline.Stats) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.used = true
		fmt.Fprintf(p.w, "\r\033[Kbouncer: %d messages, %d bounces…", st.Messages, st.Bounces)
	}
}

// done clears the progress line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// lineHandler is a slog.Handler that writes warnings as one line each:
// "bouncer: imap: retrying: addr=… attempt=1 delay=1s err=…".
type lineHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
}

func newLineHandler(w io.Writer) *lineHandler { return &lineHandler{w: w, mu: new(sync.Mutex)} }

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("bouncer: ")
	msg := r.Message
	if m, ok := strings.CutPrefix(msg, "imapfetch: "); ok {
		msg = "imap: " + m
	} else {
		msg = strings.TrimPrefix(msg, "pipeline: ")
	}
	b.WriteString(msg)
	sep := ": "
	add := func(a slog.Attr) bool {
		b.WriteString(sep)
		sep = " "
		v := a.Value.String()
		if strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(a.Key + "=" + v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lineHandler{w: h.w, mu: h.mu, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
