package suppress

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/textcut"
)

// Format is a layout of the suppression list.
type Format string

const (
	// FormatGeneric (the default): the full evidence, header
	// email,category,reason,status,reply_code,diagnostic,bounces,first_bounce,last_bounce,permanent;
	// permanent is "true" when the latest event was a permanent but
	// unexplained failure (Entry.Permanent), else "false".
	FormatGeneric Format = "generic"
	// FormatListmonk: email,name,attributes for listmonk's subscriber import
	// in "blocklist" mode; name is the local part, attributes a JSON object
	// with the evidence.
	FormatListmonk Format = "listmonk"
	// FormatMailchimp: "Email Address" first, then Reason, Category,
	// Status, Diagnostic and Last Bounce, for an audience import that
	// archives or unsubscribes the addresses.
	FormatMailchimp Format = "mailchimp"
	// FormatMautic: email,doNotEmail with doNotEmail=1, which Mautic's
	// contact import turns into a Do Not Contact entry.
	FormatMautic Format = "mautic"
	// FormatMailgun: address,tags,created_at as Mailgun's unsubscribes CSV
	// import takes it; tags is "*" (every tag) and created_at the last
	// bounce in RFC 2822 form ("Mon, 02 Jan 2006 15:04:05 +0000").
	FormatMailgun Format = "mailgun"
	// FormatMailgunBounces: address,code,error,created_at as Mailgun's
	// bounces CSV import takes it; code is the SMTP reply code when the
	// bounce had a three-digit one (empty otherwise: Mailgun then assumes
	// 550), error the diagnostic, created_at the last bounce in RFC 2822
	// form.
	FormatMailgunBounces Format = "mailgun-bounces"
	// FormatMailgunComplaints: address,created_at as Mailgun's complaints
	// CSV import takes it, created_at in RFC 2822 form; complaints only,
	// whatever the entries given.
	FormatMailgunComplaints Format = "mailgun-complaints"
	// FormatPlain: one address a line, no header, LF line ends (phpList,
	// Mailman, Sendy).
	FormatPlain Format = "plain"
)

// ErrUnknownFormat reports a format name that ParseFormat does not know.
var ErrUnknownFormat = errors.New("suppress: unknown format")

// Formats returns every format, the default first.
func Formats() []Format {
	return []Format{FormatGeneric, FormatListmonk, FormatMailchimp, FormatMautic, FormatMailgun,
		FormatMailgunBounces, FormatMailgunComplaints, FormatPlain}
}

// ParseFormat returns the format named s (case-insensitive); "" is
// FormatGeneric.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatGeneric, nil
	}
	for _, f := range Formats() {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, s, strings.Join(names, ", "))
}

// MaxDiagnostic is the most bytes of a diagnostic written to a list, after
// its white space is collapsed; a longer one is cut and ends with "…".
const MaxDiagnostic = 300

