package pipeline

import (
	"context"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
)

// streamer makes the records and events of a message that names more
// than StreamRecipients recipients, chunkRecipients at a time, without
// holding them: once to count and to decide the outcome, then again, as
// often as it is asked (Message.More), to record them.
type streamer struct {
	p      *Processor
	res    *Result
	src    mailsource.Message // Body nil
	bounce *Bounce            // for a Proof; nil without one
}

// stream fills res for a streamed message (Result.Streamed): its counts,
// Flooded, and Message.More; it tells, as events does, whether one
// failure suppresses (failure) or cannot be recorded (unusable).
func (p *Processor) stream(ctx context.Context, res *Result, src *mailsource.Message, head []byte) (failure, unusable bool) {
	s := &streamer{p: p, res: res, src: *src}
	s.src.Body = nil
	if p.opts.Proof != nil {
		s.bounce = p.bounce(res.Report, src, head) // its Arrival fixed for every pass
	}
	limit := p.opts.MaxSuppressPerMessage
	if p.opts.Proof != nil {
		limit = -1
	}
	failure, unusable, over := s.pass(ctx, res, limit, nil)
	if failure && over {
		failure, res.Flooded = false, true
	}
	res.Message.More = func(yield func(suppress.Event) bool) {
		var scratch Result // the counts were taken by the first pass
		scratch.Report, scratch.Message.Date = res.Report, res.Message.Date
		s.pass(ctx, &scratch, -1, yield)
	}
	return failure, unusable
}

// pass makes the events of every recipient, counting into acc, and hands
// them to yield when it is not nil, with no failure when the message is
// Flooded. With limit not negative, it tells whether the failures name
// more than limit addresses (over).
func (s *streamer) pass(ctx context.Context, acc *Result, limit int, yield func(suppress.Event) bool) (failure, unusable, over bool) {
	p, rep := s.p, s.res.Report
	base := baseRecord(s.src.Name, rep, s.res.Err)
	conf := newConfirmer(rep)
	classifier := p.opts.Classify
	if classifier == nil {
		classifier = classify.Classify
	}
	var distinct map[string]struct{}
	if limit >= 0 {
		distinct = make(map[string]struct{}, limit+1)
	}
	chunk := make([]dsn.Recipient, 0, chunkRecipients)
	recs := make([]Record, 0, chunkRecipients)
	var evs []suppress.Event
	flush := func() bool {
		recs = recs[:0]
		for i := range chunk {
			recs = append(recs, recipientRecord(base, &chunk[i], rep, classifier))
		}
		var b *Bounce
		if s.bounce != nil && hasFailure(recs) {
			part := *rep
			part.Recipients = chunk
			bc := *s.bounce
			bc.Report = &part
			b = &bc
		}
		var f, u bool
		evs, f, u = p.judgeRecords(ctx, acc, recs, b, &s.src, conf, evs[:0])
		failure, unusable = failure || f, unusable || u
		chunk = chunk[:0]
		for _, e := range evs {
			if distinct != nil && !over && IsFailure(e.Category) {
				if a, err := suppress.NormalizeAddress(e.Address); err == nil {
					distinct[a] = struct{}{}
					over = len(distinct) > limit
				}
			}
			if yield == nil {
				continue
			}
			if s.res.Flooded {
				e.Category = classify.CategoryNone
			}
			if !yield(e) {
				return false
			}
		}
		return true
	}
	for r := range rep.All() {
		if chunk = append(chunk, r); len(chunk) == chunkRecipients && !flush() {
			return failure, unusable, over
		}
	}
	flush()
	return failure, unusable, over
}
