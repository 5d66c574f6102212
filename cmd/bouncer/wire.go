package main

import (
	"flag"
	"strings"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/bouncer-dev/bouncer/verp"
)

// wireConfig checks the flags of pushing and of proof, reading the key
// file, and fills them into cfg; or returns the problem with them.
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
	cfg.pipe.Proof, cfg.pipe.ProofReportOnly = p, !f.requireProof
	cfg.pipe.UnverifiedFile = pipeline.UnverifiedBeside(f.out, f.outDir)
	return ""
}

// openPush registers the push targets with the state and reads their
// secrets, before the mailbox is touched.
func openPush(db *suppress.DB, cfg *runConfig) error {
	if len(cfg.push) == 0 {
		return nil
	}
	d, err := push.New(db, cfg.push, &push.Options{SecretFile: cfg.pushSecretFile, Logger: cfg.pipe.Logger})
	cfg.pipe.Push = d
	return err
}
