package mailsource

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll splits an mbox into its messages.
func readAll(t *testing.T, r io.Reader) []string {
	t.Helper()
	mb := NewMbox(r)
	var msgs []string
	for {
		msg, err := mb.Next()
		if err == io.EOF {
			return msgs
		}
		require.NoError(t, err, "Next() after %d messages", len(msgs))
		require.Equal(t, len(msgs)+1, mb.Count(), "Count()")
		b, err := io.ReadAll(msg)
		require.NoError(t, err, "reading message %d", len(msgs)+1)
		msgs = append(msgs, string(b))
	}
}

func TestMbox(t *testing.T) {
	long := strings.Repeat("x", 3*mboxBufSize)
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "three messages with quoted From lines",
			in: "From a@example.com Sat Nov 28 10:00:00 2026\n" +
				"Subject: one\n\nbody\n>From here, quoted once\n>>From twice\n\n" +
				"From b@example.com Sat Nov 28 10:00:01 2026\n" +
				"Subject: two\n\ntext\nFrom after a text line: not a separator\n\n" +
				"From c@example.com Sat Nov 28 10:00:02 2026\n" +
				"Subject: three\n\nlast\n\n",
			want: []string{
				"Subject: one\n\nbody\nFrom here, quoted once\n>From twice\n",
				"Subject: two\n\ntext\nFrom after a text line: not a separator\n",
				"Subject: three\n\nlast\n",
			},
		},
		{
			name: "From line without a date after an empty line is text",
			in:   "From a Sat Nov 28 10:00:00 2026\nS: 1\n\nFrom the start, unquoted\n\nFrom b Sat Nov 28 10:00:00 2026\nS: 2\n",
			want: []string{"S: 1\n\nFrom the start, unquoted\n", "S: 2\n"},
		},
		{
			name: "CRLF line ends",
			in:   "From a Sat Nov 28 10:00:00 2026\r\nSubject: one\r\n\r\n>From x\r\n\r\nFrom b Sat Nov 28 10:00:00 2026\r\nSubject: two\r\n\r\nbody\r\n",
			want: []string{"Subject: one\r\n\r\nFrom x\r\n", "Subject: two\r\n\r\nbody\r\n"},
		},
		{
			name: "bare CR line ends",
			in:   "From a Sat Nov 28 10:00:00 2026\rSubject: one\r\r>From x\r\rFrom b Sat Nov 28 10:00:00 2026\rSubject: two\r\rbody\r",
			want: []string{"Subject: one\n\nFrom x\n", "Subject: two\n\nbody\n"},
		},
		{
			name: "several empty lines before a separator",
			in:   "From a Sat Nov 28 10:00:00 2026\nS: 1\n\n\n\nFrom b Sat Nov 28 10:00:00 2026\nS: 2\n",
			want: []string{"S: 1\n\n\n", "S: 2\n"},
		},
		{
			name: "no final newline",
			in:   "From a Sat Nov 28 10:00:00 2026\nS: 1\n\nbody",
			want: []string{"S: 1\n\nbody"},
		},
		{
			name: "empty line then text at the end",
			in:   "From a Sat Nov 28 10:00:00 2026\nS: 1\n\nlast",
			want: []string{"S: 1\n\nlast"},
		},
		{
			name: "a message that is empty",
			in:   "From a Sat Nov 28 10:00:00 2026\n\nFrom b Sat Nov 28 10:00:00 2026\nS: 2\n",
			want: []string{"", "S: 2\n"},
		},
		{
			name: "separator only",
			in:   "From a Sat Nov 28 10:00:00 2026\n",
			want: []string{""},
		},
		{
			name: "overlong lines are passed through, quoted only at their start",
			in:   "From a Sat Nov 28 10:00:00 2026\nS: 1\n\n>From " + long + ">From " + long + "\n\nFrom b Sat Nov 28 10:00:00 2026 " + long + "\nS: 2\n",
			want: []string{"S: 1\n\nFrom " + long + ">From " + long + "\n", "S: 2\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tc.in)},
				{"one byte at a time", iotest.OneByteReader(strings.NewReader(tc.in))},
			} {
				got := readAll(t, r.r)
				assert.Equal(t, tc.want, got, "%s: messages", r.name)
			}
		})
	}
}

