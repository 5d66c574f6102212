package mailsource

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
		if err != nil {
			t.Fatalf("Next() after %d messages: %v", len(msgs), err)
		}
		if mb.Count() != len(msgs)+1 {
			t.Fatalf("Count() = %d, want %d", mb.Count(), len(msgs)+1)
		}
		b, err := io.ReadAll(msg)
		if err != nil {
			t.Fatalf("reading message %d: %v", len(msgs)+1, err)
		}
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
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: messages = %q, want %q", r.name, trim(got), trim(tc.want))
				}
			}
		})
	}
}

func trim(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if len(m) > 80 {
			m = m[:40] + "…" + m[len(m)-40:]
		}
		out[i] = m
	}
	return out
}

func TestMboxSkipsUnreadRest(t *testing.T) {
	in := "From a Sat Nov 28 10:00:00 2026\nS: 1\n\n" + strings.Repeat("line\n", 100000) + "\nFrom b Sat Nov 28 10:00:00 2026\nS: 2\n"
	mb := NewMbox(strings.NewReader(in))
	first, err := mb.Next()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(first, buf); err != nil || string(buf) != "S: " {
		t.Fatalf("first read = %q, %v", buf, err)
	}
	second, err := mb.Next()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(second)
	if string(b) != "S: 2\n" || mb.Count() != 2 {
		t.Errorf("second message = %q (#%d), want %q (#2)", b, mb.Count(), "S: 2\n")
	}
	if _, err := mb.Next(); err != io.EOF {
		t.Errorf("Next() at end = %v, want io.EOF", err)
	}
}

func TestMboxErrors(t *testing.T) {
	t.Run("not an mbox", func(t *testing.T) {
		_, err := NewMbox(strings.NewReader("Subject: x\n\n")).Next()
		if err == nil || err == io.EOF {
			t.Errorf("Next() = %v, want an error", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if _, err := NewMbox(strings.NewReader("")).Next(); err != io.EOF {
			t.Errorf("Next() = %v, want io.EOF", err)
		}
	})
	t.Run("read error is returned and sticks", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader("From a Sat Nov 28 10:00:00 2026\nS: 1\n"), iotest.ErrReader(boom))
		mb := NewMbox(r)
		msg, err := mb.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(msg); !errors.Is(err, boom) {
			t.Errorf("reading = %v, want %v", err, boom)
		}
		if _, err := mb.Next(); !errors.Is(err, boom) {
			t.Errorf("Next() = %v, want %v", err, boom)
		}
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
		if got := IsMbox([]byte(in)); got != want {
			t.Errorf("IsMbox(%q) = %v, want %v", in, got, want)
		}
	}
}

func writeFiles(t *testing.T, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, f)
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("Subject: "+f+"\n\n"), 0o644); err != nil {
			t.Fatal(err)
		}
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
				if err != nil {
					t.Errorf("fn(%s, %v)", path, err)
				}
				rel, _ := filepath.Rel(root, path)
				got = append(got, filepath.ToSlash(rel))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Walk = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWalkErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, "a", "c")
	if err := os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "b")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(root, filepath.Join(root, "loop")); err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(root, func(path string, err error) error {
		got = append(got, filepath.Base(path)+"="+boolString(err != nil))
		return nil
	})
	want := []string{"a=ok", "b=error", "c=ok"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Walk = %q, want %q", got, want)
	}

	got = nil
	Walk(filepath.Join(root, "nonexistent"), func(path string, err error) error {
		got = append(got, filepath.Base(path)+"="+boolString(err != nil))
		return nil
	})
	if want := []string{"nonexistent=error"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Walk(nonexistent) = %q, want %q", got, want)
	}

	stop := errors.New("stop")
	n := 0
	if err := Walk(root, func(string, error) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Walk with fn failing = %v after %d calls, want %v after 1", err, n, stop)
	}
}

func boolString(failed bool) string {
	if failed {
		return "error"
	}
	return "ok"
}
