package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"

	mtextproto "github.com/emersion/go-message/textproto"
)

// maxHeaderFields caps the fields kept from one header section.
const maxHeaderFields = 500

// skippedFields are header fields that say nothing a bounce processor needs
// and make up most of a header's bytes: trace and authentication fields,
// and Microsoft's and Google's internal ones. Their values are not kept.
var skippedFields = []string{"received", "dkim-signature", "arc-", "x-google-", "authentication-results",
	"received-spf", "x-received", "x-ms-exchange-", "x-microsoft-", "x-forefront-", "x-ms-", "x-eopattributedmessage",
	"x-originatororg", "x-gm-message-state", "x-gm-", "domainkey-signature", "x-ses-", "feedback-id", "x-sg-",
	"x-proofpoint-", "x-mimecast-", "x-spam-", "x-virus-"}

func skippedField(key []byte) bool {
	for _, s := range skippedFields {
		if len(key) >= len(s) && bytes.EqualFold(key[:len(s)], []byte(s)) {
			if s[len(s)-1] == '-' || len(key) == len(s) {
				return true
			}
		}
	}
	return false
}

// readHeader reads one header section (RFC 5322 section 2.2) from br, up to
// and including the blank line that ends it.
//
// It is more lenient than go-message's textproto.ReadHeader, and cheaper: a
// line that is no field (no colon, or a bad name) is skipped instead of
// ending the header; the values of skippedFields are not stored; folded
// lines are unfolded. It returns io.EOF (with what was read) when the input
// ends before the blank line.
func readHeader(br *bufio.Reader) (mtextproto.Header, error) {
	var h mtextproto.Header
	var key string
	var val []byte
	skip := false
	fields := 0
	flush := func() {
		if key != "" && !skip && fields < maxHeaderFields {
			h.Add(key, strings.TrimSpace(string(val)))
			fields++
		}
		key, val, skip = "", val[:0], false
	}
	for {
		line, err := readHeaderLine(br)
		if len(line) == 0 && err != nil {
			flush()
			if err == io.EOF {
				return h, io.EOF
			}
			return h, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			flush()
			return h, nil
		}
		line = bytes.TrimRight(line, "\r\n")
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" && !skip && len(val) < maxFieldLine {
				val = append(val, ' ')
				val = append(val, bytes.TrimSpace(line)...)
			}
			continue
		}
		flush()
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !validFieldName(bytes.TrimRight(line[:i], " \t")) {
			// QUIRK: a line that is no field inside a header (a
			// stray base64 line, testdata/lhost-office365-08.eml): skipped.
			continue
		}
		name := bytes.TrimRight(line[:i], " \t")
		if skippedField(name) {
			key, skip = "x", true
			continue
		}
		key = textproto.CanonicalMIMEHeaderKey(string(name))
		val = append(val[:0], line[i+1:]...)
		if err != nil {
			flush()
			return h, err
		}
	}
}

// readHeaderLine reads one line, at most maxFieldLine bytes of it (the rest
// of a longer line is dropped).
func readHeaderLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line) < maxFieldLine {
			line = append(line, frag[:min(len(frag), maxFieldLine-len(line))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// validFieldName reports whether b is a field name (RFC 5322 section 3.6.8:
// printable ASCII but colon).
func validFieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
