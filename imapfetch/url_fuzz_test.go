package imapfetch

import (
	"github.com/stretchr/testify/require"
	"testing"
)

// FuzzParseURL checks that no URL makes ParseURL panic, and that a URL it
// accepts names a host, a port and a mailbox, and survives a round trip.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"imaps://bounce@mail.example.org/INBOX", "imap://u%40x@[::1]:1143/Bounces/2026",
		"imaps://a@b", "imap://@/", "imaps://user:pw@host/INBOX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw)
		if err != nil {
			return
		}
		require.NotEqual(t, "", u.Host, "ParseURL(%q)", raw)
		require.Greater(t, u.Port, 0, "ParseURL(%q)", raw)
		require.LessOrEqual(t, u.Port, 65535, "ParseURL(%q)", raw)
		require.NotEqual(t, "", u.Mailbox, "ParseURL(%q)", raw)
		v, err := ParseURL(u.String())
		require.NoError(t, err, "ParseURL(%q).String()", raw)
		require.Equal(t, *u, *v, "ParseURL(%q).String()", raw)
	})
}
