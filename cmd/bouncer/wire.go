package main

import (
	"flag"

	"github.com/bouncer-dev/bouncer/internal/runjob"
)

// wire returns the flags of pushing and of proof (runjob.Config.SetWire).
func (f *runFlags) wire() *runjob.Wire {
	w := &runjob.Wire{Push: f.push, PushSecretFile: f.pushSecretFile, PushSoft: f.pushSoft, VerpKeyFile: f.verpKeyFile, OurDomains: f.ourDomains,
		RequireProof: f.requireProof, ValidityDays: f.validity, Delimiter: f.delim, MaxSuppressPerMessage: f.maxSuppress,
		PushInsecure: f.pushInsecure}
	f.fs.Visit(func(fl *flag.Flag) { w.RequireProofSet = w.RequireProofSet || fl.Name == "require-proof" })
	return w
}
