package push

import (
	"testing"
)

// FuzzParseTarget: any --push value yields a target whose String parses to
// itself, or ErrBadTarget; never a panic.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"listmonk=https://lists.example.org/", "mautic=http://127.0.0.1:8080/m",
		"webhook=https://h.example/x?y=1", "webhook=https://u:p@h.example", "=", "listmonk=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(tg.String())
		if err != nil || again.String() != tg.String() {
			t.Errorf("ParseTarget(%q).String() = %q does not parse to itself: %q, %v", s, tg, again, err)
		}
	})
}

// FuzzParseMauticContacts: any answer to a contact search is read or
// refused, never a panic.
func FuzzParseMauticContacts(f *testing.F) {
	for _, s := range []string{`{"total":"1","contacts":{"47":{"id":47,"fields":{"all":{"email":"a@example.com"}}}}}`,
		`{"total":0,"contacts":[]}`, `{"contacts":[{"id":"3"}]}`, `{}`, `[]`, `{"contacts":{"1":{"id":1e99}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parseMauticContacts(b)
	})
}
