package config

import (
	"os"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/oauth"
)

// PasswordEnv is the environment variable that may hold the password of
// a mailbox that names no secret file.
const PasswordEnv = "BOUNCER_PASSWORD"

// Defaults of the Mailbox fields.
const (
	DefaultProcessedFolder    = mailsource.DefaultProcessedFolder
	DefaultUnrecognizedFolder = "bounces-unrecognized"
)

// Mailbox is one mailbox of a run and what is done with its messages, a
// [[mailbox]] of the file or the flags of bouncer run.
type Mailbox struct {
	// Name names the mailbox in messages; default its URL or folder.
	Name string `toml:"name"`
	// IMAP is the mailbox URL (imapfetch.ParseURL); Maildir a local
	// Maildir instead. Exactly one is set.
	IMAP    string `toml:"imap"`
	Maildir string `toml:"maildir"`
	// At most one secret: PasswordFile, OAuthTokenFile (a static access
	// token), OAuthCredentials (package oauth: refreshed); none means
	// PasswordEnv.
	PasswordFile      string `toml:"password_file"`
	OAuthTokenFile    string `toml:"oauth_token_file"`
	OAuthCredentials  string `toml:"oauth_credentials"`
	CAFile            string `toml:"ca_file"`
	InsecurePlaintext bool   `toml:"insecure_plaintext"`
	// Auth is auto (default), plain, login, xoauth2 or oauthbearer.
	Auth string `toml:"auth"`
	// After is what happens to a recorded bounce: move (default), seen,
	// delete or none.
	After string `toml:"after"`
	// ProcessedFolder receives the bounces with After move; default
	// DefaultProcessedFolder. UnrecognizedFolder receives what is not a
	// bounce; nil means DefaultUnrecognizedFolder, "" leaves it in place.
	ProcessedFolder    string  `toml:"processed_folder"`
	UnrecognizedFolder *string `toml:"unrecognized_folder"`

	inFile bool // read by Load: errors name the keys, not the flags
}

// Common are the settings of a run that apply to every mailbox.
type Common struct {
	Poll          time.Duration // imapfetch.Options.PollInterval
	IdleRecheck   time.Duration // imapfetch.Options.IdleRecheck; 0: its default
	Retries       int           // reconnections; 0: none
	FetchBatch    int           // imapfetch.Options.BatchSize, mailsource.MaildirOptions.Batch
	MaxFetchBytes int64         // imapfetch.Options.MaxMessageBytes
	IOTimeout     time.Duration // imapfetch.Options.IOTimeout
}

// Source is a checked mailbox, ready to open.
type Source struct {
	Name        string
	IMAPURL     string // set for IMAP
	IMAP        imapfetch.Options
	Maildir     string // set for a Maildir
	MaildirOpts mailsource.MaildirOptions
	// After, ProcessedFolder and UnrecognizedFolder ("": left in place)
	// are what the run does with the messages.
	After                               mailsource.Action
	ProcessedFolder, UnrecognizedFolder string
}

// Source checks m and returns its Source. Its errors name the file's
// keys, or the flags (a *FlagError) for a mailbox of the command line.
func (m *Mailbox) Source(c *Common) (*Source, error) {
	after := mailsource.Action(cmpOr(m.After, string(mailsource.ActionMove)))
	switch after {
	case mailsource.ActionMove, mailsource.ActionSeen, mailsource.ActionDelete, mailsource.ActionNone:
	default:
		return nil, m.errorf("unknown %s %q: want move, seen, delete or none", m.key("after"), m.After)
	}
	s := &Source{Name: m.Name, After: after, ProcessedFolder: cmpOr(m.ProcessedFolder, DefaultProcessedFolder)}
	if after != mailsource.ActionNone {
		s.UnrecognizedFolder = DefaultUnrecognizedFolder
		if m.UnrecognizedFolder != nil {
			s.UnrecognizedFolder = *m.UnrecognizedFolder
		}
	}
	switch {
	case m.IMAP == "" && m.Maildir == "":
		return nil, m.errorf("no mailbox: give %s URL or %s DIR", m.key("imap"), m.key("maildir"))
	case m.IMAP != "" && m.Maildir != "":
		return nil, m.errorf("give %s or %s, not both", m.key("imap"), m.key("maildir"))
	case m.Maildir != "":
		s.Maildir = m.Maildir
		s.MaildirOpts = mailsource.MaildirOptions{Action: after, ProcessedFolder: s.ProcessedFolder,
			UnrecognizedFolder: s.UnrecognizedFolder, Batch: c.FetchBatch}
		return s, nil
	}
	if err := m.imap(s, c); err != nil {
		return nil, err
	}
	return s, nil
}

