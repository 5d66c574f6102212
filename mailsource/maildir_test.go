package mailsource

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithSeenFlag(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"123.abc.host", "123.abc.host:2,S"},
		{"123.abc.host:2,", "123.abc.host:2,S"},
		{"123.abc.host:2,RF", "123.abc.host:2,FRS"},
		{"123.abc.host:2,FS", "123.abc.host:2,FS"},
	} {
		assert.Equal(t, tc.want, WithSeenFlag(tc.in), "WithSeenFlag(%q)", tc.in)
	}
}

// TestReceived checks that a Maildir name dates its message and that any
// other name is dated by the file's time, never 1970.
func TestReceived(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	for _, tc := range []struct {
		name string
		want time.Time
	}{
		{"1700000000.M1P2.host:2,S", time.Unix(1700000000, 0).UTC()},
		{"1700000000.M1P2.host", time.Unix(1700000000, 0).UTC()},
		{"1.eml", mtime},
		{"42", mtime},
		{"1700000000.eml", mtime},
		{"12.M1.host", mtime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			require.NoError(t, os.WriteFile(p, []byte("Subject: x\n\n"), 0o600))
			require.NoError(t, os.Chtimes(p, mtime, mtime))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				if e.Name() == tc.name {
					assert.Equal(t, tc.want, Received(e))
				}
			}
		})
	}
}

// recordingSink takes every message and commits it with an outcome chosen
// by its body's first line.
type recordingSink struct {
	next    Ticket
	pending []Committed
	bodies  map[Ticket]string
	commits int
}

func (s *recordingSink) Add(_ context.Context, m *Message) (Ticket, error) {
	b, err := io.ReadAll(m.Body)
	if err != nil {
		return 0, err
	}
	s.next++
	if s.bodies == nil {
		s.bodies = make(map[Ticket]string)
	}
	s.bodies[s.next] = string(b)
	o := OutcomeUnrecognized
	if string(b[:6]) == "bounce" {
		o = OutcomeProcessed
	}
	s.pending = append(s.pending, Committed{Ticket: s.next, Outcome: o})
	return s.next, nil
}

func (s *recordingSink) Commit(context.Context) ([]Committed, error) {
	s.commits++
	p := s.pending
	s.pending = nil
	return p, nil
}

func TestMaildirPass(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	files := map[string]string{
		"new/1700000001.M1.host":     "bounce 1\n",
		"new/1700000002.M2.host":     "other 2\n",
		"cur/1700000003.M3.host:2,S": "bounce 3\n",
		"cur/.hidden":                "bounce hidden\n",
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	md, err := OpenMaildir(dir, &MaildirOptions{UnrecognizedFolder: "bounces-unrecognized", Batch: 2})
	require.NoError(t, err)
	sink := &recordingSink{}
	require.NoError(t, md.Pass(context.Background(), sink))
	assert.Len(t, sink.bodies, 3, "the hidden file is not a message")
	assert.Equal(t, 2, sink.commits, "one commit per batch of 2")
	for name, want := range map[string]bool{
		".bounces-processed/new/1700000001.M1.host":     true,
		".bounces-processed/cur/1700000003.M3.host:2,S": true,
		".bounces-unrecognized/new/1700000002.M2.host":  true,
		".bounces-processed/maildirfolder":              true,
		"new/1700000001.M1.host":                        false,
		"cur/.hidden":                                   true,
	} {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.Equal(t, want, err == nil, "%s exists", name)
	}

	_, err = OpenMaildir(filepath.Join(dir, "new"), nil)
	assert.ErrorIs(t, err, ErrNotMaildir)
}

// uncommittedSink commits nothing: the files must stay where they are.
type uncommittedSink struct{ recordingSink }

func (s *uncommittedSink) Commit(context.Context) ([]Committed, error) { return nil, io.ErrClosedPipe }

func TestMaildirNothingMovedUncommitted(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	p := filepath.Join(dir, "new", "1700000001.M1.host")
	require.NoError(t, os.WriteFile(p, []byte("bounce 1\n"), 0o600))
	md, err := OpenMaildir(dir, nil)
	require.NoError(t, err)
	err = md.Pass(context.Background(), &uncommittedSink{})
	require.ErrorIs(t, err, io.ErrClosedPipe)
	assert.FileExists(t, p, "a message whose commit failed is not moved")
}
