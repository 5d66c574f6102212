package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

// walk visits one MIME entity: h is its header, body its raw (still
// transfer-encoded) body.
func (p *parser) walk(h message.Header, body io.Reader, depth int) error {
	if depth > p.opts.MaxDepth {
		p.addErr(fmt.Errorf("%w: MIME nesting deeper than %d", ErrLimit, p.opts.MaxDepth))
		return nil
	}
	mt, params := contentType(h)
	if mt == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			// QUIRK: a multipart without a boundary is read as text
			// (testdata/synthetic-multipart-no-boundary.eml).
			return p.text(h, body, "text/plain")
		}
		return p.multipart(h, boundary, body, depth)
	}
	if mt == "application/octet-stream" && emlName(h) {
		// A message attached as a file ("bounce.eml"): some mail
		// programs give it no type of its own.
		mt = "message/rfc822"
	}
	if !p.dsnSeen && !p.arfSeen && (mt == "application/octet-stream" || mt == "text/plain" && attachment(h)) {
		return p.attachedPart(h, body, mt)
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status",
		"text/delivery-status", "message/x-delivery-status", "text/x-delivery-status":
		return p.deliveryStatus(h, body)
	case "message/feedback-report", "text/feedback-report":
		return p.feedbackReport(h, body)
	case "message/rfc822", "message/global", "message/rfc822-headers",
		"text/rfc822-headers", "text/rfc822-header", "message/rfc822-header",
		"message/global-headers", "message/partial", "text/rfc822":
		return p.original(h, body, depth)
	case "text/plain", "text/html", "text/enriched", "text/x-aol":
		return p.text(h, body, mt)
	}
	return nil
}

// attachedPart reads a text attachment or a part of unknown type, before
// any report was read: one that opens with report fields is the report.
//
// QUIRK: a gateway that knows no message/delivery-status passes the report
// on as an attachment it names for itself: Exchange's "ATT00001.txt" (the
// Internet Mail Connector's Att00xxx.txt files, Microsoft KB Q146263),
// "noname" as application/octet-stream
// (testdata/synthetic-exchange-att00001-report.eml).
func (p *parser) attachedPart(h message.Header, body io.Reader, mt string) error {
	br := bufio.NewReaderSize(p.decode(h, body), proseProbeBytes)
	if reportFieldsFirst(br) {
		p.readDeliveryStatus(br)
		return nil
	}
	if mt != "text/plain" {
		return nil
	}
	th := message.Header{Header: h.Header.Copy()}
	th.Del("Content-Transfer-Encoding") // br is decoded
	return p.text(th, br, mt)
}

// emlName reports whether the part's file name ends in ".eml", the
// extension of a message saved as a file (RFC 5322 text).
func emlName(h message.Header) bool {
	_, params := contentType(h)
	name := params["name"]
	if _, dp, err := h.ContentDisposition(); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(name)), ".eml")
}

// attachment reports whether the part is marked as an attachment.
func attachment(h message.Header) bool {
	disp, _, _ := h.ContentDisposition()
	return disp == "attachment"
}

// reportFields are the fields that open a delivery-status part (RFC 3464
// section 2.2, and 2.3 for a part that has no per-message fields),
// lower case.
var reportFields = []string{"reporting-mta:", "dsn-gateway:", "received-from-mta:", "original-envelope-id:",
	"arrival-date:", "final-recipient:", "original-recipient:"}

// reportFieldsFirst reports whether the first line of br that is not
// blank is a report field.
func reportFieldsFirst(br *bufio.Reader) bool {
	b, _ := br.Peek(proseProbeBytes)
	b = bytes.TrimLeft(b, " \t\r\n")
	l := asciiLower(string(b[:min(len(b), 40)]))
	for _, f := range reportFields {
		if strings.HasPrefix(l, f) {
			return true
		}
	}
	return false
}

