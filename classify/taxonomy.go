package classify

// Category says what a mailing list should do about a report
// (docs/taxonomy.md at the module's root).
type Category string

const (
	CategoryHard      Category = "hard"      // the address cannot receive mail: suppress at once
	CategorySoft      Category = "soft"      // temporary trouble: suppress after repeated bounces
	CategoryPolicy    Category = "policy"    // the sender or message was refused: report, keep
	CategoryComplaint Category = "complaint" // a spam complaint: suppress at once
	CategoryNone      Category = "none"      // not a failure
)

// Reason says what went wrong. The tokens are those the widely used bounce
// libraries share.
type Reason string

const (
	ReasonUserUnknown     Reason = "userunknown"
	ReasonHostUnknown     Reason = "hostunknown"
	ReasonHasMoved        Reason = "hasmoved"
	ReasonNotAccept       Reason = "notaccept"
	ReasonSuspend         Reason = "suspend"
	ReasonMailboxFull     Reason = "mailboxfull"
	ReasonExceedLimit     Reason = "exceedlimit"
	ReasonMesgTooBig      Reason = "mesgtoobig"
	ReasonSystemFull      Reason = "systemfull"
	ReasonSystemError     Reason = "systemerror"
	ReasonNetworkError    Reason = "networkerror"
	ReasonExpired         Reason = "expired"
	ReasonTooManyConn     Reason = "toomanyconn"
	ReasonSpeeding        Reason = "speeding"
	ReasonMailerError     Reason = "mailererror"
	ReasonSyntaxError     Reason = "syntaxerror"
	ReasonOnHold          Reason = "onhold"
	ReasonUndefined       Reason = "undefined"
	ReasonBlocked         Reason = "blocked"
	ReasonSpamDetected    Reason = "spamdetected"
	ReasonVirusDetected   Reason = "virusdetected"
	ReasonPolicyViolation Reason = "policyviolation"
	ReasonRejected        Reason = "rejected"
	ReasonFiltered        Reason = "filtered"
	ReasonRequirePTR      Reason = "requireptr"
	ReasonAuthFailure     Reason = "authfailure"
	ReasonBadReputation   Reason = "badreputation"
	ReasonNotCompliantRFC Reason = "notcompliantrfc"
	ReasonContentError    Reason = "contenterror"
	ReasonSecurityError   Reason = "securityerror"
	ReasonFailedSTARTTLS  Reason = "failedstarttls"
	ReasonNoRelaying      Reason = "norelaying"
	ReasonFeedback        Reason = "feedback"
	ReasonVacation        Reason = "vacation"
	ReasonDelivered       Reason = "delivered"
	ReasonNotBounce       Reason = "notbounce"
)

// categories is the one table from reason to category.
var categories = map[Reason]Category{
	ReasonUserUnknown: CategoryHard,
	ReasonHostUnknown: CategoryHard,
	ReasonHasMoved:    CategoryHard,
	ReasonNotAccept:   CategoryHard,
	ReasonSuspend:     CategoryHard,

	ReasonMailboxFull:  CategorySoft,
	ReasonExceedLimit:  CategorySoft,
	ReasonMesgTooBig:   CategorySoft,
	ReasonSystemFull:   CategorySoft,
	ReasonSystemError:  CategorySoft,
	ReasonNetworkError: CategorySoft,
	ReasonExpired:      CategorySoft,
	ReasonTooManyConn:  CategorySoft,
	ReasonSpeeding:     CategorySoft,
	ReasonMailerError:  CategorySoft,
	ReasonSyntaxError:  CategorySoft,
	ReasonOnHold:       CategorySoft,
	ReasonUndefined:    CategorySoft,

	ReasonBlocked:         CategoryPolicy,
	ReasonSpamDetected:    CategoryPolicy,
	ReasonVirusDetected:   CategoryPolicy,
	ReasonPolicyViolation: CategoryPolicy,
	ReasonRejected:        CategoryPolicy,
	ReasonFiltered:        CategoryPolicy,
	ReasonRequirePTR:      CategoryPolicy,
	ReasonAuthFailure:     CategoryPolicy,
	ReasonBadReputation:   CategoryPolicy,
	ReasonNotCompliantRFC: CategoryPolicy,
	ReasonContentError:    CategoryPolicy,
	ReasonSecurityError:   CategoryPolicy,
	ReasonFailedSTARTTLS:  CategoryPolicy,
	ReasonNoRelaying:      CategoryPolicy,

	ReasonFeedback: CategoryComplaint,

	ReasonVacation:  CategoryNone,
	ReasonDelivered: CategoryNone,
	ReasonNotBounce: CategoryNone,
}

// Category returns the category of r; an unknown reason is soft, as
// "undefined" is.
func (r Reason) Category() Category {
	if c, ok := categories[r]; ok {
		return c
	}
	return CategorySoft
}

// Valid reports whether r is one of the 36 reasons of the taxonomy.
func (r Reason) Valid() bool {
	_, ok := categories[r]
	return ok
}

// allReasons lists the reasons in the order of the taxonomy's table.
var allReasons = []Reason{
	ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved, ReasonNotAccept, ReasonSuspend,
	ReasonMailboxFull, ReasonExceedLimit, ReasonMesgTooBig, ReasonSystemFull, ReasonSystemError,
	ReasonNetworkError, ReasonExpired, ReasonTooManyConn, ReasonSpeeding, ReasonMailerError,
	ReasonSyntaxError, ReasonOnHold, ReasonUndefined,
	ReasonBlocked, ReasonSpamDetected, ReasonVirusDetected, ReasonPolicyViolation, ReasonRejected,
	ReasonFiltered, ReasonRequirePTR, ReasonAuthFailure, ReasonBadReputation, ReasonNotCompliantRFC,
	ReasonContentError, ReasonSecurityError, ReasonFailedSTARTTLS, ReasonNoRelaying,
	ReasonFeedback, ReasonVacation, ReasonDelivered, ReasonNotBounce,
}

// Reasons returns every reason of the taxonomy, in the order of its table.
func Reasons() []Reason {
	return append([]Reason(nil), allReasons...)
}
