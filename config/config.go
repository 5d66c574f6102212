// Package config reads the configuration file of bouncer run (TOML, see
// File) and turns a mailbox, from the file or from the command line, into
// the options of its source (Mailbox.Source): imapfetch.Options for IMAP,
// mailsource.MaildirOptions for a Maildir.
//
// A file lists the mailboxes of one run, which shares the state (each
// IMAP mailbox keeps its own cursor there, under its URL) and the lists:
//
//	state = "/var/lib/bouncer/bouncer.db"
//	out   = "/var/lib/bouncer/suppressions.csv"
//
//	push  = ["listmonk=https://lists.example.org"]
//	push_secret_file = "/etc/bouncer/push-secrets"
//
//	[[mailbox]]
//	name          = "newsletter"
//	imap          = "imaps://bounce@mail.example.org/INBOX"
//	password_file = "/etc/bouncer/newsletter.pw"
//
//	[[mailbox]]
//	name              = "m365"
//	imap              = "imaps://bounce%40contoso.com@outlook.office365.com/INBOX"
//	oauth_credentials = "/etc/bouncer/m365.json"
//	after             = "seen"
//
// # Divergences
//
//   - Unknown keys are an error, not ignored: a typo must not pass
//     unnoticed.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// MaxFileBytes caps the size of a configuration file.
const MaxFileBytes = 1 << 20

// ErrConfig is wrapped by the errors of a bad file or mailbox.
var ErrConfig = errors.New("config")

// File is the content of a configuration file. Empty fields leave the
// command line's value (or its default).
type File struct {
	State  string `toml:"state"`
	Out    string `toml:"out"`
	OutDir string `toml:"out_dir"`
	Format string `toml:"format"`
	// Push lists the push targets (KIND=URL, as --push) of the events of
	// every mailbox, their secrets in PushSecretFile: the state has one
	// outbox (suppress.DB.SetOutbox).
	Push           []string  `toml:"push"`
	PushSecretFile string    `toml:"push_secret_file"`
	Mailboxes      []Mailbox `toml:"mailbox"`
}

// Load reads and checks the configuration file name: at most
// MaxFileBytes, no unknown key, at least one mailbox, names unique.
func Load(name string) (*File, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrConfig, name, MaxFileBytes)
	}
	var f File
	md, err := toml.DecodeFile(name, &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return nil, fmt.Errorf("%w: %s: unknown key %s", ErrConfig, name, keys[0])
	}
	if len(f.Mailboxes) == 0 {
		return nil, fmt.Errorf("%w: %s: no [[mailbox]]", ErrConfig, name)
	}
	seen := make(map[string]bool)
	for i := range f.Mailboxes {
		m := &f.Mailboxes[i]
		m.inFile = true
		if m.Name == "" {
			m.Name = cmpOr(m.IMAP, m.Maildir)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("%w: %s: two mailboxes named %q", ErrConfig, name, m.Name)
		}
		seen[m.Name] = true
	}
	return &f, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// key names the setting k of m in an error: the file's key, or the flag.
func (m *Mailbox) key(k string) string {
	if m.inFile {
		return k
	}
	return "--" + strings.ReplaceAll(k, "_", "-")
}

// errorf returns an error of m.
func (m *Mailbox) errorf(format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if m.inFile {
		return fmt.Errorf("%w: mailbox %q: %s", ErrConfig, m.Name, msg)
	}
	return &FlagError{Msg: msg}
}

// FlagError is a bad mailbox given on the command line; its text names
// the flags.
type FlagError struct{ Msg string }

func (e *FlagError) Error() string { return e.Msg }

// Merge returns the run of f with the command line over it: cmd holds
// the command line's settings and its one mailbox, set the names of the
// flags given (on the command line or from the environment). A setting of
// set replaces f's, and so does one of f left empty; cmd's mailbox, when
// it names one (imap or maildir in set), replaces f's mailboxes, else the
// flags in set override every mailbox of f (Mailbox.Override). A nil f
// gives cmd.
func (f *File) Merge(cmd *File, set map[string]bool) *File {
	if f == nil {
		return cmd
	}
	out := *f
	for name, pair := range map[string][2]*string{
		"state": {&out.State, &cmd.State}, "out": {&out.Out, &cmd.Out},
		"out-dir": {&out.OutDir, &cmd.OutDir}, "format": {&out.Format, &cmd.Format},
		"push-secret-file": {&out.PushSecretFile, &cmd.PushSecretFile},
	} {
		if set[name] || *pair[0] == "" {
			*pair[0] = *pair[1]
		}
	}
	if set["push"] || len(out.Push) == 0 {
		out.Push = cmd.Push
	}
	if set["imap"] || set["maildir"] {
		out.Mailboxes = cmd.Mailboxes
		return &out
	}
	out.Mailboxes = append([]Mailbox(nil), f.Mailboxes...)
	for i := range out.Mailboxes {
		out.Mailboxes[i].Override(&cmd.Mailboxes[0], set)
	}
	return &out
}
