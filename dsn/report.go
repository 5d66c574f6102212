package dsn

import (
	"iter"
	"net/textproto"
	"time"
)

// Kind tells what sort of message a returned mail is.
type Kind string

const (
	// KindDSN is a machine-readable delivery status notification
	// (RFC 3464, RFC 6533 or RFC 1894 multipart/report).
	KindDSN Kind = "dsn"
	// KindBounce is a free-text bounce: a notice written for humans by an
	// MTA that sends no delivery-status part (qmail, Exim, Exchange, …).
	KindBounce Kind = "bounce"
	// KindFeedback is an abuse / feedback loop report (RFC 5965 ARF).
	KindFeedback Kind = "feedback"
	// KindAutoReply is an automatic reply: vacation, out-of-office
	// (RFC 3834 Auto-Submitted: auto-replied).
	KindAutoReply Kind = "autoreply"
	// KindChallenge is a challenge/response or whitelisting notice
	// ("Sender not pre-approved", a Boxbe guest list): the recipient's
	// system asks the sender to prove itself. It is a request, not a
	// failure of the recipient's address.
	KindChallenge Kind = "challenge"
	// KindNotBounce is a message that reports no delivery failure at all.
	KindNotBounce Kind = "notbounce"
)

// Action is the action of a recipient's report (RFC 3464 section 2.3.3),
// lower case; free-text notices get ActionFailed or ActionDelayed.
type Action string

const (
	ActionFailed    Action = "failed"
	ActionDelayed   Action = "delayed"
	ActionDelivered Action = "delivered"
	ActionRelayed   Action = "relayed"
	ActionExpanded  Action = "expanded"
	// ActionAutoReply marks the sender of an automatic reply (RFC 3834).
	ActionAutoReply Action = "autoreply"
)

// Vendor names the format or the system a report was read as.
type Vendor string

const (
	VendorRFC3464      Vendor = "rfc3464"      // a delivery status notification
	VendorARF          Vendor = "arf"          // an RFC 5965 feedback report
	VendorJMRP         Vendor = "jmrp"         // Microsoft's junk mail reports
	VendorUnsubscribe  Vendor = "unsubscribe"  // an RFC 2369 mailto unsubscribe request
	VendorAmazonSES    Vendor = "amazonses"    // an Amazon SES notification
	VendorRFC3834      Vendor = "rfc3834"      // an automatic reply
	VendorText         Vendor = "text"         // a notice written for people
	VendorGoogleGroups Vendor = "googlegroups" // Google Groups' notices
	VendorChallenge    Vendor = "challenge"    // a challenge/response system
	// VendorAuFilter is a notice of au (KDDI, ezweb.ne.jp) that carries
	// the "X-SPASIGN: NG" field: au's filter returned the message because
	// the recipient's own filter settings refused it.
	VendorAuFilter Vendor = "au-filter"
)

// Command is the SMTP command (RFC 5321 section 4.1.1) a failure answered.
type Command string

const (
	CommandHELO Command = "HELO"
	CommandMAIL Command = "MAIL"
	CommandRCPT Command = "RCPT"
	CommandDATA Command = "DATA"
)

// Report is what one returned message says: its kind, who reported it, one
// Recipient per failed (or, for feedback and success notices, concerned)
// recipient, and what is known of the original message.
type Report struct {
	Kind Kind
	// Vendor names the detector that recognised the message ("rfc3464",
	// "qmail", "exim", "office365", …), for explanations and debugging.
	Vendor Vendor
	// ReportingMTA is the Reporting-MTA field (RFC 3464 section 2.2.2) or the
	// host named by a free-text notice, without its type prefix.
	ReportingMTA string
	// ArrivalDate is the Arrival-Date field (RFC 3464 section 2.2.5).
	ArrivalDate time.Time
	Recipients  []Recipient
	Original    Original
	// MessageID, Subject, From and Date are those of the bounce itself.
	MessageID string
	Subject   string
	From      string
	Date      time.Time
	// To is the address the bounce was delivered to (used for VERP).
	To string
	// VERP is the recipient decoded from the VERP address the bounce was
	// delivered to (To, Delivered-To, X-Original-To or Envelope-To), or "".
	VERP string
	// Notice is the human-readable text of a bounce, on one line and at
	// most 2,000 bytes, without the returned original: where a recipient's
	// Diagnostic says nothing, the reason may be written there.
	Notice string
	// Truncated is set when a limit of Options stopped the parse early; the
	// result holds what was read before the limit.
	Truncated bool

	lazy *dsnRecipients // Options.StreamRecipients: the recipients not in Recipients
}

// Len returns the number of recipients: those of Recipients, and with
// Options.StreamRecipients those All builds when asked.
func (r *Report) Len() int {
	n := len(r.Recipients)
	if r.lazy != nil {
		n += len(r.lazy.pick)
	}
	return n
}

