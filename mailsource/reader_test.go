package mailsource

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneSink records what it is given and commits it with outcome, or fails
// Add with addErr.
type oneSink struct {
	got     []string
	outcome Outcome
	addErr  error
	forget  bool // Commit reports nothing
}

func (s *oneSink) Add(_ context.Context, m *Message) (Ticket, error) {
	if s.addErr != nil {
		return 0, s.addErr
	}
	b, err := io.ReadAll(m.Body)
	if err != nil {
		return 0, err
	}
	s.got = append(s.got, m.Name+":"+string(b))
	return Ticket(len(s.got)), nil
}

func (s *oneSink) Commit(context.Context) ([]Committed, error) {
	if s.forget {
		return nil, nil
	}
	return []Committed{{Ticket: Ticket(len(s.got)), Outcome: s.outcome}}, nil
}

func TestReader(t *testing.T) {
	ctx := context.Background()
	t.Run("one message, once", func(t *testing.T) {
		sink := &oneSink{outcome: OutcomeUnrecognized}
		r := NewReader(strings.NewReader("Subject: x\n\nbody"), "-", time.Now())
		require.NoError(t, r.Pass(ctx, sink))
		require.NoError(t, r.Pass(ctx, sink))
		assert.Equal(t, []string{"-:Subject: x\n\nbody"}, sink.got)
		out, err := r.Outcome()
		assert.NoError(t, err)
		assert.Equal(t, OutcomeUnrecognized, out)
	})
	t.Run("refused by the sink", func(t *testing.T) {
		boom := errors.New("state locked")
		r := NewReader(strings.NewReader("x"), "-", time.Time{})
		assert.ErrorIs(t, r.Pass(ctx, &oneSink{addErr: boom}), boom)
		out, err := r.Outcome()
		assert.Zero(t, out)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("not committed", func(t *testing.T) {
		r := NewReader(strings.NewReader("x"), "-", time.Time{})
		assert.ErrorIs(t, r.Pass(ctx, &oneSink{forget: true}), ErrNotCommitted)
		_, err := r.Outcome()
		assert.ErrorIs(t, err, ErrNotCommitted)
	})
}
