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

// screen is the terminal's progress line: a warning written while it shows
// clears it first, so that every warning is a line of its own.
var screen struct {
	mu sync.Mutex // held for every write of a Progress or a Handler
	p  *Progress  // the Progress whose line shows, or nil
}

// clearLine clears the progress line when it shows on w; screen.mu is held.
func clearLine(w io.Writer) {
	if p := screen.p; p != nil && p.w == w {
		fmt.Fprint(w, "\r\033[K")
		screen.p = nil
	}
}

// progressEvery is how often the progress line is redrawn at most.
const progressEvery = 100 * time.Millisecond

// Progress shows a counter on a terminal while a run goes: the messages
// done, of how many when the source said (pipeline.Stats.Expected), the
// rate and the time left.
type Progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

// NewProgress returns a Progress on w, or nil when w is not a terminal;
// the methods of a nil Progress do nothing.
func NewProgress(w io.Writer) *Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &Progress{w: w, start: time.Now()}
}

// Update shows the running totals, at most every progressEvery.
func (p *Progress) Update(st pipeline.Stats) {
	if p == nil {
		return
	}
	screen.mu.Lock()
	defer screen.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	screen.p = p
	fmt.Fprint(p.w, "\r\033[Kbouncer: "+ProgressLine(st, now.Sub(p.start)))
}

// ProgressLine words the progress of a run that has taken elapsed so far:
// "1200 of 6000 messages (20%), 850 a second, 6s left; 900 bounces".
func ProgressLine(st pipeline.Stats, elapsed time.Duration) string {
	var b strings.Builder
	done := st.Messages + st.Failed
	if st.Expected >= done && st.Expected > 0 {
		fmt.Fprintf(&b, "%d of %d messages (%d%%)", done, st.Expected, done*100/st.Expected)
	} else {
		fmt.Fprintf(&b, "%d messages", done)
	}
	if secs := elapsed.Seconds(); secs >= 1 && done > 0 {
		rate := float64(done) / secs
		fmt.Fprintf(&b, ", %.0f a second", rate)
		if st.Expected > done {
			left := time.Duration(float64(st.Expected-done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", %s left", left.Round(time.Second))
		}
	}
	fmt.Fprintf(&b, "; %d bounces", st.Bounces)
	return b.String()
}

// Done clears the progress line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	screen.mu.Lock()
	defer screen.mu.Unlock()
	if screen.p == p {
		clearLine(p.w)
	}
}

// Handler is a slog.Handler that writes warnings as one line each:
// "bouncer: imap: retrying: addr=… attempt=1 delay=1s err=…".
type Handler struct {
	w     io.Writer
	attrs []slog.Attr
}

// NewHandler returns a Handler writing to w.
func NewHandler(w io.Writer) *Handler { return &Handler{w: w} }

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
	screen.mu.Lock()
	defer screen.mu.Unlock()
	clearLine(h.w)
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{w: h.w, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *Handler) WithGroup(string) slog.Handler { return h }