func (p *parser) multipart(h message.Header, boundary string, body io.Reader, depth int) error {
	// Keep the bytes read through the multipart reader: when the boundary
	// is never found, they and the rest of the body are read as text. The
	// multipart reader reads ahead by however much the source returns, so
	// only "everything consumed so far, then the rest" gives the same text
	// however the bytes arrive. Text past MaxTextBytes is never kept, so
	// neither is more capture than that.
	cr := &captureReader{r: body, max: p.opts.MaxTextBytes}
	mr := textproto.NewMultipartReader(cr, boundary)
	n := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF && n > 0 {
			return nil
		}
		if err != nil {
			if n == 0 {
				// QUIRK: the boundary is never found (a wrong boundary
				// parameter, testdata/multipart-wrong-boundary.eml): read
				// the body as text.
				th := message.Header{}
				th.Set("Content-Type", "text/plain")
				if _, params := contentType(h); params["charset"] != "" {
					th.SetContentType("text/plain", map[string]string{"charset": params["charset"]})
				}
				rest := body
				if len(cr.buf) >= cr.max {
					rest = eofReader{} // cut: the text keeps no more anyway
				}
				return p.text(th, io.MultiReader(bytes.NewReader(cr.buf), rest), "text/plain")
			}
			// go-message flattens the EOF into its error text
			// ("multipart: NextPart: EOF"), hence the suffix test.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.HasSuffix(err.Error(), "EOF") {
				// QUIRK: no closing boundary (multipart-wrong-boundary.eml,
				// x1-no-semicolon.eml): what was read stands.
				return nil
			}
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if n == 0 {
			cr.buf, cr.max = nil, 0 // the boundary was found
		}
		n++
		p.parts++
		if p.parts > p.opts.MaxParts {
			p.addErr(fmt.Errorf("%w: more than %d MIME parts", ErrLimit, p.opts.MaxParts))
			return errStop
		}
		if err := p.walk(message.Header{Header: part.Header}, part, depth+1); err != nil {
			if err == errStop {
				return err
			}
			p.addErr(err)
		}
	}
}

// decode undoes the transfer encoding of a part that is not text.
func (p *parser) decode(h message.Header, body io.Reader) io.Reader {
	return transferDecoder(h.Get("Content-Transfer-Encoding"), body)
}

// text keeps human-readable text, up to MaxTextBytes in all.
func (p *parser) text(h message.Header, body io.Reader, mt string) error {
	if p.origSeen && (p.dsnSeen || p.arfSeen) {
		return nil
	}
	if disp, _, _ := h.ContentDisposition(); disp == "attachment" && len(p.notice) > 0 {
		return nil
	}
	room := p.opts.MaxTextBytes - len(p.notice) - len(p.html)
	if room <= 0 {
		return nil
	}
	r := p.decode(h, body)
	var dst *[]byte
	if mt == "text/html" {
		dst = &p.html
	} else {
		dst = &p.notice
	}
	start := len(*dst)
	all, err := readUpTo(r, *dst, start+room)
	*dst = all[:start]
	b := all[start:]
	b = p.toUTF8(b, h)
	if !utf8.Valid(b) {
		b = latinInvalid(b)
	}
	if bytes.IndexByte(b, 0) >= 0 {
		b = bytes.ReplaceAll(b, []byte{0}, nil)
	}
	if mt == "text/html" {
		b = stripHTML(b)
	}
	// b may share memory with *dst past start; copy is safe either way.
	*dst = append(*dst, b...)
	*dst = append(*dst, '\n')
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// toUTF8 converts text from its declared charset; text that declares none
// (or US-ASCII, which Japanese mail often mislabels) is sniffed.
func (p *parser) toUTF8(b []byte, h message.Header) []byte {
	_, params := contentType(h)
	cs := strings.ToLower(strings.Trim(params["charset"], `"' `))
	switch {
	case cs == "" || cs == "us-ascii" || cs == "ascii":
		return fixCharset(b, p.charsetHint())
	case cs == "utf-8" || cs == "utf8":
		// Japanese text in ISO-2022-JP labelled UTF-8: its escapes are
		// ASCII, so it passes for UTF-8 (fixCharset tells it).
		return fixCharset(b, "")
	case latin1Labels[cs]:
		if utf8.Valid(b) && !isASCII(string(b)) {
			// UTF-8 labelled ISO-8859-1, as some MTAs label whatever
			// they write: text in Latin-1 is almost never valid UTF-8.
			return b
		}
		// The WHATWG Encoding Standard reads these labels as
		// windows-1252, as mail programs do: Outlook labels its
		// Windows text ISO-8859-1, smart quotes and all (0x93, 0x94).
		return decodeWindows1252(b)
	case isUTF7(cs):
		return decodeUTF7(b)
	}
	cr, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		// QUIRK: labels outside the WHATWG list that Korean and Japanese
		// systems write ("ms949", "ISO-2022-JP-KDDI"): see legacyDecoder
		// (testdata/synthetic-ko-ms949-label.eml).
		if d, ok := decodeLegacy(b, cs); ok {
			return d
		}
		p.addErr(fmt.Errorf("%w: %v", ErrCharset, err))
		return fixCharset(b, "")
	}
	d, err := io.ReadAll(cr)
	if err != nil && len(d) == 0 {
		return b
	}
	return d
}

