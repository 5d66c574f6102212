package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bouncer.toml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

func TestLoad(t *testing.T) {
	f, err := Load(write(t, `state = "s.db"
push = ["webhook=https://hooks.example.org/b"]
[[mailbox]]
imap = "imaps://bounce@mail.example.org/INBOX"
password_file = "pw"
unrecognized_folder = ""
[[mailbox]]
name = "local"
maildir = "/var/mail/bounce"
after = "seen"
`))
	require.NoError(t, err)
	assert.Equal(t, "s.db", f.State)
	require.Len(t, f.Mailboxes, 2)
	assert.Equal(t, "imaps://bounce@mail.example.org/INBOX", f.Mailboxes[0].Name, "named by its URL")

	src, err := f.Mailboxes[0].Source(&Common{FetchBatch: 7})
	require.NoError(t, err)
	assert.Equal(t, imapfetch.ActionMove, src.IMAP.Action)
	assert.Equal(t, DefaultProcessedFolder, src.IMAP.ProcessedMailbox)
	assert.Empty(t, src.IMAP.UnrecognizedMailbox, `unrecognized_folder = "" leaves them in place`)
	assert.Equal(t, "pw", src.IMAP.SecretFile)
	assert.Equal(t, -1, src.IMAP.MaxRetries, "0 retries: none")
	assert.Equal(t, []string{"webhook=https://hooks.example.org/b"}, f.Push)

	src, err = f.Mailboxes[1].Source(&Common{FetchBatch: 7})
	require.NoError(t, err)
	assert.Equal(t, mailsource.ActionSeen, src.MaildirOpts.Action)
	assert.Equal(t, DefaultUnrecognizedFolder, src.MaildirOpts.UnrecognizedFolder)
	assert.Equal(t, 7, src.MaildirOpts.Batch)
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", "[[mailbox]]\nimap = \"imaps://u@h/INBOX\"\npasword_file = \"x\"\n", "unknown key mailbox.pasword_file"},
		{"no mailbox", "state = \"s.db\"\n", "no [[mailbox]]"},
		{"same name", "[[mailbox]]\nname = \"a\"\nmaildir = \"x\"\n[[mailbox]]\nname = \"a\"\nmaildir = \"y\"\n", `two mailboxes named "a"`},
		{"syntax", "[[mailbox]\n", "bouncer.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.text))
			require.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mailbox
		want string
	}{
		{"both", Mailbox{IMAP: "imaps://u@h/INBOX", Maildir: "x"}, "give --imap or --maildir, not both"},
		{"after", Mailbox{Maildir: "x", After: "archive"}, `unknown --after "archive"`},
		{"two secrets", Mailbox{IMAP: "imaps://u@h/INBOX", PasswordFile: "a", OAuthTokenFile: "b"}, "give one of --password-file"},
		{"in file", Mailbox{Name: "m", IMAP: "imaps://u@h/INBOX", PasswordFile: "a", Auth: "magic", inFile: true}, `config: mailbox "m": unknown auth "magic"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Source(&Common{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A folder the mailbox does not name is bouncer's default, placed in the
// server's namespace (imapfetch.Options.DefaultNamed); a folder it names
// is used as given.
func TestSourceDefaultNamed(t *testing.T) {
	given := "INBOX.Bounces"
	none := ""
	for _, tc := range []struct {
		name string
		m    Mailbox
		want imapfetch.Folder
	}{
		{"both defaults", Mailbox{}, imapfetch.FolderProcessed | imapfetch.FolderUnrecognized},
		{"processed given", Mailbox{ProcessedFolder: given}, imapfetch.FolderUnrecognized},
		{"unrecognized given", Mailbox{UnrecognizedFolder: &given}, imapfetch.FolderProcessed},
		{"unrecognized left in place", Mailbox{ProcessedFolder: given, UnrecognizedFolder: &none}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.IMAP, tc.m.PasswordFile = "imaps://u@h/INBOX", "secret"
			src, err := tc.m.Source(&Common{IdleRecheck: time.Minute})
			require.NoError(t, err)
			assert.Equal(t, tc.want, src.IMAP.DefaultNamed, "DefaultNamed")
			assert.Equal(t, time.Minute, src.IMAP.IdleRecheck, "IdleRecheck")
		})
	}
}
