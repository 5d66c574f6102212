package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// Output field names, in order. The evidence field follows them with
// --explain.
var fieldNames = [...]string{
	"source", "recipient", "category", "reason", "status", "reply_code",
	"action", "diagnostic", "remote_mta", "reporting_mta", "kind",
	"original_message_id", "sender", "date", "error",
}

const evidenceField = "evidence"

// remoteField marks the fields whose text comes from the message (or may
// quote it): in CSV they are guarded against formula injection.
var remoteField = [len(fieldNames) + 1]bool{
	false, true, false, false, true, true,
	true, true, true, true, false,
	true, true, false, true,
	true, // evidence
}

// format is an output format of parse.
type format string

const (
	formatJSONL format = "jsonl"
	formatCSV   format = "csv"
)

// values puts the fields of r into v, in fieldNames order, and with
// explain the evidence last.
func (r *Record) values(v *[len(fieldNames) + 1]string, explain bool) {
	v[0] = r.Source
	v[1] = r.Recipient
	v[2] = string(r.Category)
	v[3] = string(r.Reason)
	v[4] = r.Status
	v[5] = r.ReplyCode
	v[6] = r.Action
	v[7] = r.Diagnostic
	v[8] = r.RemoteMTA
	v[9] = r.ReportingMTA
	v[10] = string(r.Kind)
	v[11] = r.OriginalMessageID
	v[12] = r.Sender
	v[13] = ""
	if !r.Date.IsZero() {
		v[13] = r.Date.Format(time.RFC3339)
	}
	v[14] = ""
	if r.Err != nil {
		v[14] = r.Err.Error()
	}
	v[15] = ""
	if explain {
		v[15] = evidenceString(r)
	}
}

// evidenceString renders what decided the classification.
func evidenceString(r *Record) string {
	if r.Evidence == (classify.Evidence{}) {
		return ""
	}
	return r.Evidence.String()
}

// encoder renders records. Each worker has its own.
type encoder interface {
	// header returns what starts the output.
	header() []byte
	// encode appends the rendering of recs to dst.
	encode(dst []byte, recs []Record) []byte
}

func newEncoder(f format, explain bool) (encoder, error) {
	switch f {
	case formatJSONL, "":
		return jsonEncoder{explain: explain}, nil
	case formatCSV:
		e := &csvEncoder{explain: explain}
		e.w = csv.NewWriter(&e.buf)
		return e, nil
	}
	return nil, fmt.Errorf("unknown format %q (want jsonl or csv)", f)
}

// jsonEncoder writes JSON Lines, one object per record, with every field
// present (an empty string when unknown).
type jsonEncoder struct {
	explain bool
}

// jsonKeys are the keys with their punctuation: `{"source":`, `,"recipient":`…
var jsonKeys = func() (k [len(fieldNames) + 1]string) {
	for i, n := range fieldNames {
		k[i] = `,"` + n + `":`
	}
	k[0] = "{" + k[0][1:]
	k[len(fieldNames)] = `,"` + evidenceField + `":`
	return k
}()

func (jsonEncoder) header() []byte { return nil }

func (e jsonEncoder) encode(dst []byte, recs []Record) []byte {
	var v [len(fieldNames) + 1]string
	n := len(fieldNames)
	if e.explain {
		n++
	}
	for i := range recs {
		recs[i].values(&v, e.explain)
		for j := 0; j < n; j++ {
			dst = append(dst, jsonKeys[j]...)
			dst = appendJSONString(dst, v[j])
		}
		dst = append(dst, "}\n"...)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes that appear unescaped in a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// and U+2028 and U+2029 are escaped, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// csvEncoder writes RFC 4180 CSV with a header row. Cells from the message
// that start like a spreadsheet formula get a leading "'".
type csvEncoder struct {
	explain bool
	buf     bytes.Buffer
	w       *csv.Writer
	row     []string
}

func (e *csvEncoder) header() []byte {
	row := append([]string(nil), fieldNames[:]...)
	if e.explain {
		row = append(row, evidenceField)
	}
	e.w.Write(row)
	e.w.Flush()
	h := bytes.Clone(e.buf.Bytes())
	e.buf.Reset()
	return h
}

func (e *csvEncoder) encode(dst []byte, recs []Record) []byte {
	var v [len(fieldNames) + 1]string
	n := len(fieldNames)
	if e.explain {
		n++
	}
	for i := range recs {
		recs[i].values(&v, e.explain)
		e.row = e.row[:0]
		for j := 0; j < n; j++ {
			s := v[j]
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			if remoteField[j] {
				s = suppress.DefuseFormula(s)
			}
			e.row = append(e.row, s)
		}
		e.w.Write(e.row) // writes to a bytes.Buffer: cannot fail
	}
	e.w.Flush()
	dst = append(dst, e.buf.Bytes()...)
	e.buf.Reset()
	return dst
}
