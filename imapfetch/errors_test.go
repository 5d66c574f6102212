package imapfetch

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/faultproxy"
	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestErrorText(t *testing.T) {
	cause := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "no\r\nway"}
	e := &Error{Kind: KindRefused, Addr: "127.0.0.1:993", Mailbox: "done", Op: "UID MOVE", Err: cause}
	assert.Equal(t, `imapfetch: server refused command permanently: 127.0.0.1:993: UID MOVE "done": imap: NO [CANNOT] no way`, e.Error())
	assert.ErrorIs(t, e, ErrRefused)
	var got *imap.Error
	require.ErrorAs(t, e, &got)
	assert.Equal(t, imap.ResponseCodeCannot, got.Code)

	e = &Error{Kind: KindDisconnected, Err: errors.New("EOF")}
	assert.Equal(t, "imapfetch: connection lost: EOF", e.Error())
	assert.ErrorIs(t, e, ErrConnection)
}

func TestErrorRetryable(t *testing.T) {
	refused := &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusBadRequest}, ErrorCode: "invalid_grant"}
	unavailable := &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusServiceUnavailable}}
	tests := []struct {
		name string
		err  *Error
		want bool
	}{
		{"unreachable", &Error{Kind: KindUnreachable}, true},
		{"disconnected", &Error{Kind: KindDisconnected}, true},
		{"transient NO", &Error{Kind: KindServer}, true},
		{"refused", &Error{Kind: KindRefused}, false},
		{"auth", &Error{Kind: KindAuth}, false},
		{"token endpoint down", &Error{Kind: KindToken, Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, true},
		{"token endpoint 503", &Error{Kind: KindToken, Err: unavailable}, true},
		{"refresh token revoked", &Error{Kind: KindToken, Err: refused}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Retryable(), "Retryable()")
			assert.Equal(t, !tc.want, permanent(tc.err), "permanent()")
		})
	}
}

func TestRefusedForGood(t *testing.T) {
	tests := []struct {
		typ  imap.StatusResponseType
		code imap.ResponseCode
		want bool
	}{
		{imap.StatusResponseTypeNo, imap.ResponseCodeCannot, true},
		{imap.StatusResponseTypeNo, imap.ResponseCodeNoPerm, true},
		{imap.StatusResponseTypeNo, imap.ResponseCodeOverQuota, true},
		{imap.StatusResponseTypeNo, imap.ResponseCodeTryCreate, true},
		{imap.StatusResponseTypeBad, "", true},
		{imap.StatusResponseTypeNo, "", false},
		{imap.StatusResponseTypeNo, imap.ResponseCodeUnavailable, false},
		{imap.StatusResponseTypeNo, imap.ResponseCodeInUse, false},
		{imap.StatusResponseTypeNo, imap.ResponseCodeServerBug, false},
	}
	for _, tc := range tests {
		got := refusedForGood(&imap.Error{Type: tc.typ, Code: tc.code})
		assert.Equal(t, tc.want, got, "refusedForGood(%s [%s])", tc.typ, tc.code)
	}
}

// A connection reset after login is "connection lost", not "unreachable"
// (issue 14 item 7).
func TestErrorKindOfConnectionFaults(t *testing.T) {
	srv := startMem(t, capsRev2)
	m := bytes.Replace(testMessage(0, 3000), []byte("xxxxxxxxxx"), []byte("CUT-HERE!!"), 1)
	srv.append(t, "INBOX", m)
	proxy := faultproxy.Cut(t, srv.addr, []byte("CUT-HERE!!"))
	opts := testOptions(t, testPassword)
	opts.MaxRetries = -1
	f := dialTest(t, strings.Replace(srv.url("INBOX"), srv.addr, proxy.Addr, 1), opts)
	_, err := f.Fetch(context.Background(), &MemState{}, newRecorder().handle)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, KindDisconnected, e.Kind, "error %v", err)
	assert.Equal(t, proxy.Addr, e.Addr)
	assert.Equal(t, "INBOX", e.Mailbox)
	assert.ErrorIs(t, err, ErrConnection)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	ln.Close()
	_, err = Dial(context.Background(), "imap://bounce@"+dead+"/INBOX", opts)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, KindUnreachable, e.Kind)
	assert.Equal(t, dead, e.Addr)
	assert.Equal(t, "connect", e.Op)
}
