package classify

import "github.com/bouncer-dev/bouncer/dsn"

// Input is what the classifier looks at for one recipient of one report.
type Input struct {
	Kind         dsn.Kind
	Status       string // enhanced status code, "5.1.1"
	ReplyCode    string // "550"
	Diagnostic   string // what the remote server said
	Action       string // failed, delayed, delivered, …
	RemoteMTA    string
	Command      string // SMTP command answered with the error, when known
	FeedbackType string // RFC 5965 Feedback-Type for KindFeedback
	Vendor       string // dsn.Report.Vendor: the detector that read the message
}

// Evidence says what decided a Result.
type Evidence struct {
	// Rule names the rule family ("phrase", "status", "reply", "action",
	// "kind", "user").
	Rule string
	// Match is the phrase, code or value that matched.
	Match string
}

// Result is the judgement on one report record.
type Result struct {
	Reason   Reason
	Category Category
	Evidence Evidence
}

// Classify judges in with the built-in rules.
// TEMPORARY: a plain status-code mapping until the classify issue lands.
func Classify(in Input) Result {
	var r Reason
	switch {
	case in.Kind == dsn.KindFeedback:
		r = ReasonFeedback
	case in.Kind == dsn.KindAutoReply:
		r = ReasonVacation
	case in.Kind == dsn.KindNotBounce:
		r = ReasonNotBounce
	case len(in.Status) > 0 && in.Status[0] == '2':
		r = ReasonDelivered
	case len(in.Status) >= 5 && in.Status[2:5] == "1.1":
		r = ReasonUserUnknown
	default:
		r = ReasonUndefined
	}
	return Result{Reason: r, Category: r.Category(), Evidence: Evidence{Rule: "status", Match: in.Status}}
}
