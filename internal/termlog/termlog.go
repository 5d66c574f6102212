// Package termlog writes what bouncer tells an operator on stderr: warnings
// as one line each (a slog.Handler) and, on a terminal, a progress line.
package termlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/pipeline"
	"golang.org/x/term"
)

// Progress shows a counter on a terminal while a run goes.
type Progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	used bool
}

// NewProgress returns a Progress on w, or nil when w is not a terminal;
// the methods of a nil Progress do nothing.
func NewProgress(w io.Writer) *Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &Progress{w: w}
}

// Update shows the running totals, at most ten times a second.
func (p *Progress) Update(st pipeline.Stats) {
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

// Done clears the progress line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// Handler is a slog.Handler that writes warnings as one line each:
// "bouncer: imap: retrying: addr=… attempt=1 delay=1s err=…".
type Handler struct {
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
}

// NewHandler returns a Handler writing to w.
func NewHandler(w io.Writer) *Handler { return &Handler{w: w, mu: new(sync.Mutex)} }

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *Handler) Handle(_ context.Context, r slog.Record) error {
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

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{w: h.w, mu: h.mu, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *Handler) WithGroup(string) slog.Handler { return h }