func TestMboxSkipsUnreadRest(t *testing.T) {
	in := "From a Sat Nov 28 10:00:00 2026\nS: 1\n\n" + strings.Repeat("line\n", 100000) + "\nFrom b Sat Nov 28 10:00:00 2026\nS: 2\n"
	mb := NewMbox(strings.NewReader(in))
	first, err := mb.Next()
	require.NoError(t, err)
	buf := make([]byte, 3)
	_, err = io.ReadFull(first, buf)
	require.NoError(t, err, "first read")
	require.Equal(t, "S: ", string(buf), "first read")
	second, err := mb.Next()
	require.NoError(t, err)
	b, _ := io.ReadAll(second)
	assert.Equal(t, "S: 2\n", string(b), "second message")
	assert.Equal(t, 2, mb.Count(), "second message")
	_, err = mb.Next()
	assert.Equal(t, io.EOF, err, "Next() at end")
}

func TestMboxErrors(t *testing.T) {
	t.Run("not an mbox", func(t *testing.T) {
		_, err := NewMbox(strings.NewReader("Subject: x\n\n")).Next()
		require.Error(t, err, "Next()")
		assert.NotEqual(t, io.EOF, err, "Next()")
	})
	t.Run("empty", func(t *testing.T) {
		_, err := NewMbox(strings.NewReader("")).Next()
		assert.Equal(t, io.EOF, err, "Next()")
	})
	t.Run("read error is returned and sticks", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader("From a Sat Nov 28 10:00:00 2026\nS: 1\n"), iotest.ErrReader(boom))
		mb := NewMbox(r)
		msg, err := mb.Next()
		require.NoError(t, err)
		_, err = io.ReadAll(msg)
		assert.ErrorIs(t, err, boom, "reading")
		_, err = mb.Next()
		assert.ErrorIs(t, err, boom, "Next()")
	})
}

func TestIsMbox(t *testing.T) {
	for in, want := range map[string]bool{
		"From a@b Sat Nov 28 10:00:00 2026\n": true,
		"From: a@b\n":                         false,
		"Return-Path: <>\n":                   false,
		"From":                                false,
		"":                                    false,
	} {
		assert.Equal(t, want, IsMbox([]byte(in)), "IsMbox(%q)", in)
	}
}

func writeFiles(t *testing.T, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, f)
		if strings.HasSuffix(f, "/") {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("Subject: "+f+"\n\n"), 0o644))
	}
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		root  string
		want  []string
	}{
		{
			name:  "single file",
			files: []string{"msg.eml"},
			root:  "msg.eml",
			want:  []string{"msg.eml"},
		},
		{
			name:  "nested folders, sorted by name, hidden names skipped",
			files: []string{"b/2", "b/10", "a", "c/d/e", ".hidden", ".git/config", "empty/"},
			want:  []string{"a", "b/10", "b/2", "c/d/e"},
		},
		{
			name: "Maildir with Maildir++ folder; index files skipped",
			files: []string{"cur/1:2,S", "new/2", "tmp/3", "dovecot-uidlist", "dovecot.index.log",
				".Sent/cur/4", ".Sent/new/", ".Sent/dovecot-uidlist", ".Trash/"},
			want: []string{".Sent/cur/4", "cur/1:2,S", "new/2", "tmp/3"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files...)
			var got []string
			err := Walk(filepath.Join(root, tc.root), func(path string, err error) error {
				assert.NoError(t, err, "fn(%s, %v)", path, err)
				rel, _ := filepath.Rel(root, path)
				got = append(got, filepath.ToSlash(rel))
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "Walk")
		})
	}
}

func TestWalkErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, "a", "c")
	if err := os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "b")); err != nil {
		t.Skip("no symlinks:", err)
	}
	require.NoError(t, os.Symlink(root, filepath.Join(root, "loop")))
	var got []string
	Walk(root, func(path string, err error) error {
		got = append(got, filepath.Base(path)+"="+boolString(err != nil))
		return nil
	})
	want := []string{"a=ok", "b=error", "c=ok"}
	assert.Equal(t, want, got, "Walk")

	got = nil
	Walk(filepath.Join(root, "nonexistent"), func(path string, err error) error {
		got = append(got, filepath.Base(path)+"="+boolString(err != nil))
		return nil
	})
	assert.Equal(t, []string{"nonexistent=error"}, got, "Walk(nonexistent)")

	stop := errors.New("stop")
	n := 0
	err := Walk(root, func(string, error) error { n++; return stop })
	assert.Equal(t, stop, err, "Walk with fn failing")
	assert.Equal(t, 1, n, "Walk with fn failing: calls")
}

func boolString(failed bool) string {
	if failed {
		return "error"
	}
	return "ok"
}