// readUpTo appends at most max bytes of r to buf.
func readUpTo(r io.Reader, buf []byte, max int) ([]byte, error) {
	for len(buf) < max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(cap(buf), max)
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				return buf, nil
			}
			return buf, err
		}
	}
	return buf, nil
}

// original reads the header of the returned message and skips its body.
func (p *parser) original(h message.Header, body io.Reader, depth int) error {
	if p.origSeen {
		return nil
	}
	lim := &limitReader{r: p.decode(h, body), n: int64(p.opts.MaxHeaderBytes)}
	br := getReader(lim, 4096)
	defer putReader(br)
	th, err := readHeader(br)
	if lim.n <= 0 && err != nil {
		p.addErr(fmt.Errorf("%w: header larger than %d bytes", ErrLimit, p.opts.MaxHeaderBytes))
	}
	oh := message.Header{Header: th}
	if !p.dsnSeen && !p.arfSeen && !p.origSeen {
		mt, _ := contentType(oh)
		switch {
		case p.forwardedBounce(oh):
			// QUIRK: a person forwarded the bounce as an attachment
			// ("Fwd: Undelivered Mail Returned to Sender", the notice
			// in a message/rfc822 part,
			// testdata/synthetic-forwarded-bounce-attached.eml): the
			// notice inside is the notice, the forwarder's cover note
			// is not.
			p.fwdHdr = oh
			p.notice, p.html = p.notice[:0], p.html[:0]
			lim.n = 1 << 62
			return p.walk(oh, br, depth+1)
		case mt == "multipart/report" && p.top.Get("X-Failed-Recipients") == "" && !p.noticeNamesAddr():
			// QUIRK: the report itself arrives attached to a notice
			// that names no one, in its text or in X-Failed-Recipients
			// (testdata/report-in-rfc822.eml): read it as the message.
			// A notice that names an address is a bounce of its own,
			// and the report it returns (a bounce of a bounce,
			// testdata/synthetic-double-bounce.eml) is its original:
			// data.
			lim.n = 1 << 62
			return p.walk(oh, br, depth+1)
		}
	}
	if oh.Len() > 0 {
		p.origSeen = true
		p.origHdr = oh
		if mt, _ := contentType(oh); mt == "multipart/report" || fromMailSystem(oh) {
			// The original is itself a notice: its To is the sender of
			// another message, no one's failure.
			p.origNotice = true
		}
	}
	if err != nil && oh.Len() == 0 && !errors.Is(err, io.EOF) {
		return nil
	}
	if p.dsnSeen || p.arfSeen {
		// Everything after the original is the original's body.
		return errStop
	}
	return nil
}

// forwardedBounce reports whether oh, the header of a message attached
// to the message read, is a bounce that a person or a list manager
// forwarded: the message is a forward ("Fwd:", "FW:") written by no mail
// system, or Mailman's, and oh is a mail system's notice.
func (p *parser) forwardedBounce(oh message.Header) bool {
	byPerson := isForward(p.rep.Subject) && !fromMailSystem(p.top)
	// Mailman forwards to the list's owner the bounces it cannot read
	// ("Uncaught bounce notification": Mailman 2's BounceRunner, Mailman
	// 3's list:admin:notice:unrecognized template).
	byList := bytes.Contains(bytes.ToLower(p.notice), []byte("the attached message was received as a bounce"))
	if !byPerson && !byList {
		return false
	}
	return fromMailSystem(oh) || containsAny(strings.ToLower(headerText(oh, "Subject")), bounceSubjects)
}

