package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/proof"
)

// TestRunRecordsEvidence checks that Run keeps, for each event, what
// bouncer why shows: the evidence as parse --explain renders it, where
// the address was read, the proof, both Message-IDs, where the message was
// read and where it went.
func TestRunRecordsEvidence(t *testing.T) {
	s := testSigner(t)
	msg := forwardDSN(returnPath(t, s, "dana@example.com"), "dana@example.com", "dana@forward.example", "")
	opts := &Options{Proof: &ProofChecker{Checker: proof.Checker{Signer: s}}}
	_, db, _ := runMaildir(t, [][]byte{msg}, opts)

	hs, err := db.Why(context.Background(), nil, "dana@example.com")
	require.NoError(t, err)
	require.Len(t, hs[0].Events, 1)
	e := hs[0].Events[0]
	assert.True(t, hs[0].Suppressed)
	assert.NotEmpty(t, e.Evidence, "the rule that decided")
	assert.NotEmpty(t, e.RecipientFrom)
	assert.Equal(t, "proven: verp", e.Proof)
	assert.Equal(t, "processed", e.Source.Placed)
	assert.Contains(t, e.Source.Location, "Maildir", "the file it was read from")

	// The same text as parse --explain prints for the record.
	rep, perr := dsn.Parse(bytes.NewReader(msg), nil)
	require.NoError(t, perr)
	var want string
	for _, r := range Records(nil, "m", rep, nil, nil) {
		if r.Recipient == "dana@example.com" {
			want = evidenceString(&r)
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, e.Evidence)
	assert.Equal(t, string(rep.Recipients[0].Position), e.RecipientFrom)
}
