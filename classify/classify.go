package classify

import (
	"fmt"
	"strings"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// Input is what the classifier looks at for one recipient of one report.
// Every field may be empty; the more are filled, the better the judgement.
type Input struct {
	Kind dsn.Kind
	// Status is the enhanced status code, "5.1.1" (RFC 3463). A comment
	// after the code, as some MTAs write it ("5.2.1 (mailbox disabled)"),
	// is read as words.
	Status string
	// ReplyCode is the basic SMTP reply code, "550" (RFC 5321 section 4.2).
	ReplyCode string
	// Diagnostic is what the remote server said: the Diagnostic-Code text
	// of a DSN, or the error lines of a free-text bounce. When Status or
	// ReplyCode is empty (or the status says only "5.0.0"), the first
	// failure codes written in the text take their place.
	Diagnostic string
	// DiagnosticType is the type of the Diagnostic-Code field ("smtp",
	// "x-unix", "x-postfix"; RFC 3464 section 2.3.6). "x-unix" says a
	// local program answered, not a remote server.
	DiagnosticType string
	Action         dsn.Action // failed, delayed, delivered, relayed, expanded
	// RemoteMTA and Vendor are kept for explanations and for rules that
	// need them; the built-in rules read the words and codes alone.
	RemoteMTA string
	// Command is the SMTP command answered with the error (MAIL, RCPT,
	// DATA, …) when known. When the diagnostic names one itself ("in reply
	// to RCPT TO command", ">>> DATA"), that one counts: it stands next to
	// the error.
	Command      dsn.Command
	FeedbackType string     // RFC 5965 Feedback-Type for KindFeedback
	Vendor       dsn.Vendor // dsn.Report.Vendor: the detector that read the message
	// Notice is the text of the whole notice (dsn.Report.Notice). It is
	// read only when Diagnostic and the codes tell nothing: the reason of
	// a free-text bounce may be written away from the recipient's address.
	Notice string
	// Recipients are the addresses this record is about (the final and
	// the original recipient), when known: a reason read from the
	// notice's text on a line that names another address in angle
	// brackets is that one's, and does not make this one hard.
	Recipients []string
}

// Family names the family of rules that decided a Result.
type Family string

// Rule families named in Evidence.Rule.
const (
	RuleUser    Family = "user"    // a rule of the user's rules file
	RuleKind    Family = "kind"    // the kind of message (feedback, auto-reply, …)
	RulePhrase  Family = "phrase"  // words of the diagnostic
	RuleStatus  Family = "status"  // the enhanced status code (RFC 3463)
	RuleReply   Family = "reply"   // the basic reply code (RFC 5321)
	RuleCommand Family = "command" // the SMTP command that was refused
	RuleAction  Family = "action"  // the Action field (RFC 3464)
	RuleNone    Family = "none"    // nothing decided: onhold or undefined
)

// Evidence says what decided a Result.
type Evidence struct {
	// Rule names the rule family.
	Rule Family
	// Match is the phrase, code or value that matched.
	Match string
	// Note says how other evidence changed the reading, when it did
	// ("refused in reply to MAIL: the sender").
	Note string
}

// String renders e for explanations: `phrase "user unknown"`.
func (e Evidence) String() string {
	s := string(e.Rule)
	if e.Match != "" {
		s += fmt.Sprintf(" %q", e.Match)
	}
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	return s
}

// Result is the judgement on one report record.
type Result struct {
	Reason   Reason
	Category Category
	Evidence Evidence
	// Permanent says that the failure was reported as permanent (a 5xx
	// reply, a 5.X.X status, "This is a permanent error") while nothing
	// tells why: the reason is undefined or onhold, the category soft. The
	// suppression policy counts such failures more strictly than
	// temporary ones (docs/taxonomy.md, "How evidence is weighed").
	Permanent bool
}

// DefaultMaxTextBytes is the default of Options.MaxTextBytes.
const DefaultMaxTextBytes = 16 << 10

// Options configures a Classifier. The zero value, and a nil pointer, mean
// the built-in rules alone and the default limits.
type Options struct {
	// Rules are the user's own rules, tried in order before the built-in
	// ones; the first that matches decides. See ParseRules.
	Rules []Rule
	// MaxTextBytes caps the bytes of Diagnostic that are read
	// (DefaultMaxTextBytes, 16 KiB): the words that decide stand at the
	// start, and a bounce is untrusted input.
	MaxTextBytes int
}

// Classifier judges report records with the built-in rules and, before
// them, the user's rules. It is safe for concurrent use.
type Classifier struct {
	user     *userRules
	maxBytes int
}

// New returns a Classifier for opts. It fails, with an error wrapping
// ErrBadRule, when a rule has an invalid reason or pattern.
func New(opts *Options) (*Classifier, error) {
	c := &Classifier{maxBytes: DefaultMaxTextBytes}
	if opts != nil && opts.MaxTextBytes > 0 {
		c.maxBytes = opts.MaxTextBytes
	}
	if opts == nil || len(opts.Rules) == 0 {
		return c, nil
	}
	u, err := compileRules(opts.Rules)
	if err != nil {
		return nil, err
	}
	c.user = u
	return c, nil
}

var defaultClassifier = &Classifier{maxBytes: DefaultMaxTextBytes}

// Classify judges in with the built-in rules alone.
func Classify(in Input) Result {
	return defaultClassifier.Classify(in)
}

// Classify judges in: first by the kind of message, then by the user's
// rules, then by the built-in rules in the order the package doc gives.
func (c *Classifier) Classify(in Input) (res Result) {
	defer func() {
		// A bug on some odd input must cost one record, not the batch.
		if v := recover(); v != nil {
			res = result(ReasonUndefined, RuleNone, "", fmt.Sprintf("internal error: %v", v))
		}
	}()
	res = c.classify(in)
	if res.Category == CategoryHard && strings.EqualFold(strings.TrimSpace(string(in.Action)), string(dsn.ActionDelayed)) {
		// A delay notice (Action: delayed, RFC 3464 section 2.3.3) says
		// the sending server is still retrying: the outcome is not
		// decided, whatever the words of the last attempt.
		res = result(ReasonOnHold, res.Evidence.Rule, res.Evidence.Match,
			strings.TrimPrefix(res.Evidence.Note+"; delayed, still being retried: "+string(res.Reason)+" is not final", "; "))
	}
	res.Permanent = unexplainedPermanent(in, res)
	return res
}

// classify is Classify without the recovery and the Permanent mark.
func (c *Classifier) classify(in Input) Result {
	if r, ok := byKind(in); ok {
		return r
	}
	if c == nil {
		c = defaultClassifier
	}
	limit := c.maxBytes
	if limit <= 0 {
		limit = DefaultMaxTextBytes
	}
	if len(in.Diagnostic) > limit {
		in.Diagnostic = truncate(in.Diagnostic, limit)
	}
	text := normalize(in.Diagnostic, statusComment(in.Status))
	if c.user != nil {
		if r, ok := c.user.match(text); ok {
			return r
		}
	}
	var r Result
	if inner, relaySt, ok := unwrapRelay(in); ok {
		// A relay reported another server's reply: that reply decides.
		r = builtin(inner, normalize(inner.Diagnostic, statusComment(inner.Status)))
		r.Evidence.Note = strings.TrimPrefix(r.Evidence.Note+"; the receiving server's reply inside the relay's", "; ")
		if relayDisagrees(relaySt, r.Reason) {
			r = result(ReasonFiltered, r.Evidence.Rule, r.Evidence.Match,
				"the relay's status "+relaySt+" says the message was refused, the reply inside an unknown user: filtered")
		}
	} else {
		r = builtin(in, text)
	}
	if r.Evidence.Rule == RuleNone && in.Notice != "" && in.Notice != in.Diagnostic {
		// Nothing about this recipient tells why: the notice may.
		n := in
		n.Diagnostic, n.Notice = truncate(in.Notice, limit), ""
		if nr := c.classify(n); nr.Evidence.Rule != RuleNone &&
			!(nr.Category == CategoryHard && namesAnother(in.Notice, in.Diagnostic, in.Recipients, nr.Evidence.Match)) {
			nr.Evidence.Note = strings.TrimPrefix(nr.Evidence.Note+"; in the notice's text", "; ")
			return nr
		}
	}
	return r
}

// namesAnother reports whether the reply in the notice that holds match
// names, in angle brackets right before or after the words, an address
// that is none of the record's recipients (or, when they are not known,
// that the recipient's own diagnostic does not name): that reply is
// another recipient's reason (masqmail writes one reply under its list of
// failed recipients, "550 5.1.1 <cy@example.it>: utente sconosciuto"), no
// evidence that this one is unknown. The notice's white space is folded,
// so the reply is what stands within replyReach of the words, not a line.
func namesAnother(notice, diag string, rcpts []string, match string) bool {
	part, _, _ := strings.Cut(match, "*")
	part = strings.Trim(part, "|!?")
	if part == "" {
		return false
	}
	own := strings.ToLower(diag)
	text := strings.Join(strings.Fields(strings.ToLower(notice)), " ")
	for off := 0; ; {
		i := strings.Index(text[off:], part)
		if i < 0 {
			return false
		}
		i += off
		off = i + len(part)
		from, to := max(0, i-replyReach), min(len(text), off+replyReach/4)
		for _, a := range bracketed(text[from:to]) {
			if !isOwn(a, own, rcpts) {
				return true
			}
		}
	}
}

// replyReach is how far before the words of a reply (and a quarter of it
// after them) an address in angle brackets counts as the reply's.
const replyReach = 64

// bracketed returns the addresses written in angle brackets in s.
func bracketed(s string) []string {
	var out []string
	for rest := s; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			return out
		}
		if a := rest[i+1 : i+j]; strings.IndexByte(a, '@') > 0 {
			out = append(out, a)
		}
		rest = rest[i+j+1:]
	}
}

