package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// LogFormat is the format of what a command tells its operator on
// stderr.
type LogFormat string

const (
	// LogText is a line of text per warning or error, for a human.
	LogText LogFormat = "text"
	// LogJSON is a JSON object per line (log/slog's JSON handler), for a
	// log collector: every line on stderr is one.
	LogJSON LogFormat = "json"
)

// ParseLogFormat parses "text" or "json".
func ParseLogFormat(s string) (LogFormat, error) {
	switch f := LogFormat(s); f {
	case LogText, LogJSON:
		return f, nil
	}
	return "", &UsageError{Msg: fmt.Sprintf("unknown --log-format %q: want text or json", s)}
}

// NewLogger returns the logger of format f on w, text using the handler
// text, and the writer the command writes its other lines to (errors,
// warnings): w itself for text; for json a writer that logs each line as
// one record, level WARN for a line with "warning:" and ERROR otherwise,
// so that every line on w is JSON.
func NewLogger(w io.Writer, f LogFormat, text slog.Handler) (*slog.Logger, io.Writer) {
	if f != LogJSON {
		return slog.New(text), w
	}
	l := slog.New(slog.NewJSONHandler(w, nil))
	return l, &lineLogger{l: l}
}

// Info writes line (without its newline) to w, a writer of NewLogger: as a
// record of level INFO when w logs JSON, as the line itself otherwise.
func Info(w io.Writer, line string) {
	if l, ok := w.(*lineLogger); ok {
		l.l.Info(line)
		return
	}
	fmt.Fprintln(w, line)
}

// lineLogger logs every complete line written to it.
type lineLogger struct {
	l   *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if line == "" {
			continue
		}
		level := slog.LevelError
		if strings.Contains(line, "warning:") {
			level = slog.LevelWarn
		}
		w.l.Log(context.Background(), level, line)
	}
}