// fromMailSystem reports whether the header's From is a mail system's
// (MAILER-DAEMON, postmaster, "Mail Delivery System").
func fromMailSystem(h message.Header) bool {
	if a := headerAddr(h, "From"); a != "" {
		if at := strings.LastIndexByte(a, '@'); at > 0 && daemonLocals[strings.ToLower(a[:at])] {
			return true
		}
	}
	return containsAny(strings.ToLower(h.Get("From")), daemonNames)
}

// noticeNamesAddr reports whether the text read so far names an address
// other than the bounce's own (its author and addressee, its envelope).
func (p *parser) noticeNamesAddr() bool {
	return p.namesAddr(string(p.notice)) || p.namesAddr(string(p.html))
}

// namesAddr reports whether s names an address other than the bounce's
// own (its author and addressee, its envelope) and its help text's ("For
// help, contact helpdesk@…").
func (p *parser) namesAddr(s string) bool {
	if strings.IndexByte(s, '@') < 0 {
		return false
	}
	ex := p.excluded()
	for off := 0; off < len(s); {
		line, next := nextLine(s, off)
		off = next
		hits := findAddrs(line)
		if len(hits) == 0 {
			continue
		}
		help := helpIndex(line)
		for _, h := range hits {
			if !excludedAddr(h.addr, ex) && !(help >= 0 && help < h.start) {
				return true
			}
		}
	}
	return false
}

// lineReader reads logical lines (no terminator) of at most maxLine bytes;
// the rest of a longer line is dropped.
type lineReader struct {
	br      *bufio.Reader
	maxLine int
}

func (l *lineReader) next() ([]byte, bool) {
	var line []byte
	for {
		frag, err := l.br.ReadSlice('\n')
		if len(line)+len(frag) <= l.maxLine {
			line = append(line, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && len(line) == 0 {
			return nil, false
		}
		return bytes.TrimRight(line, "\r\n"), true
	}
}

// charsetHint returns the charset of the first RFC 2047 encoded word in the
// bounce's Subject or From, for text that declares none.
func (p *parser) charsetHint() string {
	for _, k := range []string{"Subject", "From"} {
		v := p.top.Get(k)
		if i := strings.Index(v, "=?"); i >= 0 {
			rest := v[i+2:]
			if j := strings.IndexByte(rest, '?'); j > 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

// eofReader is an empty reader.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// captureReader keeps a copy of the first max bytes read through it.
type captureReader struct {
	r   io.Reader
	buf []byte
	max int
}

func (c *captureReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if room := c.max - len(c.buf); room > 0 && n > 0 {
		c.buf = append(c.buf, b[:min(n, room)]...)
	}
	return n, err
}

// contentType parses Content-Type leniently: a missing semicolon or a
// broken parameter still gives the media type and the charset.
// QUIRK: "Content-Type: text/plain\n   charset=..." (testdata/x1-no-semicolon.eml).
func contentType(h message.Header) (string, map[string]string) {
	mt, params, err := h.ContentType()
	if err == nil {
		return mt, params
	}
	raw := h.Get("Content-Type")
	mt = strings.ToLower(strings.TrimSpace(raw))
	if i := strings.IndexAny(mt, "; \t"); i >= 0 {
		mt = mt[:i]
	}
	if params == nil {
		params = map[string]string{}
	}
	for _, k := range []string{"charset", "boundary"} {
		if _, ok := params[k]; ok {
			continue
		}
		lr := asciiLower(raw)
		if i := strings.Index(lr, k+"="); i >= 0 {
			v := raw[i+len(k)+1:]
			if strings.HasPrefix(v, `"`) {
				if j := strings.IndexByte(v[1:], '"'); j >= 0 {
					v = v[1 : j+1]
				}
			} else if j := strings.IndexAny(v, "; \t"); j >= 0 {
				v = v[:j]
			}
			params[k] = v
		}
	}
	return mt, params
}
