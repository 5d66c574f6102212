package metrics

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
)

func TestProgressCountsDeltas(t *testing.T) {
	m := New()
	m.Progress("a", pipeline.Stats{Messages: 3, Bounces: 2, NotBounces: 1, Events: map[classify.Category]int{classify.CategoryHard: 2}})
	m.Progress("a", pipeline.Stats{Messages: 5, Bounces: 3, NotBounces: 1, Failed: 1, Events: map[classify.Category]int{classify.CategoryHard: 3}})
	m.Progress("b", pipeline.Stats{Messages: 1, Bounces: 1, Events: map[classify.Category]int{classify.CategorySoft: 1}})
	assert.Equal(t, 4.0, testutil.ToFloat64(m.messages.WithLabelValues("bounce")), "running totals of two sources")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.messages.WithLabelValues("failed")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.errs.WithLabelValues("message")))
	assert.Equal(t, 3.0, testutil.ToFloat64(m.bounces.WithLabelValues("hard")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.bounces.WithLabelValues("soft")))
	assert.Positive(t, testutil.ToFloat64(m.lastSuccess))
}

func TestHandler(t *testing.T) {
	m := New()
	l := slog.New(m.Handler(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Warn("imapfetch: retrying", "attempt", 1)
	l.Error("push: pass failed")
	l.Info("push: pass", "delivered", 4, "retried", 1, "failed", 2, "uncertain", 0)
	l.Info("push: pass", "delivered", "x") // not a count: ignored
	assert.Equal(t, 2.0, testutil.ToFloat64(m.errs.WithLabelValues("log")))
	assert.Equal(t, 4.0, testutil.ToFloat64(m.pushes.WithLabelValues("delivered")))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.pushes.WithLabelValues("failed")))
	assert.Zero(t, testutil.ToFloat64(m.lastSuccess))
	l.Info(passDone)
	assert.Positive(t, testutil.ToFloat64(m.lastSuccess))
	assert.True(t, l.Handler().Enabled(context.Background(), slog.LevelInfo), "Info reaches the counting")
}

func TestMailboxFailed(t *testing.T) {
	m := New()
	m.MailboxFailed("down")
	m.MailboxFailed("down")
	m.MailboxFailed("misnamed")
	assert.Equal(t, 2.0, testutil.ToFloat64(m.failed.WithLabelValues("down")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.failed.WithLabelValues("misnamed")))
	assert.Zero(t, testutil.ToFloat64(m.failed.WithLabelValues("good")))
}
