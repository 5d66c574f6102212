package push

import (
	"fmt"
)

// Result is what a target made of an event it accepted, when that is not
// what the event asks: the event is done (never sent again), and counted
// apart (Stats) so that "delivered" means "acted on".
type Result string

const (
	// ResultActed: the target acted on the event (the zero value).
	ResultActed Result = ""
	// ResultNotSubscriber: listmonk has no subscriber with the address.
	// Its bounce API answers such a post 200 and drops it, only logging
	// "bounced subscriber not found" (internal/core/bounces.go), so the
	// lookup finds it first and nothing is posted.
	ResultNotSubscriber Result = "not-a-subscriber"
	// ResultAlreadyBlocklisted: listmonk's subscriber is blocklisted
	// already. Its bounce API answers 200 and records nothing
	// (queries/bounces.sql, record-bounce), so nothing is posted.
	ResultAlreadyBlocklisted Result = "already-blocklisted"
	// ResultBelowThreshold: a soft bounce that does not bring its address
	// to bouncer's soft threshold (SoftThreshold): listmonk, which counts
	// soft bounces forever, does not hear of it.
	ResultBelowThreshold Result = "below-threshold"
	// ResultAllowed: the address was allowed again (suppress.DB.Allow)
	// after the event was queued and before it was delivered: the event is
	// not sent, so that a target never suppresses a person the operator
	// put back.
	ResultAllowed Result = "allowed"
)

// SoftMode is how soft bounces reach listmonk (Options.Soft; the
// --push-soft flag).
type SoftMode string

const (
	// SoftThreshold (the default, also the zero value): a soft bounce is
	// posted only when it is the one that brings its address to bouncer's
	// soft threshold (Options.Policy; suppress.DB.SoftThresholdReached),
	// and then as a hard bounce whose meta.decision says so ("soft
	// threshold: 3 soft bounces on 3 days within 30 days"): listmonk's
	// hard action (blocklist after 1, its default) acts on it once. The
	// others are done with ResultBelowThreshold.
	SoftThreshold SoftMode = "threshold"
	// SoftAll posts every soft bounce as soft, for listmonk to count
	// with its own soft action (which counts them forever: no window).
	SoftAll SoftMode = "all"
)

// ParseSoftMode reads a SoftMode: "threshold" (or "") or "all".
func ParseSoftMode(s string) (SoftMode, error) {
	switch SoftMode(s) {
	case "", SoftThreshold:
		return SoftThreshold, nil
	case SoftAll:
		return SoftAll, nil
	}
	return "", fmt.Errorf("%w: --push-soft %q: want threshold or all", ErrBadTarget, s)
}
