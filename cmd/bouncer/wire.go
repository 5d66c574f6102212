package main

import (
	"flag"
	"github.com/bouncer-dev/bouncer/internal/runjob"
	"strings"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/verp"
)

// wireConfig checks the flags of pushing and of proof, reading the key
// file, and fills them into cfg; or returns the problem with them.
func (f *runFlags) wireConfig(cfg *runjob.Config) string {
	for _, v := range f.push {
		t, err := push.ParseTarget(v)
		if err != nil {
			return err.Error()
		}
		cfg.Push = append(cfg.Push, t)
	}
	if len(cfg.Push) > 0 && f.pushSecretFile == "" {
		return "--push needs --push-secret-file FILE (or $BOUNCER_PUSH_SECRET_FILE)"
	}
	if f.verpKeyFile == "" && f.ourDomains == "" {
		explicit := false
		f.fs.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "require-proof" })
		if explicit && f.requireProof {
			return "--require-proof needs --verp-key-file or --our-domains"
		}
		return ""
	}
	if len(f.delim) != 1 || f.validity < 1 {
		return "--delimiter must be + or -, --validity-days at least 1"
	}
	signer := verp.Signer{ValidityDays: f.validity, Delimiter: verp.Delimiter(f.delim[0])}
	p, err := pipeline.LoadProof(f.verpKeyFile, signer, strings.Split(f.ourDomains, ","))
	if err != nil {
		return err.Error()
	}
	cfg.Pipe.Proof, cfg.Pipe.ProofReportOnly = p, !f.requireProof
	cfg.Pipe.UnverifiedFile = pipeline.UnverifiedBeside(cfg.Out, cfg.OutDir)
	return ""
}