// imap fills in the IMAP options of s.
func (m *Mailbox) imap(s *Source, c *Common) error {
	u, err := imapfetch.ParseURL(m.IMAP)
	if err != nil {
		return m.errorf("bad %s URL: %v", m.key("imap"), strings.TrimPrefix(err.Error(), imapfetch.ErrURL.Error()+": "))
	}
	s.IMAPURL = m.IMAP
	o := &s.IMAP
	o.CAFile, o.InsecurePlaintext = m.CAFile, m.InsecurePlaintext
	if m.InsecurePlaintext && u.Security == imapfetch.SecurityTLS {
		return m.errorf("%s applies to imap:// URLs only", m.key("insecure_plaintext"))
	}
	if err := m.secret(o); err != nil {
		return err
	}
	switch mech := imapfetch.Mechanism(strings.ToUpper(cmpOr(m.Auth, "auto"))); mech {
	case "AUTO":
	case imapfetch.MechanismPlain, imapfetch.MechanismLogin, imapfetch.MechanismXOAuth2, imapfetch.MechanismOAuthBearer:
		o.Mechanism = mech
	default:
		return m.errorf("unknown %s %q: want auto, plain, login, xoauth2 or oauthbearer", m.key("auth"), m.Auth)
	}
	o.MaxRetries = c.Retries
	if c.Retries == 0 {
		o.MaxRetries = -1 // imapfetch: negative means no retry
	}
	o.PollInterval, o.BatchSize, o.MaxMessageBytes = c.Poll, c.FetchBatch, c.MaxFetchBytes
	o.IOTimeout = c.IOTimeout
	o.IdleRecheck = c.IdleRecheck
	// A folder name the user did not give is bouncer's default: placed
	// under the server's personal namespace ("INBOX." on Courier-IMAP).
	if m.ProcessedFolder == "" {
		o.DefaultNamed |= imapfetch.FolderProcessed
	}
	if m.UnrecognizedFolder == nil {
		o.DefaultNamed |= imapfetch.FolderUnrecognized
	}
	switch s.After {
	case mailsource.ActionMove:
		o.Action, o.ProcessedMailbox = imapfetch.ActionMove, s.ProcessedFolder
	case mailsource.ActionSeen:
		o.Action = imapfetch.ActionFlag
	case mailsource.ActionDelete:
		o.Action = imapfetch.ActionDelete
	}
	o.UnrecognizedMailbox = s.UnrecognizedFolder
	return nil
}

// secret sets the one secret of the mailbox in o.
func (m *Mailbox) secret(o *imapfetch.Options) error {
	n := 0
	for _, f := range []string{m.PasswordFile, m.OAuthTokenFile, m.OAuthCredentials} {
		if f != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return m.errorf("give one of %s, %s and %s", m.key("password_file"), m.key("oauth_token_file"), m.key("oauth_credentials"))
	case m.OAuthCredentials != "":
		src, err := oauth.NewSource(m.OAuthCredentials, nil)
		if err != nil {
			return m.errorf("bad %s: %s; see bouncer auth -h", m.key("oauth_credentials"), strings.Join(strings.Fields(err.Error()), " "))
		}
		o.TokenSource = src
	case m.OAuthTokenFile != "":
		o.SecretFile, o.Mechanism = m.OAuthTokenFile, imapfetch.MechanismXOAuth2
	case m.PasswordFile != "":
		o.SecretFile = m.PasswordFile
	case os.Getenv(PasswordEnv) != "":
		o.SecretEnv = PasswordEnv
	default:
		return m.errorf("no password: give %s FILE, %s FILE, %s FILE or $%s", m.key("password_file"),
			m.key("oauth_credentials"), m.key("oauth_token_file"), PasswordEnv)
	}
	return nil
}

// Override sets the fields of m that the command line gave: set holds the
// flag names given (or set from the environment), flags their values.
func (m *Mailbox) Override(flags *Mailbox, set map[string]bool) {
	for name, pair := range map[string][2]*string{
		"password-file":     {&m.PasswordFile, &flags.PasswordFile},
		"oauth-token-file":  {&m.OAuthTokenFile, &flags.OAuthTokenFile},
		"oauth-credentials": {&m.OAuthCredentials, &flags.OAuthCredentials},
		"ca-file":           {&m.CAFile, &flags.CAFile},
		"auth":              {&m.Auth, &flags.Auth},
		"after":             {&m.After, &flags.After},
		"processed-folder":  {&m.ProcessedFolder, &flags.ProcessedFolder},
	} {
		if set[name] {
			*pair[0] = *pair[1]
		}
	}
	if set["password-file"] || set["oauth-token-file"] || set["oauth-credentials"] {
		// The secret given replaces the file's, of whatever kind.
		for _, f := range []struct {
			name string
			dst  *string
		}{{"password-file", &m.PasswordFile}, {"oauth-token-file", &m.OAuthTokenFile}, {"oauth-credentials", &m.OAuthCredentials}} {
			if !set[f.name] {
				*f.dst = ""
			}
		}
	}
	if set["unrecognized-folder"] {
		m.UnrecognizedFolder = flags.UnrecognizedFolder
	}
	if set["insecure-plaintext"] {
		m.InsecurePlaintext = flags.InsecurePlaintext
	}
}

// ReadOnly makes s act on no message: nothing is moved, flagged or
// deleted (for a dry run). After and the folders still say what a real
// run would do.
func (s *Source) ReadOnly() {
	o := &s.IMAP
	o.Action, o.UnrecognizedMailbox, o.FailedMailbox, o.ProcessedMailbox = imapfetch.ActionNone, "", "", ""
	s.MaildirOpts.Action, s.MaildirOpts.UnrecognizedFolder = mailsource.ActionNone, ""
}

// Check refuses settings of c that would mean "the default" by accident,
// naming the flags.
func (c *Common) Check() error {
	switch {
	case c.Poll <= 0:
		return &FlagError{Msg: "--poll must be positive"}
	case c.IdleRecheck < 0:
		return &FlagError{Msg: "--idle-recheck must not be negative"}
	case c.FetchBatch < 1:
		return &FlagError{Msg: "--fetch-batch must be at least 1"}
	case c.MaxFetchBytes == 0:
		return &FlagError{Msg: "--max-fetch-bytes must not be 0 (-1: no cap)"}
	case c.Retries < 0:
		return &FlagError{Msg: "--retries must not be negative"}
	case c.IOTimeout <= 0:
		return &FlagError{Msg: "--io-timeout must be positive"}
	}
	return nil
}
