package termlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/stretchr/testify/assert"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name    string
		st      pipeline.Stats
		elapsed time.Duration
		want    string
	}{
		{"total known", pipeline.Stats{Messages: 1200, Expected: 6000, Bounces: 900}, 2 * time.Second,
			"1200 of 6000 messages (20%), 600 a second, 8s left; 900 bounces"},
		{"total unknown", pipeline.Stats{Messages: 500, Bounces: 3}, 2 * time.Second,
			"500 messages, 250 a second; 3 bounces"},
		{"too early for a rate", pipeline.Stats{Messages: 10, Expected: 100}, 100 * time.Millisecond,
			"10 of 100 messages (10%); 0 bounces"},
		{"more than announced (--watch)", pipeline.Stats{Messages: 12, Expected: 10}, 4 * time.Second,
			"12 messages, 3 a second; 0 bounces"},
		{"unreadable messages count as done", pipeline.Stats{Messages: 8, Failed: 2, Expected: 20}, time.Second,
			"10 of 20 messages (50%), 10 a second, 1s left; 0 bounces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ProgressLine(tt.st, tt.elapsed))
		})
	}
}

// A warning written while the progress line shows goes on a line of its
// own: the progress line is cleared first.
func TestWarningClearsProgress(t *testing.T) {
	var b bytes.Buffer
	p := &Progress{w: &b, start: time.Now().Add(-time.Second)}
	p.Update(pipeline.Stats{Messages: 5, Expected: 10})
	slog.New(NewHandler(&b)).Warn("pipeline: a limit was reached", "message", "m1")
	p.Done()
	out := b.String()
	i := strings.Index(out, "bouncer: a limit was reached")
	assert.Positive(t, i, "the warning is written: %q", out)
	assert.True(t, strings.HasSuffix(out[:i], "\r\033[K"), "the progress line is cleared before the warning: %q", out)
	assert.True(t, strings.HasSuffix(out, "message=m1\n"), "nothing follows the warning's line: %q", out)
}
