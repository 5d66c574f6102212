package dsn

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"
)

// Limits of one block of report fields: the bytes of a field's value,
// continuation lines included, and the fields of one block. The rest is
// dropped.
const (
	maxFieldLine   = 64 << 10
	maxBlockFields = 200
)

// readFieldBlocks reads the blank-line separated blocks of "Name: value"
// fields of a delivery-status part (RFC 3464 section 2.1) and calls fn for
// each. Continuation lines are joined.
//
// QUIRK: blocks without the blank line between them are split where a
// second Final-Recipient or Original-Recipient field starts
// (testdata/synthetic-dsn-lenient.eml).
func readFieldBlocks(r io.Reader, fn func(textproto.MIMEHeader) bool) {
	br := getReader(r, 4096)
	defer putReader(br)
	lr := &lineReader{br: br, maxLine: maxFieldLine}
	cur := textproto.MIMEHeader{}
	lastKey := ""
	fields := 0
	var cont strings.Builder // continuation lines of the last field
	endField := func() {
		if lastKey != "" && cont.Len() > 0 {
			vs := cur[lastKey]
			vs[len(vs)-1] += cont.String()
		}
		cont.Reset()
	}
	flush := func() bool {
		endField()
		if len(cur) == 0 {
			return true
		}
		ok := fn(cur)
		cur = textproto.MIMEHeader{}
		lastKey = ""
		fields = 0
		return ok
	}
	for {
		line, ok := lr.next()
		if !ok {
			flush()
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if !flush() {
				return
			}
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && lastKey != "" {
			// Joined once the field ends: appending to the value each
			// time would cost the square of the number of lines.
			if t := bytes.TrimSpace(line); cont.Len()+len(t) < maxFieldLine {
				cont.WriteByte(' ')
				cont.Write(t)
			}
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || bytes.ContainsAny(line[:i], " \t") {
			continue
		}
		endField()
		key := textproto.CanonicalMIMEHeaderKey(string(line[:i]))
		val := string(bytes.TrimSpace(line[i+1:]))
		if (key == "Final-Recipient" && cur.Get("Final-Recipient") != "") ||
			(key == "Original-Recipient" && cur.Get("Original-Recipient") != "") {
			if !flush() {
				return
			}
		}
		if fields++; fields > maxBlockFields {
			lastKey = ""
			continue
		}
		cur[key] = append(cur[key], val)
		lastKey = key
	}
}

// deliveryStatus reads a message/delivery-status part (RFC 3464 section 2),
// its RFC 6533 global form, or the RFC 1894 form.
func (p *parser) deliveryStatus(h message.Header, body io.Reader) error {
	br := bufio.NewReaderSize(body, proseProbeBytes)
	if proseFirst(h, br) {
		// QUIRK: a part declared delivery-status that holds the notice
		// written for people, a real report part after it
		// (testdata/synthetic-dsn-part-holding-text.eml): read as text.
		th := message.Header{}
		th.Set("Content-Type", "text/plain")
		if cte := h.Get("Content-Transfer-Encoding"); cte != "" {
			th.Set("Content-Transfer-Encoding", cte)
		}
		return p.text(th, br, "text/plain")
	}
	p.readDeliveryStatus(p.decode(h, br))
	return nil
}

// proseProbeBytes is how much of a delivery-status part proseFirst looks at.
const proseProbeBytes = 1024

// proseFirst reports whether the delivery-status part read by br opens
// with a line of prose rather than a field ("Reporting-MTA: dns; …"):
// its first line that is not blank has no colon, or several words before
// it ("Reporting-MTA : dns" is a field). A part in base64 is not judged.
func proseFirst(h message.Header, br *bufio.Reader) bool {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "", "7bit", "8bit", "binary", "quoted-printable":
	default:
		return false
	}
	b, _ := br.Peek(proseProbeBytes)
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		return colon <= 0 || bytes.ContainsAny(bytes.TrimSpace(line[:colon]), " \t")
	}
	return false
}

func (p *parser) deliveryStatusText(s string) {
	p.readDeliveryStatus(strings.NewReader(s))
}

func (p *parser) readDeliveryStatus(r io.Reader) {
	p.dsnSeen = true
	first := true
	readFieldBlocks(r, func(f textproto.MIMEHeader) bool {
		isRcpt := f.Get("Final-Recipient") != "" || f.Get("Original-Recipient") != "" ||
			f.Get("X-Actual-Recipient") != ""
		if first && !isRcpt {
			first = false
			p.perMsg = f
			p.keepOrphan(f)
			return true
		}
		first = false
		if !isRcpt {
			// QUIRK: per-message fields repeated after the first block, or a
			// block holding only Action/Status for the previous recipient
			// (testdata/synthetic-dsn-split-blocks.eml).
			if p.blocks.len() > 0 {
				prev := p.blocks.get(p.blocks.len() - 1)
				for k, v := range f {
					if prev.Get(k) == "" {
						prev[k] = v
					}
				}
				p.blocks.replaceLast(prev)
			} else {
				if p.perMsg == nil {
					p.perMsg = f
				}
				p.keepOrphan(f)
			}
			return true
		}
		if p.blocks.len() >= p.opts.MaxRecipients {
			p.addErr(fmt.Errorf("%w: more than %d recipients", ErrLimit, p.opts.MaxRecipients))
			return false
		}
		p.blocks.add(f)
		return true
	})
}

// feedbackReport reads a message/feedback-report part (RFC 5965 section 3).
func (p *parser) feedbackReport(h message.Header, body io.Reader) error {
	p.arfSeen = true
	r := p.decode(h, body)
	blocks := 0
	readFieldBlocks(r, func(f textproto.MIMEHeader) bool {
		if p.feedback == nil {
			p.feedback = f
		} else {
			for k, v := range f {
				p.feedback[k] = append(p.feedback[k], v...)
			}
		}
		// One block is the rule (RFC 5965 section 3); a few more are
		// tolerated, not thousands.
		blocks++
		return blocks < p.opts.MaxRecipients
	})
	return nil
}

// typedValue splits "type; value" (RFC 3464 address-type and
// diagnostic-type), tolerating a missing type.
func typedValue(v string) (typ, val string) {
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 20 && !strings.ContainsAny(v[:i], " <@") {
		return strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:])
	}
	return "", strings.TrimSpace(v)
}
