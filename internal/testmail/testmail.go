// Package testmail writes the small messages, folders and mbox files that
// the tests of several packages read, and decodes what bouncer parse
// prints of them.
package testmail

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Write creates the files under root; the content of each is
// "Subject: NAME\n\nbody\n" unless given after a "=".
func Write(t testing.TB, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		name, content, ok := strings.Cut(f, "=")
		if !ok {
			content = Msg(name)
		}
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// Msg returns a message whose Subject is name.
func Msg(name string) string { return "Subject: " + name + "\n\nbody\n" }

// Mbox writes messages as an mbox with mboxrd quoting.
func Mbox(msgs ...string) string {
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "From sender%d@example.com Sat Nov 28 10:00:00 2026\n", i)
		for _, line := range strings.SplitAfter(m, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				b.WriteByte('>')
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DecodeJSONL decodes the JSON Lines that bouncer parse prints, failing the
// test on a line that is not a JSON object of strings.
func DecodeJSONL(t testing.TB, out string) []map[string]string {
	t.Helper()
	var recs []map[string]string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]string
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "output line %q", sc.Text())
		recs = append(recs, m)
	}
	return recs
}
