// Package metrics exposes what bouncer run --watch does as Prometheus
// metrics (client_golang), served over HTTP at /metrics:
//
//	bouncer_messages_total{outcome}         messages committed: bounce, not_bounce, unrecognized, already, failed
//	bouncer_bounces_total{category}         failures recorded: hard, soft, policy, complaint
//	bouncer_pushes_total{result}            events pushed to the list tools: delivered, failed (push.Deliverer.Run's log)
//	bouncer_errors_total{kind}              errors: message (not read whole), lists, log (warnings and errors logged)
//	bouncer_last_success_timestamp_seconds  Unix time of the last pass or batch that completed without error
//
// # Divergences
//
//   - In IMAP IDLE a pass that finds no new mail is not seen (imapfetch
//     reports a pass only when it did something): the last success time
//     of a quiet mailbox is that of its last batch.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where Serve answers.
const Path = "/metrics"

// readHeaderTimeout bounds the reading of a scrape's request.
const readHeaderTimeout = 10 * time.Second

// passDone is the log message of imapfetch after a pass that did
// something.
const passDone = "imapfetch: pass done"

// pushPass is the log message of push.Deliverer.Run after a pass that
// delivered or failed something, with the counts as attributes.
const pushPass = "push: pass"

// Metrics are the metrics of one process. The zero value is not usable:
// call New.
type Metrics struct {
	reg         *prometheus.Registry
	messages    *prometheus.CounterVec
	bounces     *prometheus.CounterVec
	pushes      *prometheus.CounterVec
	errs        *prometheus.CounterVec
	failed      *prometheus.CounterVec
	lastSuccess prometheus.Gauge

	mu   sync.Mutex
	last map[string]pipeline.Stats // running totals seen, by source
}

// New returns metrics registered in a registry of their own (with the Go
// and process collectors).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bouncer_messages_total",
			Help: "Messages committed, by outcome."}, []string{"outcome"}),
		bounces: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bouncer_bounces_total",
			Help: "Failures recorded, by category."}, []string{"category"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bouncer_pushes_total",
			Help: "Events pushed to the list tools, by result."}, []string{"result"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bouncer_errors_total",
			Help: "Errors, by kind."}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bouncer_mailbox_failures_total",
			Help: "Mailboxes of a run that failed (down, a refused login, misnamed) while the others went on, by mailbox."}, []string{"mailbox"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bouncer_last_success_timestamp_seconds",
			Help: "Unix time of the last pass or batch that completed without error."}),
		last: make(map[string]pipeline.Stats),
	}
	m.reg.MustRegister(m.messages, m.bounces, m.pushes, m.errs, m.failed, m.lastSuccess,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every label shows from the start, at 0.
	for _, o := range []string{"bounce", "not_bounce", "unrecognized", "already", "failed"} {
		m.messages.WithLabelValues(o)
	}
	for _, c := range categories {
		m.bounces.WithLabelValues(string(c))
	}
	for _, r := range []string{"delivered", "failed"} {
		m.pushes.WithLabelValues(r)
	}
	for _, k := range []string{"message", "lists", "log"} {
		m.errs.WithLabelValues(k)
	}
	return m
}

var categories = []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint}

// Progress takes the running totals of a pipeline.Run over source (its
// Options.Progress, called after each commit) and counts what is new
// since the last call; it marks a success.
func (m *Metrics) Progress(source string, st pipeline.Stats) {
	m.mu.Lock()
	prev := m.last[source]
	m.last[source] = st
	m.mu.Unlock()
	add := func(v *prometheus.CounterVec, label string, now, before int) {
		if now > before {
			v.WithLabelValues(label).Add(float64(now - before))
		}
	}
	add(m.messages, "bounce", st.Bounces, prev.Bounces)
	add(m.messages, "not_bounce", st.NotBounces, prev.NotBounces)
	add(m.messages, "unrecognized", st.Unrecognized, prev.Unrecognized)
	add(m.messages, "already", st.Already, prev.Already)
	add(m.messages, "failed", st.Failed, prev.Failed)
	add(m.errs, "message", st.Failed, prev.Failed)
	for _, c := range categories {
		add(m.bounces, string(c), st.Events[c], prev.Events[c])
	}
	m.Success()
}

// Success marks a pass or batch done without error now.
func (m *Metrics) Success() { m.lastSuccess.SetToCurrentTime() }

// MailboxFailed counts a failure of the mailbox named name.
func (m *Metrics) MailboxFailed(name string) { m.failed.WithLabelValues(name).Inc() }

// Error counts an error of kind ("lists", …).
func (m *Metrics) Error(kind string) { m.errs.WithLabelValues(kind).Inc() }

// AddPushes counts events pushed: delivered and failed for good. Handler
// calls it for each pass of push.Deliverer.Run it sees logged.
func (m *Metrics) AddPushes(delivered, failed int) {
	m.pushes.WithLabelValues("delivered").Add(float64(delivered))
	m.pushes.WithLabelValues("failed").Add(float64(failed))
}

// Handler wraps h: warnings and errors logged count as errors of kind
// "log", and imapfetch's "pass done" marks a success.
func (m *Metrics) Handler(h slog.Handler) slog.Handler { return &handler{Handler: h, m: m} }

type handler struct {
	slog.Handler
	m *Metrics
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.Handler.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelWarn:
		h.m.Error("log")
	case r.Message == passDone:
		h.m.Success()
	case r.Message == pushPass:
		var delivered, failed int64
		r.Attrs(func(a slog.Attr) bool {
			if a.Value.Kind() != slog.KindInt64 {
				return true
			}
			switch a.Key {
			case "delivered":
				delivered = a.Value.Int64()
			case "failed":
				failed = a.Value.Int64()
			}
			return true
		})
		h.m.AddPushes(int(delivered), int(failed))
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(attrs), m: h.m}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), m: h.m}
}

// Serve listens on addr (host:port; "127.0.0.1:9090") and serves the metrics at
// Path until ctx is done. It returns once listening, with the address
// listened on (the port chosen when addr's is 0) and a channel that gets
// the server's error when it stops.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(Path, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return ln.Addr(), done, nil
}

// Source wraps src so that each pass that ends without error marks a
// success; a Watcher stays one.
func (m *Metrics) Source(src mailsource.Source) mailsource.Source {
	if w, ok := src.(mailsource.Watcher); ok {
		return &watcher{source{src: w, m: m}, w}
	}
	return &source{src: src, m: m}
}

type source struct {
	src mailsource.Source
	m   *Metrics
}

func (s *source) Pass(ctx context.Context, sink mailsource.Sink) error {
	err := s.src.Pass(ctx, sink)
	if err == nil {
		s.m.Success()
	}
	return err
}

type watcher struct {
	source
	w mailsource.Watcher
}

func (w *watcher) Watch(ctx context.Context, sink mailsource.Sink) error { return w.w.Watch(ctx, sink) }
