package pipeline

import (
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
)

// Record is one recipient of one returned message, or the message itself
// when it names no recipient, is not a bounce or could not be read, so that
// every input is accounted for. bouncer parse prints it; Run records it.
type Record struct {
	// Source is where the message was read: a file path, "path#N" for the
	// N-th message (1-based) of an mbox, "-" or "-#N" for standard input,
	// the mailbox and UID for IMAP.
	Source string
	// Recipient is the address the mail was sent to, the one on the list:
	// the report's Original-Recipient when it has one (RFC 3464 section
	// 2.3.1), else its Final-Recipient.
	Recipient string
	// FinalRecipient is the Final-Recipient when it differs from Recipient
	// (the address a forward or an alias led to), else "".
	FinalRecipient string
	// RecipientFrom says where in the bounce the address was read.
	RecipientFrom     dsn.Position
	Category          classify.Category
	Reason            classify.Reason
	Status            string
	ReplyCode         string
	Action            dsn.Action
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
	// Permanent says the failure was reported as permanent while nothing
	// tells why (classify.Result.Permanent): the suppression policy counts
	// it more strictly than a temporary one.
	Permanent bool
	// Note says why a failure of this record suppresses nothing (an
	// address read from running text and confirmed by nothing, a proof
	// that failed) or that the message hit a limit; "" otherwise.
	Note string
	// Proof is the verdict of Options.Proof on a failure ("proven: verp",
	// "unverified: REASON EVIDENCE"); "" when no proof was asked for.
	Proof string
	// Err is the error of reading or parsing the message, if any. A record
	// with an error may still carry what was read before it.
	Err error
}

// Classifier judges one report record: classify.Classify, or the method of
// a classify.Classifier with user rules.
type Classifier func(classify.Input) classify.Result

// Records turns the result of dsn.Parse on one message into records,
// appended to dst: one per recipient, or a single one without recipient
// when rep is nil (category none) or has no recipients (judged by its
// notice). err is the error of reading or parsing the message; it is put
// in every record. A nil c means
// classify.Classify.
func Records(dst []Record, source string, rep *dsn.Report, err error, c Classifier) []Record {
	if c == nil {
		c = classify.Classify
	}
	if rep == nil {
		return append(dst, Record{Source: source, Category: classify.CategoryNone, Err: err})
	}
	base := baseRecord(source, rep, err)
	if rep.Len() == 0 {
		// A bounce that names no one we can tell is still judged by its
		// notice, so that what failed is reported; without an address
		// nothing is suppressed (the record has no recipient).
		res := c(classify.Input{Kind: rep.Kind, Vendor: rep.Vendor, Diagnostic: rep.Notice, Notice: rep.Notice})
		base.Category, base.Reason, base.Evidence, base.Permanent = res.Category, res.Reason, res.Evidence, res.Permanent
		if base.Date.IsZero() {
			base.Date = rep.ArrivalDate
		}
		return append(dst, base)
	}
	for r := range rep.All() {
		dst = append(dst, recipientRecord(base, &r, rep, c))
	}
	return dst
}

// baseRecord is what the records of every recipient of rep share.
func baseRecord(source string, rep *dsn.Report, err error) Record {
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
	return base
}

// recipientRecord is the record of recipient r of rep, judged by c.
func recipientRecord(base Record, r *dsn.Recipient, rep *dsn.Report, c Classifier) Record {
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
		Recipients:     []string{r.FinalRecipient, r.OriginalRecipient},
	})
	rec := base
	rec.Recipient = r.OriginalRecipient
	if rec.Recipient == "" {
		rec.Recipient = r.FinalRecipient
	}
	if r.FinalRecipient != "" && !strings.EqualFold(r.FinalRecipient, rec.Recipient) {
		rec.FinalRecipient = r.FinalRecipient
	}
	rec.RecipientFrom = r.Position
	rec.Category = res.Category
	rec.Reason = res.Reason
	rec.Evidence = res.Evidence
	rec.Permanent = res.Permanent
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
	return rec
}

// IsFailure reports whether a category is a failure that the suppression
// policy weighs (hard, soft, policy, complaint).
func IsFailure(c classify.Category) bool {
	switch c {
	case classify.CategoryHard, classify.CategorySoft, classify.CategoryPolicy, classify.CategoryComplaint:
		return true
	}
	return false
}