// WriteCSV writes entries to w in format f (empty f is FormatGeneric),
// sorted by address. The output is UTF-8 without a byte order mark, RFC 4180
// with CRLF line ends (FormatPlain: LF), and depends on the entries alone:
// dates are their bounce dates, in UTC.
//
// Cells with text from a remote server (reason, status, reply code,
// diagnostic…) are neutralised against spreadsheet formula injection, as
// OWASP recommends: a cell starting with "=", "+", "-", "@", a tab or a
// carriage return gets a leading "'". Diagnostics are collapsed to one line
// and cut to MaxDiagnostic bytes. The address column is written as it is:
// NormalizeAddress already refuses addresses that could start a formula.
func WriteCSV(w io.Writer, f Format, entries []Entry) error {
	if f == "" {
		f = FormatGeneric
	}
	es := append([]Entry(nil), entries...)
	if f == FormatMailgunComplaints {
		// Mailgun's complaints list means "this person reported spam":
		// a hard bounce there would be a false accusation.
		es = slices.DeleteFunc(es, func(e Entry) bool { return e.Category != classify.CategoryComplaint })
	}
	sortEntries(es)

	if f == FormatPlain {
		var b bytes.Buffer
		for _, e := range es {
			b.WriteString(e.Address)
			b.WriteByte('\n')
		}
		_, err := w.Write(b.Bytes())
		return wrapWrite(err)
	}

	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	var header []string
	var row func(Entry) []string
	switch f {
	case FormatGeneric:
		header = []string{"email", "category", "reason", "status", "reply_code", "diagnostic", "bounces", "first_bounce", "last_bounce", "permanent"}
		row = func(e Entry) []string {
			return []string{e.Address, DefuseFormula(string(e.Category)), DefuseFormula(string(e.Reason)), DefuseFormula(e.Status),
				DefuseFormula(e.ReplyCode), DefuseFormula(oneLine(e.Diagnostic)), strconv.Itoa(e.Bounces),
				rfc3339(e.FirstBounce), rfc3339(e.LastBounce), strconv.FormatBool(e.Permanent)}
		}
	case FormatListmonk:
		header = []string{"email", "name", "attributes"}
		row = func(e Entry) []string {
			return []string{e.Address, DefuseFormula(localPart(e.Address)), listmonkAttributes(e)}
		}
	case FormatMailchimp:
		header = []string{"Email Address", "Reason", "Category", "Status", "Diagnostic", "Last Bounce"}
		row = func(e Entry) []string {
			// Mailchimp's text fields hold 255 bytes and its date
			// fields take YYYY-MM-DD.
			return []string{e.Address, mailchimpText(string(e.Reason)), mailchimpText(string(e.Category)), mailchimpText(e.Status),
				mailchimpText(oneLine(e.Diagnostic)), e.LastBounce.UTC().Format("2006-01-02")}
		}
	case FormatMautic:
		header = []string{"email", "doNotEmail"}
		row = func(e Entry) []string { return []string{e.Address, "1"} }
	case FormatMailgun:
		header = []string{"address", "tags", "created_at"}
		row = func(e Entry) []string {
			return []string{e.Address, "*", e.LastBounce.UTC().Format(time.RFC1123Z)}
		}
	case FormatMailgunBounces:
		header = []string{"address", "code", "error", "created_at"}
		row = func(e Entry) []string {
			return []string{e.Address, replyCode(e.ReplyCode), DefuseFormula(oneLine(e.Diagnostic)),
				e.LastBounce.UTC().Format(time.RFC1123Z)}
		}
	case FormatMailgunComplaints:
		header = []string{"address", "created_at"}
		row = func(e Entry) []string {
			return []string{e.Address, e.LastBounce.UTC().Format(time.RFC1123Z)}
		}
	default:
		return fmt.Errorf("%w %q", ErrUnknownFormat, f)
	}
	if err := cw.Write(header); err != nil {
		return wrapWrite(err)
	}
	for _, e := range es {
		if err := cw.Write(row(e)); err != nil {
			return wrapWrite(err)
		}
	}
	cw.Flush()
	return wrapWrite(cw.Error())
}

func wrapWrite(err error) error {
	if err != nil {
		return fmt.Errorf("suppress: write list: %w", err)
	}
	return nil
}

