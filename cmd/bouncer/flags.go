package main

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/suppress"
)

// policyFlags are the thresholds of the suppression policy, shared by run
// and export.
type policyFlags struct {
	softThreshold  int
	softDays       int
	softWindow     string
	suppressPolicy bool
	permanent      int
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&p.softThreshold, "soft-threshold", suppress.DefaultSoftThreshold, "soft bounces that suppress an address (the notices about one sent message count once)")
	fs.IntVar(&p.softDays, "soft-days", suppress.DefaultSoftDistinctDays, "different days those soft bounces must fall on")
	fs.StringVar(&p.softWindow, "soft-window", "30d", "how far back soft bounces count: `DURATION` such as 30d, 2w or 720h")
	fs.IntVar(&p.permanent, "permanent-threshold", suppress.DefaultPermanentThreshold,
		"different days within --soft-window on which permanent but unexplained failures (5xx, \"permanent error\") suppress an address; 0: off, they count as soft only")
	fs.BoolVar(&p.suppressPolicy, "suppress-policy", false, "suppress addresses with policy blocks too (default: only report them)")
}

// policy returns the suppress.Policy the flags describe.
func (p *policyFlags) policy() (*suppress.Policy, error) {
	if p.softThreshold < 1 || p.softDays < 1 {
		return nil, errors.New("--soft-threshold and --soft-days must be at least 1")
	}
	if p.permanent < 0 {
		return nil, errors.New("--permanent-threshold must be 0 (off) or more")
	}
	permanent := p.permanent
	if permanent == 0 {
		permanent = -1 // off: suppress.Policy reads 0 as the default
	}
	w, err := suppress.ParseDuration(p.softWindow)
	if err != nil || w <= 0 {
		return nil, fmt.Errorf("bad --soft-window %q: want a positive duration such as 30d, 2w or 720h", p.softWindow)
	}
	return &suppress.Policy{
		SoftThreshold:    p.softThreshold,
		SoftDistinctDays: p.softDays,
		SoftWindow:       w,
		SuppressPolicy:   p.suppressPolicy,

		PermanentThreshold: permanent,
	}, nil
}

// limitFlags are the caps of the parser and the number of workers, shared
// by parse and run. Every cap of dsn.Options has its flag.
type limitFlags struct {
	workers int
	dsn     dsn.Options
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.workers, "workers", runtime.GOMAXPROCS(0), "messages parsed in parallel")
	fs.Int64Var(&l.dsn.MaxBytes, "max-bytes", dsn.DefaultMaxBytes, "bytes read of one message; past it the message is incomplete")
	fs.IntVar(&l.dsn.MaxHeaderBytes, "max-header-bytes", dsn.DefaultMaxHeaderBytes, "bytes of one header section")
	fs.IntVar(&l.dsn.MaxParts, "max-parts", dsn.DefaultMaxParts, "MIME parts visited in one message")
	fs.IntVar(&l.dsn.MaxDepth, "max-depth", dsn.DefaultMaxDepth, "MIME nesting depth")
	fs.IntVar(&l.dsn.MaxRecipients, "max-recipients", dsn.DefaultMaxRecipients, "recipients kept from one report")
	fs.IntVar(&l.dsn.MaxTextBytes, "max-text-bytes", dsn.DefaultMaxTextBytes, "bytes of a notice's text kept for analysis")
}

// check refuses caps that would mean "the default" by accident.
func (l *limitFlags) check() error {
	switch {
	case l.workers < 1:
		return errors.New("--workers must be at least 1")
	case l.dsn.MaxBytes < 1 || l.dsn.MaxHeaderBytes < 1 || l.dsn.MaxParts < 1 || l.dsn.MaxDepth < 1 ||
		l.dsn.MaxRecipients < 1 || l.dsn.MaxTextBytes < 1:
		return errors.New("--max-bytes, --max-header-bytes, --max-parts, --max-depth, --max-recipients and --max-text-bytes must be at least 1")
	}
	return nil
}

// formatNames lists the list formats for usage texts.
func formatNames() string {
	var names []string
	for _, f := range suppress.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