// isOwn reports whether the address a (lower case) is one of rcpts, or,
// when none is known, is named in the diagnostic own (lower case).
func isOwn(a, own string, rcpts []string) bool {
	if len(rcpts) == 0 {
		return strings.Contains(own, a)
	}
	for _, r := range rcpts {
		if strings.EqualFold(r, a) {
			return true
		}
	}
	return false
}

func result(r Reason, rule Family, match, note string) Result {
	return Result{Reason: r, Category: r.Category(), Evidence: Evidence{Rule: rule, Match: match, Note: note}}
}

// byKind decides the reports that are not failures (RFC 3464 Action
// delivered, relayed, expanded; a 2.x.x status), auto-replies (RFC 3834)
// and feedback reports (RFC 5965): their category is never decided by words.
func byKind(in Input) (Result, bool) {
	switch in.Kind {
	case dsn.KindFeedback:
		return byFeedbackType(in.FeedbackType), true
	case dsn.KindAutoReply:
		return result(ReasonVacation, RuleKind, string(in.Kind), ""), true
	case dsn.KindNotBounce:
		return result(ReasonNotBounce, RuleKind, string(in.Kind), ""), true
	case dsn.KindChallenge:
		// A request to the sender to prove itself: nothing failed.
		return result(ReasonNotBounce, RuleKind, string(in.Kind), "challenge/response"), true
	}
	switch a := strings.ToLower(strings.TrimSpace(string(in.Action))); a {
	case "delivered", "relayed", "expanded":
		return result(ReasonDelivered, RuleAction, a, ""), true
	}
	if st := statusCode(in.Status); strings.HasPrefix(st, "2.") && !failed(string(in.Action)) {
		return result(ReasonDelivered, RuleStatus, st, ""), true
	}
	return Result{}, false
}

// byFeedbackType judges a feedback report by its Feedback-Type. Every type
// RFC 5965 section 7.3 registers ("abuse", "fraud", "other"), an
// unsubscribe request and, as the bounce libraries read it, an RFC 6591
// "auth-failure" report is feedback; two say the recipient complained of
// nothing: "not-spam" (RFC 6650 section 3), the recipient wants the mail,
// and "virus", a virus was found in the message.
func byFeedbackType(ft string) Result {
	switch t := strings.ToLower(strings.TrimSpace(ft)); t {
	case "not-spam":
		return result(ReasonNotBounce, RuleKind, string(dsn.KindFeedback), "feedback type not-spam: no complaint")
	case "virus":
		return result(ReasonVirusDetected, RuleKind, string(dsn.KindFeedback), "feedback type virus: no complaint")
	}
	return result(ReasonFeedback, RuleKind, string(dsn.KindFeedback), ft)
}

// failed reports whether the Action field reports a failure or a delay.
func failed(action string) bool {
	a := strings.ToLower(strings.TrimSpace(action))
	return a == "failed" || a == "delayed" || a == "expired"
}

// truncate is textcut.Bytes.
func truncate(s string, n int) string { return textcut.Bytes(s, n) }
