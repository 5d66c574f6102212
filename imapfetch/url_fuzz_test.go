package imapfetch

import "testing"

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
		if u.Host == "" || u.Port <= 0 || u.Port > 65535 || u.Mailbox == "" {
			t.Fatalf("ParseURL(%q) = %+v: incomplete", raw, u)
		}
		v, err := ParseURL(u.String())
		if err != nil || *v != *u {
			t.Fatalf("ParseURL(%q).String() = %q, which parses to %+v, %v", raw, u.String(), v, err)
		}
	})
}
