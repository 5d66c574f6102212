package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/proof"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
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
	return f.proofConfig(cfg)
}

// unverifiedName is the file of the failures without proof, beside the
// lists.
const unverifiedName = "unverified.csv"

// proofConfig sets up the proof of bounces (--verp-key-file,
// --our-domains, --require-proof).
func (f *runFlags) proofConfig(cfg *runConfig) string {
	if f.verpKeyFile == "" && f.ourDomains == "" {
		explicit := false
		f.fs.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "require-proof" })
		if explicit && f.requireProof {
			return "--require-proof needs --verp-key-file or --our-domains"
		}
		return ""
	}
	c := proof.Checker{}
	if f.verpKeyFile != "" {
		keys, err := verp.LoadKeys(f.verpKeyFile)
		if err != nil {
			return err.Error()
		}
		c.Signer = &verp.Signer{Keys: keys}
	}
	for _, d := range strings.Split(f.ourDomains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.OurDomains = append(c.OurDomains, d)
		}
	}
	cfg.pipe.Proof = &pipeline.ProofChecker{Checker: c}
	cfg.pipe.ProofReportOnly = !f.requireProof
	switch {
	case f.outDir != "":
		cfg.pipe.UnverifiedFile = filepath.Join(f.outDir, unverifiedName)
	case f.out != "":
		cfg.pipe.UnverifiedFile = filepath.Join(filepath.Dir(f.out), unverifiedName)
	}
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

// afterRun tells where the failures without proof went, and of pushes
// that failed: a warning, not a failed run.
func afterRun(s *streams, cfg *runConfig, st pipeline.Stats) {
	if f := cfg.pipe.UnverifiedFile; f != "" && st.Unverified+st.Unproven > 0 {
		fmt.Fprintf(s.stdout, "appended %d failures without proof to %s\n", st.Unverified+st.Unproven, f)
	}
	w := s.stderr
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
