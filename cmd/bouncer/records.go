package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
)

// Record is one output row: one recipient of one returned message, or the
// message itself when it names no recipient, is not a bounce or could not be
// read, so that every input is accounted for.
type Record struct {
	// Source is the file path, "path#N" for the N-th message (1-based) of an
	// mbox, "-" or "-#N" for standard input.
	Source    string
	Recipient string
	// OriginalRecipient is the Original-Recipient of a report when it
	// differs from Recipient: the address the sender used, before a
	// forward (RFC 3464 section 2.3.1). It is not printed.
	OriginalRecipient string
	Category          classify.Category
	Reason            classify.Reason
	Status            string
	ReplyCode         string
	Action            string
	Diagnostic        string
	RemoteMTA         string
	ReportingMTA      string
	Kind              dsn.Kind
	OriginalMessageID string
	// Sender is the From of the returned original, else the address the
	// bounce was sent to (the envelope sender of the original); empty for a
	// message that is not a bounce.
	Sender string
	// Date is the date of the bounce; zero when unknown.
	Date     time.Time
	Evidence classify.Evidence
	// Err is the error of reading or parsing the message, if any. A record
	// with an error may still carry what was read before it.
	Err error
}

// classifyFunc judges one report record: classify.Classify, or the method of
// a classifier with user rules.
type classifyFunc func(classify.Input) classify.Result

// loadClassifier reads the rules file at path (see classify.ParseRules) and
// returns a classifier that tries them before the built-in rules.
func loadClassifier(path string) (classifyFunc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	rules, err := classify.ParseRules(f)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	c, err := classify.New(&classify.Options{Rules: rules})
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return c.Classify, nil
}

// recordsFor turns the result of dsn.Parse on one message into records: one
// per recipient, or a single one without recipient (category none) when rep
// is nil or has no recipients. err is the error of reading or parsing the
// message; it is put in every record. A nil classify means
// classify.Classify.
func recordsFor(source string, rep *dsn.Report, err error, c classifyFunc) []Record {
	return appendRecords(nil, source, rep, err, c)
}

// appendRecords is recordsFor appending to dst.
func appendRecords(dst []Record, source string, rep *dsn.Report, err error, c classifyFunc) []Record {
	if c == nil {
		c = classify.Classify
	}
	if rep == nil {
		return append(dst, Record{Source: source, Category: classify.CategoryNone, Err: err})
	}
	base := Record{
		Source:            source,
		ReportingMTA:      rep.ReportingMTA,
		Kind:              rep.Kind,
		OriginalMessageID: rep.Original.MessageID,
		Sender:            rep.Original.From,
		Date:              rep.Date,
		Err:               err,
	}
	if base.Sender == "" && rep.Kind != dsn.KindNotBounce {
		base.Sender = rep.To
	}
	if len(rep.Recipients) == 0 {
		// Nothing to act on without an address: the category is none; the
		// reason is kept when it agrees (notbounce, vacation).
		res := c(classify.Input{Kind: rep.Kind, Vendor: rep.Vendor})
		base.Category = classify.CategoryNone
		if base.Date.IsZero() {
			base.Date = rep.ArrivalDate
		}
		if res.Category == classify.CategoryNone {
			base.Reason = res.Reason
			base.Evidence = res.Evidence
		} else {
			// A bounce that names no one we can tell: nothing decided.
			base.Reason = classify.ReasonUndefined
		}
		return append(dst, base)
	}
	for i := range rep.Recipients {
		r := &rep.Recipients[i]
		res := c(classify.Input{
			Kind:           rep.Kind,
			Status:         r.Status,
			ReplyCode:      r.ReplyCode,
			Diagnostic:     r.Diagnostic,
			DiagnosticType: r.DiagnosticType,
			Action:         r.Action,
			RemoteMTA:      r.RemoteMTA,
			Command:        r.Command,
			FeedbackType:   r.FeedbackType,
			Vendor:         rep.Vendor,
			Notice:         rep.Notice,
		})
		rec := base
		rec.Recipient = r.FinalRecipient
		if rec.Recipient == "" {
			rec.Recipient = r.OriginalRecipient
		}
		if !strings.EqualFold(r.OriginalRecipient, rec.Recipient) {
			rec.OriginalRecipient = r.OriginalRecipient
		}
		rec.Category = res.Category
		rec.Reason = res.Reason
		rec.Evidence = res.Evidence
		rec.Status = r.Status
		rec.ReplyCode = r.ReplyCode
		rec.Action = r.Action
		rec.Diagnostic = r.Diagnostic
		rec.RemoteMTA = r.RemoteMTA
		if rec.Date.IsZero() {
			rec.Date = r.LastAttempt
		}
		if rec.Date.IsZero() {
			rec.Date = rep.ArrivalDate
		}
		dst = append(dst, rec)
	}
	return dst
}
