package classify

import "strings"

// permanentWords are the wordings with which a notice says that a failure
// is final without saying why: qmail's "This is a permanent error; I've
// given up", Gmail's "failed permanently", Sendmail's "permanent fatal
// errors", Exchange's "could not be delivered … permanent failure".
// Lower case, white space folded (see normalize).
var permanentWords = []string{
	"permanent error",
	"permanent failure",
	"permanent fatal error",
	"failed permanently",
	"permanently failed",
	"permanently rejected",
	"i've given up",
	"i am giving up",
	"will not be retried",
	"no further attempts",
}

// unexplainedPermanent reports whether res, a soft record whose reason
// nothing told (undefined, onhold), answered a failure that was reported
// as permanent: a class-5 status or reply code, or the words of
// permanentWords in the diagnostic or the notice. A delayed record is
// never permanent.
func unexplainedPermanent(in Input, res Result) bool {
	if res.Reason != ReasonUndefined && res.Reason != ReasonOnHold {
		return false
	}
	if delayed(string(in.Action)) {
		return false
	}
	st, rc := codes(in)
	if st != "" && st[0] == '5' || rc != "" && rc[0] == '5' {
		return true
	}
	if st != "" || rc != "" {
		return false // a temporary code says it is not final
	}
	for _, s := range []string{in.Diagnostic, in.Notice} {
		if s == "" {
			continue
		}
		low := normalize(truncate(s, DefaultMaxTextBytes))
		for _, w := range permanentWords {
			if strings.Contains(low, w) {
				return true
			}
		}
	}
	return false
}
