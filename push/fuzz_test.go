package push

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
		assert.NoError(t, err, "ParseTarget(%q).String()", s)
		assert.Equal(t, tg.String(), again.String(), "ParseTarget(%q).String()", s)
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
