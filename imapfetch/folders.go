package imapfetch

import (
	"errors"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Folder names one of the destination folders of Options, as a bit of a
// FolderSet.
type Folder uint8

// The destination folders of Options.
const (
	// FolderProcessed is Options.ProcessedMailbox.
	FolderProcessed Folder = 1 << iota
	// FolderUnrecognized is Options.UnrecognizedMailbox.
	FolderUnrecognized
	// FolderFailed is Options.FailedMailbox.
	FolderFailed
)

// Folders are the destination folders a Fetcher uses, as the server names
// them once the personal namespace is applied (see Options.DefaultNamed),
// with the namespace found on the server. An empty folder means the
// messages concerned stay in place.
type Folders struct {
	Processed    string
	Unrecognized string
	Failed       string
	// Prefix and Delimiter are the personal namespace of the server
	// (RFC 2342 section 5): "INBOX." and '.' on Courier-IMAP and on Cyrus
	// without altnamespace, "" and '/' or '.' on Dovecot, Gmail and
	// Microsoft 365. Delimiter is 0 when the server did not say.
	Prefix    string
	Delimiter rune
}

// namespace asks the server for its personal namespace: NAMESPACE
// (RFC 2342, part of IMAP4rev2) when offered, else LIST "" "" (RFC 3501
// section 6.3.8), which gives the hierarchy delimiter only. A server that
// answers neither gets an empty prefix.
func (s *session) namespace() (prefix string, delim rune) {
	s.arm()
	defer s.disarm()
	if s.caps.Has(imap.CapNamespace) || s.caps.Has(imap.CapIMAP4rev2) {
		data, err := s.c.Namespace().Wait()
		if err == nil && len(data.Personal) > 0 {
			return data.Personal[0].Prefix, data.Personal[0].Delim
		}
		s.log.Warn("imapfetch: NAMESPACE failed; folders are made at the top level", "addr", s.addr, "err", err)
	}
	list, err := s.c.List("", "", nil).Collect()
	if err == nil && len(list) > 0 {
		return "", list[0].Delim
	}
	return "", 0
}

// placeFolders puts the folders of o named in o.DefaultNamed under the
// personal namespace prefix of the server, and returns the folders used.
func placeFolders(o *Options, prefix string, delim rune) Folders {
	names := Folders{Unrecognized: o.UnrecognizedMailbox, Failed: o.FailedMailbox, Prefix: prefix, Delimiter: delim}
	if o.Action == ActionMove {
		names.Processed = o.ProcessedMailbox
	}
	fs := names.place(o.DefaultNamed)
	o.UnrecognizedMailbox, o.FailedMailbox = fs.Unrecognized, fs.Failed
	if o.Action == ActionMove {
		o.ProcessedMailbox = fs.Processed
	}
	return fs
}

// place returns fs with the folders named in defaultNamed under fs.Prefix.
// A prefix is added only to a name that does not already start with it.
func (fs Folders) place(defaultNamed Folder) Folders {
	for _, f := range []struct {
		bit  Folder
		name *string
	}{
		{FolderProcessed, &fs.Processed},
		{FolderUnrecognized, &fs.Unrecognized},
		{FolderFailed, &fs.Failed},
	} {
		if defaultNamed&f.bit == 0 || *f.name == "" || fs.Prefix == "" {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(*f.name), strings.ToUpper(fs.Prefix)) {
			*f.name = fs.Prefix + *f.name
		}
	}
	return fs
}

// Folders returns the destination folders the Fetcher moves messages to,
// as placed in the server's personal namespace when it connected.
func (f *Fetcher) Folders() Folders { return f.folders }

// PlaceFolders returns the folders of names as the Fetcher would use them:
// those named in defaultNamed placed under the server's personal
// namespace, the others as given. It tells a dry run, whose Fetcher moves
// nothing, which folders a real run would use. The namespace is asked only
// when Options.DefaultNamed is set.
func (f *Fetcher) PlaceFolders(names Folders, defaultNamed Folder) Folders {
	names.Prefix, names.Delimiter = f.folders.Prefix, f.folders.Delimiter
	return names.place(defaultNamed)
}

// folderExists looks mailbox up with LIST (RFC 3501 section 6.3.8): it
// exists when listed without \NonExistent or \Noselect.
func (s *session) folderExists(mailbox string) (bool, error) {
	list, err := s.c.List("", mailbox, nil).Collect()
	if err != nil {
		return false, err
	}
	for _, l := range list {
		if l.Mailbox != mailbox && !strings.EqualFold(l.Mailbox, mailbox) {
			continue
		}
		if slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) || slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) {
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// ensureFolder creates mailbox when LIST does not show it. It returns an
// error naming LIST or CREATE; a refused CREATE is permanent (KindRefused),
// whatever the code: the mailbox is missing and cannot be made.
func (s *session) ensureFolder(mailbox string) error {
	exists, err := s.folderExists(mailbox)
	if err != nil {
		return s.wrapIn("LIST", mailbox, err)
	}
	if exists {
		return nil
	}
	s.log.Info("imapfetch: creating folder", "addr", s.addr, "folder", mailbox)
	if err := s.c.Create(mailbox, nil).Wait(); err != nil && !alreadyExists(err) {
		return refusedFor(s.wrapIn("CREATE", mailbox, err))
	}
	return nil
}

// refusedFor makes a server's NO or BAD answer in err permanent: the
// command was refused after the folder was checked, so repeating it would
// get the same answer. Errors of the connection are kept as they are.
func refusedFor(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	var imapErr *imap.Error
	if e.Kind == KindServer && errors.As(e.Err, &imapErr) && !transientCode(imapErr) {
		e.Kind = KindRefused
	}
	return e
}

// folderRefusal reports whether err is a server's NO that may come from a
// missing folder: no response code (Courier-IMAP 5.0: "Mailbox does not
// exist"; Cyrus 3.6: "Mailbox does not exist"), or TRYCREATE or
// NONEXISTENT (RFC 5530 section 3), however placed (see responseCode).
func folderRefusal(err error) bool {
	var imapErr *imap.Error
	if !errors.As(err, &imapErr) || imapErr.Type == imap.StatusResponseTypeBye {
		return false
	}
	switch responseCode(imapErr) {
	case "", imap.ResponseCodeTryCreate, imap.ResponseCodeNonExistent:
		return imapErr.Type == imap.StatusResponseTypeNo
	}
	return false
}

// transientCode reports whether the response code of e says that the same
// command may succeed later (RFC 5530 section 3).
func transientCode(e *imap.Error) bool {
	switch responseCode(e) {
	case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeServerBug,
		imap.ResponseCodeLimit, "EXPUNGEISSUED", imap.ResponseCodeCorruption:
		return true
	}
	return false
}

// maxCodeLead caps the words read before a response code found in the
// text of an answer (see responseCode).
const maxCodeLead = 3

// responseCode returns the response code of e: e.Code, or, when the
// server wrote the code after the command's name rather than first
// (GNU Mailutils imap4d 3.15 answers "A1 NO COPY [TRYCREATE] failed":
// its io_format_completion_response prints the command name before the
// text), the bracketed atom that follows at most maxCodeLead words.
func responseCode(e *imap.Error) imap.ResponseCode {
	if e.Code != "" {
		return e.Code
	}
	words := strings.Fields(e.Text)
	for i, w := range words {
		if i > maxCodeLead {
			break
		}
		if strings.HasPrefix(w, "[") {
			code, _, _ := strings.Cut(strings.TrimPrefix(w, "["), "]")
			return imap.ResponseCode(strings.ToUpper(code))
		}
		if strings.ToUpper(w) != w { // a command name is all capitals
			break
		}
	}
	return ""
}
