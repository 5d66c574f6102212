package runjob

import (
	"strings"

	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/verp"
)

// Wire are the settings of pushing and of proof, as the command line
// gives them (bouncer run --push, --verp-key-file…).
type Wire struct {
	Push           []string // KIND=URL targets
	PushSecretFile string
	// PushInsecure allows http:// targets on hosts other than loopback
	// (push.Options.AllowInsecure).
	PushInsecure bool
	PushSoft     string // push.ParseSoftMode
	VerpKeyFile  string
	OurDomains   string // comma-separated
	RequireProof bool
	// RequireProofSet tells that RequireProof was given, not defaulted.
	RequireProofSet bool
	ValidityDays    int
	Delimiter       string
	// MaxSuppressPerMessage is pipeline.Options.MaxSuppressPerMessage:
	// at least 1, or -1 for no cap.
	MaxSuppressPerMessage int
}

// SetWire checks w, reading the key file, and fills it into cfg (Push,
// PushSecretFile, Pipe.Proof, Pipe.UnverifiedFile beside the lists: set
// Out and OutDir first); or returns the problem with it, naming the flags.
func (cfg *Config) SetWire(w *Wire) string {
	for _, v := range w.Push {
		t, err := push.ParseTarget(v)
		if err != nil {
			return err.Error()
		}
		cfg.Push = append(cfg.Push, t)
	}
	if len(cfg.Push) > 0 && w.PushSecretFile == "" {
		return "--push needs --push-secret-file FILE (or $BOUNCER_PUSH_SECRET_FILE)"
	}
	cfg.PushSecretFile, cfg.PushInsecure = w.PushSecretFile, w.PushInsecure
	if w.MaxSuppressPerMessage < 1 && w.MaxSuppressPerMessage != -1 {
		return "--max-suppress-per-message must be at least 1, or -1 for no cap"
	}
	cfg.Pipe.MaxSuppressPerMessage = w.MaxSuppressPerMessage
	soft, err := push.ParseSoftMode(w.PushSoft)
	if err != nil {
		return strings.TrimPrefix(err.Error(), "push: bad target: ")
	}
	cfg.PushSoft = soft
	if w.VerpKeyFile == "" && w.OurDomains == "" {
		if w.RequireProofSet && w.RequireProof {
			return "--require-proof needs --verp-key-file or --our-domains"
		}
		return ""
	}
	if len(w.Delimiter) != 1 || w.ValidityDays < 1 {
		return "--delimiter must be + or -, --validity-days at least 1"
	}
	signer := verp.Signer{ValidityDays: w.ValidityDays, Delimiter: verp.Delimiter(w.Delimiter[0])}
	p, err := pipeline.LoadProof(w.VerpKeyFile, signer, strings.Split(w.OurDomains, ","))
	if err != nil {
		return err.Error()
	}
	if w.VerpKeyFile != "" {
		if keys, err := verp.LoadKeys(w.VerpKeyFile); err == nil && keys.EximWarning() != "" {
			cfg.Warnings = append(cfg.Warnings, "--verp-key-file: "+keys.EximWarning())
		}
	}
	cfg.Pipe.Proof, cfg.Pipe.ProofReportOnly = p, !w.RequireProof
	cfg.Pipe.UnverifiedFile = pipeline.UnverifiedBeside(cfg.Out, cfg.OutDir)
	return ""
}
