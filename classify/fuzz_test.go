package classify

import (
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/stretchr/testify/require"
)

// FuzzClassify checks that no input makes Classify panic and that every
// result is a reason of the taxonomy with its own category.
func FuzzClassify(f *testing.F) {
	for _, r := range seedRows {
		f.Add(r.line, "", "", "", "")
	}
	f.Add("550-5.7.1 multi 550-5.7.1 line", "5.7.1", "550", "DATA", "failed")
	f.Add("ofr_", "4.", "5", "MAIL", "delayed")
	f.Add("lpn007_4", "5.1.", "", "", "")
	f.Add("\xff\xfe user unknown", "5.0.0 (comment)", "550", "", "")
	f.Fuzz(func(t *testing.T, diag, status, reply, command, action string) {
		for _, k := range []dsn.Kind{dsn.KindDSN, dsn.KindBounce} {
			r := Classify(Input{Kind: k, Diagnostic: diag, Status: status, ReplyCode: reply, Command: dsn.Command(command), Action: dsn.Action(action)})
			require.True(t, r.Reason.Valid(), "Classify(%q, %q, %q) = invalid reason %q", diag, status, reply, r.Reason)
			require.Equal(t, r.Reason.Category(), r.Category, "Classify: category for reason %s", r.Reason)
		}
	})
}

// FuzzParseRules checks that no rules file makes ParseRules or New panic,
// and that every rule it accepts compiles and names a reason of the
// taxonomy.
func FuzzParseRules(f *testing.F) {
	f.Add("mailbox has been retired suspend\n/quota (is )?exhausted/ mailboxfull\n# comment\n")
	f.Add("/[/ blocked\n")
	f.Add("no mailbox (#5.1.1) here userunknown")
	f.Fuzz(func(t *testing.T, text string) {
		rules, err := ParseRules(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, r := range rules {
			require.True(t, r.Reason.Valid(), "ParseRules(%q) accepted reason %q", text, r.Reason)
		}
		c, err := New(&Options{Rules: rules})
		require.NoError(t, err, "New(rules of %q)", text)
		c.Classify(Input{Kind: dsn.KindDSN, Diagnostic: text})
	})
}
