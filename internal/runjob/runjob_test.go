package runjob

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bouncer-dev/bouncer/config"
	"github.com/bouncer-dev/bouncer/imapfetch"
)

func TestDescribeError(t *testing.T) {
	mb := &config.Source{IMAPURL: "imaps://bounce@127.0.0.1:993/INBOX"}
	cfg := &Config{Mailboxes: []*config.Source{mb}}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&imapfetch.Error{Kind: imapfetch.KindAuth, Addr: "127.0.0.1:993", Op: `AUTHENTICATE PLAIN as "bounce"`, Err: errors.New("NO [AUTHENTICATIONFAILED] Authentication failed.")},
			`bouncer: imap: login failed for bounce@127.0.0.1: AUTHENTICATE PLAIN as "bounce": NO [AUTHENTICATIONFAILED] Authentication failed.`},
		{&imapfetch.Error{Kind: imapfetch.KindUnreachable, Addr: "127.0.0.1:993", Op: "connect", Err: errors.New("dial tcp 127.0.0.1:993: connect: connection refused")},
			"bouncer: imap: cannot reach 127.0.0.1:993: connect: dial tcp 127.0.0.1:993: connect: connection refused"},
		{fmt.Errorf("%w (gave up after 6 attempts)", &imapfetch.Error{Kind: imapfetch.KindDisconnected, Addr: "127.0.0.1:993", Mailbox: "INBOX", Op: "UID FETCH", Err: errors.New("read tcp: connection reset by peer")}),
			"bouncer: imap: lost the connection to 127.0.0.1:993: UID FETCH: read tcp: connection reset by peer (gave up after 6 attempts)"},
		{&imapfetch.Error{Kind: imapfetch.KindMailbox, Addr: "127.0.0.1:993", Mailbox: "INBOX", Op: "SELECT", Err: errors.New("NO no such\nmailbox")},
			`bouncer: imap: cannot open mailbox "INBOX": SELECT: NO no such mailbox`},
		{&imapfetch.Error{Kind: imapfetch.KindRefused, Addr: "127.0.0.1:993", Mailbox: "bounces.done", Op: "UID MOVE", Err: errors.New("NO [CANNOT] Character not allowed")},
			`bouncer: imap: 127.0.0.1:993 refused UID MOVE "bounces.done" for good: NO [CANNOT] Character not allowed`},
		{errors.New("suppress: disk full"), "bouncer: suppress: disk full"},
	} {
		if got := describeError(&mailboxError{mb: mb, err: tc.err}, cfg); got != tc.want {
			t.Errorf("describeError(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
