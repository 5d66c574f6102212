package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

// wireConfig checks the flags of pushing and fills them into cfg, or
// returns the problem with them.
func (f *runFlags) wireConfig(cfg *runConfig) string {
	for _, v := range f.push {
		t, err := push.ParseTarget(v)
		if err != nil {
			return err.Error()
		}
		cfg.push = append(cfg.push, t)
	}
	if len(cfg.push) > 0 && f.pushSecretFile == "" {
		return "--push needs --push-secret-file FILE (or $BOUNCER_PUSH_SECRET_FILE)"
	}
	cfg.pushSecretFile = f.pushSecretFile
	return ""
}

// openPush registers the push targets with the state and reads their
// secrets, before the mailbox is touched.
func openPush(db *suppress.DB, cfg *runConfig) error {
	if len(cfg.push) == 0 {
		return nil
	}
	d, err := push.New(db, cfg.push, &push.Options{SecretFile: cfg.pushSecretFile, Logger: cfg.pipe.Logger})
	if err != nil {
		return err
	}
	cfg.pipe.Push = d
	return nil
}

// warnPush tells of pushes that failed: a warning, not a failed run.
func warnPush(w io.Writer, st pipeline.Stats) {
	if st.Push == nil || st.Push.Retried+st.Push.Failed == 0 && st.PushErr == nil {
		return
	}
	var first string
	if len(st.Push.Errors) > 0 {
		first = ": " + oneLine(st.Push.Errors[0])
	} else if st.PushErr != nil {
		first = ": " + oneLine(st.PushErr)
	}
	fmt.Fprintf(w, "bouncer: warning: push: %d events to retry, %d failed%s\n", st.Push.Retried, st.Push.Failed,
		strings.TrimSuffix(first, "\n"))
}