// listmonkAttributes is the JSON object of an entry's evidence, with a fixed
// key order.
func listmonkAttributes(e Entry) string {
	a := struct {
		Category    classify.Category `json:"bounce_category"`
		Reason      classify.Reason   `json:"bounce_reason"`
		Status      string            `json:"status,omitempty"`
		ReplyCode   string            `json:"reply_code,omitempty"`
		Diagnostic  string            `json:"diagnostic,omitempty"`
		Bounces     int               `json:"bounces"`
		FirstBounce string            `json:"first_bounce"`
		LastBounce  string            `json:"last_bounce"`
	}{e.Category, e.Reason, e.Status, e.ReplyCode, oneLine(e.Diagnostic), e.Bounces,
		rfc3339(e.FirstBounce), rfc3339(e.LastBounce)}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return "{}" // cannot happen: strings and ints only
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

// DefuseFormula neutralises a CSV cell against spreadsheet formula
// injection (OWASP "CSV Injection"): a leading "=", "+", "-", "@", tab or
// carriage return gets a "'" before it, which spreadsheets take as "this is
// text".
func DefuseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// oneLine folds s onto one line of at most MaxDiagnostic bytes, ending in
// "…" when cut.
func oneLine(s string) string { return textcut.Ellipsis(textcut.OneLine(s), MaxDiagnostic) }

// WriteFile writes entries in format f to path atomically: to a temporary
// file in the same directory, synced, then renamed over path, so a reader
// sees the old list or the new one, never a part. A new file gets the mode
// the umask gives (0666 less the umask, as a shell's > does); a file
// that exists keeps its mode.
func WriteFile(path string, f Format, entries []Entry) error {
	var b bytes.Buffer
	if err := WriteCSV(&b, f, entries); err != nil {
		return err
	}
	return writeAtomic(path, b.Bytes())
}

// Category files written by WriteDir.
const (
	FileHard      = "hard.csv"
	FileSoft      = "soft.csv"
	FilePolicy    = "policy.csv"
	FileComplaint = "complaint.csv"
)

// WriteDir writes one list per category into dir (created if missing), each
// with WriteFile: hard.csv, soft.csv and complaint.csv from l.Suppressed,
// policy.csv from l.Policy (the report, whether or not those addresses are
// suppressed). Every file is written, empty lists too, so no stale list is
// left behind. It returns the paths written, in that order.
func WriteDir(dir string, f Format, l Lists) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	byCat := make(map[classify.Category][]Entry)
	for _, e := range l.Suppressed {
		byCat[e.Category] = append(byCat[e.Category], e)
	}
	files := []struct {
		name    string
		entries []Entry
	}{
		{FileHard, byCat[classify.CategoryHard]},
		{FileSoft, byCat[classify.CategorySoft]},
		{FilePolicy, l.Policy},
		{FileComplaint, byCat[classify.CategoryComplaint]},
	}
	var paths []string
	for _, fl := range files {
		p := filepath.Join(dir, fl.name)
		if err := WriteFile(p, f, fl.entries); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// listMode is the mode a new list is created with, less the umask.
const listMode = 0o666

// maxTempTries bounds the names createTemp tries.
const maxTempTries = 100

// createTemp creates a new file in dir named prefix and a random suffix,
// with listMode less the umask (os.CreateTemp's files are 0600 whatever
// the umask).
func createTemp(dir, prefix string) (*os.File, error) {
	var err error
	for range maxTempTries {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, listMode)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}

// writeAtomic writes data to path by way of a synced temporary file in the
// same directory and a rename, then syncs the directory.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := createTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("suppress: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("suppress: write %s: %w", path, err)
	}
	if fi, serr := os.Stat(path); serr == nil {
		if err = tmp.Chmod(fi.Mode().Perm()); err != nil {
			return fmt.Errorf("suppress: write %s: %w", path, err)
		}
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("suppress: write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("suppress: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("suppress: write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

// MaxMailchimpText is the size of a Mailchimp text field, in bytes.
const MaxMailchimpText = 255

// mailchimpText is a Mailchimp text cell: defused, then cut to
// MaxMailchimpText bytes at a rune boundary, ending in "…" when cut.
func mailchimpText(s string) string {
	s = DefuseFormula(s)
	if len(s) <= MaxMailchimpText {
		return s
	}
	return textcut.Ellipsis(s, MaxMailchimpText)
}

// replyCode is c when it is a three-digit SMTP reply code (RFC 5321
// section 4.2), else "".
func replyCode(c string) string {
	if len(c) != 3 || c[0] < '2' || c[0] > '5' {
		return ""
	}
	for i := 1; i < 3; i++ {
		if c[i] < '0' || c[i] > '9' {
			return ""
		}
	}
	return c
}