// Hold builds the recipients that All would build (Options.StreamRecipients)
// into Recipients, so that Recipients holds them all.
func (r *Report) Hold() {
	if r.lazy == nil {
		return
	}
	for rc := range r.lazy.all() {
		r.Recipients = append(r.Recipients, rc)
	}
	r.lazy = nil
}

// All yields every recipient: those of Recipients, then, with
// Options.StreamRecipients, those of the delivery-status part, built one
// at a time. It may be called more than once, but not while another
// iteration of the same Report runs.
func (r *Report) All() iter.Seq[Recipient] {
	return func(yield func(Recipient) bool) {
		for _, rc := range r.Recipients {
			if !yield(rc) {
				return
			}
		}
		if r.lazy != nil {
			r.lazy.all()(yield)
		}
	}
}

// Position says where in a bounce the address of a Recipient was read.
// Only the notice names failed recipients (never the returned original);
// the positions differ in how much they can be trusted: a field or a
// template's place is the mail system's statement, an address met in
// running text is a guess that a caller should confirm before it acts.
type Position string

const (
	// PositionDSN: a Final-Recipient or Original-Recipient field of a
	// delivery-status part (RFC 3464 section 2.3), or such fields written
	// into the notice's text.
	PositionDSN Position = "dsn"
	// PositionFeedback: a feedback report's Original-Rcpt-To field
	// (RFC 5965 section 3.2), or the returned header's recipient where the
	// report format puts it (JMRP, list unsubscribe requests).
	PositionFeedback Position = "feedback"
	// PositionSES: the recipients of an Amazon SES notification.
	PositionSES Position = "ses"
	// PositionXFailedRecipients: the X-Failed-Recipients field of the
	// bounce (Exim, Gmail and others).
	PositionXFailedRecipients Position = "x-failed-recipients"
	// PositionVERP: decoded from the VERP address the bounce was delivered
	// to (bounce+user=example.com@…).
	PositionVERP Position = "verp"
	// PositionTemplate: the place an MTA's notice template puts the failed
	// address ("<user@example.com>:" opening a qmail block, the list after
	// "The following address(es) failed:", "550 5.1.1 <user@…>: …").
	PositionTemplate Position = "template"
	// PositionTranscript: the RCPT TO:<…> of an SMTP transcript.
	PositionTranscript Position = "transcript"
	// PositionText: an address the notice's running text names as a
	// recipient ("your message to user@example.com"), not in a template's
	// place.
	PositionText Position = "text"
	// PositionOriginal: the notice names no one; the returned original was
	// sent to this address alone (its To, with no Cc).
	PositionOriginal Position = "original"
	// PositionAutoReply: the author of an automatic reply.
	PositionAutoReply Position = "autoreply"
)

// Recipient is one per-recipient block of a report (RFC 3464 section 2.3).
type Recipient struct {
	// FinalRecipient is the address the failure is about (Final-Recipient,
	// RFC 3464 section 2.3.2), without its address-type prefix.
	FinalRecipient string
	// OriginalRecipient is the Original-Recipient field (section 2.3.1):
	// the address the sender used, before any forward or alias. A mailing
	// list should act on it when it is set.
	OriginalRecipient string
	// Position says where the address was read.
	Position Position
	// Action is failed, delayed, delivered, relayed or expanded (2.3.3).
	Action Action
	// Status is the enhanced status code, RFC 3463 class.subject.detail.
	Status string
	// ReplyCode is the three-digit SMTP reply code (RFC 5321 section 4.2).
	ReplyCode string
	// DiagnosticType and Diagnostic split the Diagnostic-Code field (2.3.6).
	DiagnosticType string
	Diagnostic     string
	// RemoteMTA is the Remote-MTA field (2.3.5) or the host named in text.
	RemoteMTA string
	// LastAttempt is the Last-Attempt-Date field (2.3.7).
	LastAttempt time.Time
	// Command is the SMTP command that was answered with the error
	// (MAIL, RCPT, DATA, …) when the notice says so.
	Command Command
	// FeedbackType is the Feedback-Type of an RFC 5965 report (abuse, fraud, …).
	FeedbackType string
	// Fields holds every field of the per-recipient block as read, for vendor
	// extensions (X-Postfix-*, X-Supplementary-Info, …).
	Fields textproto.MIMEHeader
}

// Original is what the bounce tells of the message that could not be delivered.
type Original struct {
	MessageID string
	From      string
	To        string
	// Recipients are all the addresses of the original's To and Cc
	// fields, in order: whom the message was sent to, as its header says.
	Recipients []string
	Subject    string
	Date       string
	ListID     string
	// Header holds the other header fields of the returned original, for
	// callers that tag their mail (X-Campaign-ID, X-Mailer-RecptId, …).
	Header textproto.MIMEHeader
}
