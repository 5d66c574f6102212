package dsn

import (
	"bytes"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/transform"
)

// fixCharset decodes text that declared no charset: ISO-2022-JP is told by
// its escape sequences; other 8-bit text by the charset hint (taken from
// the message's encoded words). Valid UTF-8 is kept as it is.
//
// QUIRK: Japanese carriers send ISO-2022-JP without a charset parameter
// (testdata/synthetic-ja-iso2022jp-undeclared.eml).
func fixCharset(b []byte, hint string) []byte {
	if bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) {
		if d, _, err := transform.Bytes(japanese.ISO2022JP.NewDecoder(), b); err == nil {
			return d
		}
	}
	if utf8.Valid(b) {
		return b
	}
	if d, ok := decodeLegacy(b, hint); ok {
		return d
	}
	if legacyDecoder(hint) != nil {
		return b
	}
	if hint != "" && !latin1Labels[strings.ToLower(hint)] && !strings.EqualFold(hint, "utf-8") {
		// Any other charset the encoded words name (KOI8-R,
		// windows-1251, ISO-8859-2, …): Russian and Central European
		// notices leave their text unlabelled too.
		if e, err := htmlindex.Get(hint); err == nil {
			if d, _, err := transform.Bytes(e.NewDecoder(), b); err == nil {
				return d
			}
		}
	}
	return b
}

// wordDecoder decodes RFC 2047 encoded words in the charsets that
// charset.Reader knows and in the CJK labels of legacyDecoder
// ("=?MS949?B?…?=").
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	cr, err := charset.Reader(label, r)
	if err != nil {
		if t := legacyDecoder(label); t != nil {
			return transform.NewReader(r, t), nil
		}
	}
	return cr, err
}}

// legacyDecoder returns the decoder of a CJK charset label, including the
// labels that mail software writes and the WHATWG list (which
// charset.Reader follows) lacks: Microsoft's and Java's names of the
// Korean code page (cp949, ms949, uhc), Japanese carriers' variants of
// ISO-2022-JP (ISO-2022-JP-KDDI, -2, -3, -MS: the Ruby mail gem's
// pick_encoding maps "ISO-2022-JP-KDDI and alike" to their base), and
// cp932. It returns nil for any other label.
func legacyDecoder(label string) transform.Transformer {
	l := strings.ToLower(label)
	switch {
	case strings.HasPrefix(l, "iso-2022-jp"):
		return japanese.ISO2022JP.NewDecoder()
	}
	switch l {
	case "euc-kr", "ks_c_5601-1987", "cp949", "ms949", "uhc", "x-windows-949", "windows-949", "ks_c_5601", "korean":
		return korean.EUCKR.NewDecoder()
	case "shift_jis", "shift-jis", "sjis", "x-sjis", "cp932", "ms932", "windows-31j":
		return japanese.ShiftJIS.NewDecoder()
	case "euc-jp", "x-euc-jp":
		return japanese.EUCJP.NewDecoder()
	case "gb2312", "gbk", "gb18030", "cp936", "euc-cn", "x-gbk", "x-gb2312":
		return simplifiedchinese.GB18030.NewDecoder()
	case "big5", "cp950", "ms950", "x-big5":
		return traditionalchinese.Big5.NewDecoder()
	}
	return nil
}

// decodeLegacy decodes b from the CJK charset label names, and reports
// whether it could.
func decodeLegacy(b []byte, label string) ([]byte, bool) {
	t := legacyDecoder(label)
	if t == nil {
		return nil, false
	}
	d, _, err := transform.Bytes(t, b)
	return d, err == nil
}

// latin1Labels are the charset labels that the WHATWG Encoding Standard
// maps to windows-1252.
var latin1Labels = map[string]bool{
	"iso-8859-1": true, "iso8859-1": true, "iso_8859-1": true, "latin1": true, "l1": true, "cp1252": true,
	"windows-1252": true, "x-cp1252": true, "iso-ir-100": true, "cp819": true, "ibm819": true,
}

// decodeWindows1252 decodes windows-1252 text.
func decodeWindows1252(b []byte) []byte {
	d, _ := charmap.Windows1252.NewDecoder().Bytes(b) // every byte decodes
	return d
}

// latinInvalid keeps the UTF-8 of b and reads each byte that is no UTF-8
// as windows-1252: text labelled UTF-8, or not labelled, that is in fact
// Latin-1 or windows-1252 (a German notice's "Empfänger", Outlook's smart
// quotes), or that mixes the two (a UTF-8 notice quoting a Latin-1
// reply), reads the same as the same text correctly labelled.
func latinInvalid(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if len(b) < utf8.UTFMax && !utf8.FullRune(b) {
				break // a character cut by a limit
			}
			r = charmap.Windows1252.DecodeByte(b[0])
			n = 1
		}
		out = utf8.AppendRune(out, r)
		b = b[n:]
	}
	return out
}

// stripHTML keeps the text of an HTML part, with a line break for each
// block element.
func stripHTML(b []byte) []byte {
	out := make([]byte, 0, len(b)/2)
	inTag := false
	skip := false // inside <style> or <script>
	var tag []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inTag {
			if c == '>' {
				inTag = false
				t := strings.ToLower(strings.TrimLeft(string(tag), "/"))
				if j := strings.IndexAny(t, " \t\n/"); j >= 0 {
					t = t[:j]
				}
				switch t {
				case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "table", "td", "blockquote", "pre":
					out = append(out, '\n')
				case "style", "script":
					skip = tag[0] != '/'
				}
				tag = tag[:0]
			} else if len(tag) < 64 {
				tag = append(tag, c)
			}
			continue
		}
		if c == '<' {
			inTag = true
			continue
		}
		if skip {
			continue
		}
		if c == '&' {
			if j := bytes.IndexByte(b[i:min(len(b), i+10)], ';'); j > 0 {
				if r, ok := htmlEntities[string(b[i+1:i+j])]; ok {
					out = append(out, r...)
					i += j
					continue
				}
				if r, ok := numericEntity(b[i+1 : i+j]); ok {
					out = utf8.AppendRune(out, r)
					i += j
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// numericEntity decodes the name of a numeric character reference
// ("#64", "#x40"), as HTML writers escape "@" and "." to hide an address
// from harvesters.
func numericEntity(name []byte) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	base, digits := 10, name[1:]
	if digits[0] == 'x' || digits[0] == 'X' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || n == 0 || n > unicode.MaxRune || n >= 0xD800 && n <= 0xDFFF {
		return 0, false
	}
	return rune(n), true
}

var htmlEntities = map[string]string{
	"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "nbsp": " ", "#39": "'", "apos": "'", "#64": "@",
}

// asciiLower lower-cases ASCII letters only, so that byte offsets in the
// result are offsets in s (strings.ToLower can change the length of
// non-ASCII text).
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
