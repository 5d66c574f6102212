package imapfetch

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
)

func TestFoldersPlace(t *testing.T) {
	all := FolderProcessed | FolderUnrecognized | FolderFailed
	tests := []struct {
		name         string
		prefix       string
		defaultNamed Folder
		in, want     Folders
	}{
		{"no prefix", "", all, Folders{Processed: "p", Unrecognized: "u"}, Folders{Processed: "p", Unrecognized: "u"}},
		{"courier", "INBOX.", all, Folders{Processed: "p", Unrecognized: "u", Failed: "f"},
			Folders{Processed: "INBOX.p", Unrecognized: "INBOX.u", Failed: "INBOX.f", Prefix: "INBOX."}},
		{"given names as given", "INBOX.", FolderUnrecognized, Folders{Processed: "p", Unrecognized: "u"},
			Folders{Processed: "p", Unrecognized: "INBOX.u", Prefix: "INBOX."}},
		{"already under the prefix", "INBOX.", all, Folders{Processed: "inbox.p"}, Folders{Processed: "inbox.p", Prefix: "INBOX."}},
		{"empty stays empty", "INBOX.", all, Folders{}, Folders{Prefix: "INBOX."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Prefix = tc.prefix
			assert.Equal(t, tc.want, in.place(tc.defaultNamed), "place(%b)", tc.defaultNamed)
		})
	}
}

// FuzzResponseCode: any server text gives no panic, and a code found is
// a bracketed atom of the text.
func FuzzResponseCode(f *testing.F) {
	for _, s := range []string{"COPY [TRYCREATE] failed", "UID COPY [TRYCREATE] failed", "Mailbox does not exist", "[", "A [", "] [x", "A B C [D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		code := responseCode(&imap.Error{Type: imap.StatusResponseTypeNo, Text: text})
		if code != "" && !strings.Contains(strings.ToUpper(text), "["+string(code)) {
			t.Errorf("responseCode(%q) = %q, not in the text", text, code)
		}
	})
}
