package main

import (
	"flag"
)

// opsFlags are the flags of bouncer run for running it as a service
// (issue 12): logs, dry run, OAuth2 refresh, metrics, the config file.
type opsFlags struct {
	logFormat string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.logFormat, "log-format", "text", "`FORMAT` of the lines on stderr: text, or json (one JSON object a line, log/slog)")
}

// opsUsage is the paragraph of the run usage text on these flags.
const opsUsage = `Environment, for a service: BOUNCER_LOG_FORMAT.

`
