package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// FieldNames are the names of the fields of an encoded Record, in order
// (JSON keys, CSV header). With Explain the field "evidence" follows them.
var FieldNames = [...]string{
	"source", "recipient", "category", "reason", "status", "reply_code",
	"action", "diagnostic", "remote_mta", "reporting_mta", "kind",
	"original_message_id", "sender", "date", "error",
	"final_recipient", "recipient_from", "note",
}

const evidenceField = "evidence"

// remoteField marks the fields whose text comes from the message (or may
// quote it): in CSV they are guarded against formula injection.
var remoteField = [len(FieldNames) + 1]bool{
	false, true, false, false, true, true,
	true, true, true, true, false,
	true, true, false, true,
	true, false, false,
	true, // evidence
}

// Format is an encoding of records.
type Format string

const (
	// FormatJSONL is JSON Lines: one object a record, every field of
	// FieldNames present (an empty string when unknown), and "permanent":
	// true when Record.Permanent is set.
	FormatJSONL Format = "jsonl"
	// FormatCSV is RFC 4180 CSV with a header row; cells from the message
	// that start like a spreadsheet formula get a leading "'".
	FormatCSV Format = "csv"
)

// columns is how many of the fields of Record.values an encoder writes:
// FieldNames, and with explain the evidence.
func columns(explain bool) int {
	if explain {
		return len(FieldNames) + 1
	}
	return len(FieldNames)
}

// values puts the fields of r into v, in FieldNames order, and with
// explain the evidence last.
func (r *Record) values(v *[len(FieldNames) + 1]string, explain bool) {
	v[0] = r.Source
	v[1] = r.Recipient
	v[2] = string(r.Category)
	v[3] = string(r.Reason)
	v[4] = r.Status
	v[5] = r.ReplyCode
	v[6] = string(r.Action)
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
	v[15] = r.FinalRecipient
	v[16] = string(r.RecipientFrom)
	v[17] = r.Note
	v[18] = ""
	if explain {
		v[18] = evidenceString(r)
	}
}

// evidenceString renders what decided the classification.
func evidenceString(r *Record) string {
	if r.Evidence == (classify.Evidence{}) {
		return ""
	}
	return r.Evidence.String()
}

// ErrFormat reports an unknown Format.
var ErrFormat = errors.New("pipeline: unknown format")

// Encoder renders records. It is not safe for concurrent use: each worker
// has its own.
type Encoder interface {
	// Header returns what starts the output (the CSV header row).
	Header() []byte
	// Encode appends the rendering of recs to dst.
	Encode(dst []byte, recs []Record) []byte
}

// NewEncoder returns an Encoder for f (empty: FormatJSONL); with explain
// the evidence of each classification is added.
func NewEncoder(f Format, explain bool) (Encoder, error) {
	switch f {
	case FormatJSONL, "":
		return jsonEncoder{explain: explain}, nil
	case FormatCSV:
		e := &csvEncoder{explain: explain}
		e.w = csv.NewWriter(&e.buf)
		return e, nil
	case FormatText:
		return textEncoder{explain: explain}, nil
	}
	return nil, fmt.Errorf("%w %q (want jsonl, csv or text)", ErrFormat, f)
}

// jsonEncoder writes JSON Lines, one object per record, with every field
// present (an empty string when unknown).
type jsonEncoder struct {
	explain bool
}

// jsonKeys are the keys with their punctuation: `{"source":`, `,"recipient":`…
var jsonKeys = func() (k [len(FieldNames) + 1]string) {
	for i, n := range FieldNames {
		k[i] = `,"` + n + `":`
	}
	k[0] = "{" + k[0][1:]
	k[len(FieldNames)] = `,"` + evidenceField + `":`
	return k
}()

// jsonPermanent is the field of a record whose failure was permanent but
// unexplained (Record.Permanent): a JSON boolean, present only when true.
const jsonPermanent = `,"permanent":true`

func (jsonEncoder) Header() []byte { return nil }

func (e jsonEncoder) Encode(dst []byte, recs []Record) []byte {
	var v [len(FieldNames) + 1]string
	n := columns(e.explain)
	for i := range recs {
		recs[i].values(&v, e.explain)
		for j := 0; j < n; j++ {
			dst = append(dst, jsonKeys[j]...)
			dst = appendJSONString(dst, v[j])
		}
		if recs[i].Permanent {
			dst = append(dst, jsonPermanent...)
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

func (e *csvEncoder) Header() []byte {
	row := append([]string(nil), FieldNames[:]...)
	if e.explain {
		row = append(row, evidenceField)
	}
	e.w.Write(row)
	e.w.Flush()
	h := bytes.Clone(e.buf.Bytes())
	e.buf.Reset()
	return h
}

func (e *csvEncoder) Encode(dst []byte, recs []Record) []byte {
	var v [len(FieldNames) + 1]string
	n := columns(e.explain)
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
