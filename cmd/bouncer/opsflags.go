package main

import (
	"flag"

	"github.com/bouncer-dev/bouncer/internal/metrics"
	"github.com/bouncer-dev/bouncer/internal/runjob"
)

// opsFlags are the flags of bouncer run for running it as a service
// (issue 12): logs, dry run, OAuth2 refresh, metrics, the config file.
type opsFlags struct {
	logFormat string
	dryRun    bool
	// oauthCredentials is the credentials file of package oauth.
	oauthCredentials string
	metrics          string
	config           string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.logFormat, "log-format", "text", "`FORMAT` of the lines on stderr: text, or json (one JSON object a line, log/slog)")
	fs.StringVar(&o.oauthCredentials, "oauth-credentials", "", "OAuth2 credentials `FILE` (see bouncer auth): the access token is refreshed before it expires and stored back")
	fs.StringVar(&o.metrics, "metrics", "", "with --watch, serve Prometheus metrics at http://`ADDR`/metrics (ADDR: host:port, 127.0.0.1:9090)")
	fs.StringVar(&o.config, "config", "", "TOML `FILE` listing the mailboxes of the run (see docs/operating.md); flags given override it")
	fs.BoolVar(&o.dryRun, "dry-run", false, "fetch and classify, and report what would be recorded, moved and pushed; change nothing (state, mailbox, lists)")
}

// apply checks the service flags and sets them in cfg: --dry-run (one
// pass) and --metrics (with --watch; the metrics count what the logger
// logs). It returns the problem with the flags.
func (o *opsFlags) apply(cfg *runjob.Config, f *runFlags) string {
	switch {
	case o.dryRun && f.watch:
		return "--dry-run makes one pass: not with --watch"
	case o.metrics != "" && !f.watch:
		return "--metrics needs --watch (a single pass is better watched by its exit status)"
	}
	cfg.DryRun = o.dryRun
	if o.metrics != "" {
		cfg.MetricsAddr, cfg.Metrics = o.metrics, metrics.New()
	}
	return ""
}

// opsUsage is the paragraph of the run usage text on these flags.
const opsUsage = `With --config FILE, one run handles every
[[mailbox]] of FILE, each with its own cursor in the state; the flags given
override FILE's values, and --imap or --maildir runs that mailbox alone.

`
