package dsn

import (
	"bufio"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode"

	netmail "net/mail"

	"github.com/bouncer-dev/bouncer/verp"
	"github.com/emersion/go-message"
)

// readTopHeader fills what the bounce's own header tells.
func (p *parser) readTopHeader() {
	h := p.top
	p.rep.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	p.rep.Subject = headerText(h, "Subject")
	p.rep.From = headerAddr(h, "From")
	p.rep.To = headerAddr(h, "To")
	p.rep.Date = parseTime(h.Get("Date"))
}

// headerText decodes RFC 2047 encoded words, falling back to the raw value.
func headerText(h message.Header, key string) string {
	v := h.Get(key)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// headerAddr returns the first address of an address field: the one in
// angle brackets when there is one (a display name may itself look like an
// address), else the first address-like word. It tolerates the syntax
// net/mail refuses, and is much cheaper.
func headerAddr(h message.Header, key string) string {
	v := h.Get(key)
	if v == "" {
		return ""
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		rest := v[i+1:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			if a := firstAddr(rest[:j]); a != "" {
				return a
			}
		}
	}
	return firstAddr(v)
}

// headerAddrs returns every address of an address field.
func headerAddrs(h message.Header, key string) []string {
	var out []string
	for _, v := range h.Values(key) {
		for _, hit := range findAddrs(v) {
			out = append(out, hit.addr)
		}
	}
	return out
}

// finish decides the kind of message and fills the Report.
func (p *parser) finish() {
	rep := p.rep
	body := p.noticeBody()
	rep.VERP = p.verpRecipient()
	if rep.ReportingMTA == "" {
		rep.ReportingMTA = p.reportingMTAFromText(body)
	}
	if !p.dsnSeen && !p.arfSeen {
		p.inlineDSN(body)
	}
	if !p.detect(body) {
		return // not a bounce, or a kind that is complete as it is
	}
	defer p.verpOverForward()
	defer p.adoptOrphan()
	if p.googleGroups(body) {
		rep.Vendor = VendorGoogleGroups
	}
	if (rep.Kind == KindBounce || rep.Kind == KindDSN) && strings.EqualFold(strings.TrimSpace(p.top.Get("X-Spasign")), "NG") {
		// au (KDDI) marks with "X-SPASIGN: NG" the notices its filter
		// sends when the recipient's settings (the domain or address
		// filter) refused the sender; the notice itself gives no reason.
		rep.Vendor = VendorAuFilter
	}
	if (rep.Kind == KindBounce || rep.Kind == KindDSN) && p.challenge(body) {
		rep.Kind = KindChallenge
		rep.Vendor = VendorChallenge
		return
	}
	if rep.Kind == KindBounce || rep.Kind == KindDSN {
		// The reason may stand anywhere in the notice ("Could not be
		// delivered because of 550 5.1.1 User unknown. The following
		// recipients were affected:"): keep it for the classifier.
		rep.Notice = p.bodyDiagnostic(body)
		p.lastResortRecipient(body)
	}
}

// noticeBody returns the notice proper: the text (or the HTML) read, a
// forwarded bounce unquoted, without the inline copy of the original, whose
// header it reads when no message/rfc822 part gave one.
func (p *parser) noticeBody() string {
	notice := string(p.notice)
	if strings.TrimSpace(notice) == "" || len(p.html) > 0 && !p.namesAddr(notice) && p.namesAddr(string(p.html)) {
		// The HTML is the notice when the text is empty, or a stub
		// ("See the HTML part for details") that names no one where the
		// HTML alternative does.
		notice = string(p.html)
	}
	if isForward(p.rep.Subject) {
		// QUIRK: a bounce forwarded by a person ("Fwd: Returned mail"),
		// quoted with "> " (testdata/forwarded-bounce.eml).
		var hdr string
		notice, hdr = skipForwardHeader(unquote(notice))
		if hdr != "" && p.fwdHdr.Len() == 0 {
			p.fwdHdr, _ = readHeaderString(hdr)
		}
	}
	body, inline := splitOriginal(notice)
	if !p.origSeen && inline != "" {
		p.origHdr, _ = readHeaderString(inline)
	}
	p.fillOriginal()
	return body
}

// detect decides the kind of message, in the order of preference of the
// package doc, and reads its recipients. It reports false for the kinds
// that are done at once (challenge, auto-reply, not a bounce).
func (p *parser) detect(body string) bool {
	rep := p.rep
	switch {
	case p.arfSeen:
		rep.Kind = KindFeedback
		rep.Vendor = VendorARF
		p.feedbackRecipients()
	case p.dsnSeen && p.blocks.len() > 0:
		rep.Kind = KindDSN
		rep.Vendor = VendorRFC3464
		p.dsnRecipients(body)
		if rep.Len() == 0 {
			// QUIRK: a report whose recipient fields hold no address
			// (testdata/dsn-source-route.eml): read the text instead.
			p.textRecipients(body)
		}
	case p.sesNotification(body):
	case p.hotmailComplaint():
	case p.unsubscribeRequest():
	default:
		bounce := p.looksLikeBounce(body)
		switch {
		case p.challenge(body):
			rep.Kind = KindChallenge
			rep.Vendor = VendorChallenge
			return false
		case (!bounce || p.autoReplySubject()) && p.looksLikeAutoReply():
			rep.Kind = KindAutoReply
			rep.Vendor = VendorRFC3834
			if a := rep.From; a != "" {
				rep.Recipients = append(rep.Recipients, Recipient{FinalRecipient: a, Position: PositionAutoReply, Action: ActionAutoReply})
			}
			return false
		case !bounce && !p.dsnSeen:
			rep.Kind = KindNotBounce
			return false
		}
		rep.Kind, rep.Vendor = KindBounce, VendorText
		if p.dsnSeen {
			rep.Kind, rep.Vendor = KindDSN, VendorRFC3464
		}
		p.textRecipients(body)
	}
	return true
}

// lastResortRecipient gives a bounce that names no recipient the address
// it was delivered to, when that is a VERP address, else the returned
// original's only recipient; with neither it is ErrNoRecipient.
func (p *parser) lastResortRecipient(body string) {
	rep := p.rep
	if rep.Len() > 0 {
		return
	}
	a, pos := rep.VERP, PositionVERP
	// A forwarded bounce's original was the forwarder's to send, or
	// their forward's: who it went to is no word of the notice's.
	if a == "" && !p.excludedAnchor && p.fwdHdr.Len() == 0 && !isForward(rep.Subject) && !p.origNotice {
		a, pos = p.soleOriginalRecipient(), PositionOriginal
	}
	if a == "" {
		p.addErr(ErrNoRecipient)
		return
	}
	r := Recipient{FinalRecipient: a, Position: pos, Action: ActionFailed}
	p.fillFromText(&r, body, body)
	rep.Recipients = append(rep.Recipients, r)
}

// fillOriginal copies what is known of the returned original.
func (p *parser) fillOriginal() {
	h := p.origHdr
	if h.Len() == 0 {
		return
	}
	o := &p.rep.Original
	o.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	o.From = headerAddr(h, "From")
	o.To = headerAddr(h, "To")
	for _, k := range []string{"To", "Cc"} {
		o.Recipients = append(o.Recipients, headerAddrs(h, k)...)
	}
	o.Subject = headerText(h, "Subject")
	o.Date = h.Get("Date")
	o.ListID = h.Get("List-Id")
	o.Header = textproto.MIMEHeader{}
	fs := h.Fields()
	for fs.Next() {
		k := fs.Key()
		switch k {
		case "Received", "Dkim-Signature", "Arc-Seal", "Arc-Message-Signature", "Arc-Authentication-Results",
			"X-Google-Dkim-Signature", "Authentication-Results", "Received-Spf":
			continue
		}
		if len(o.Header) < 200 {
			o.Header[k] = append(o.Header[k], fs.Value())
		}
	}
}

func readHeaderString(s string) (message.Header, error) {
	e, err := message.Read(bufio.NewReader(strings.NewReader(s)))
	if e == nil {
		return message.Header{}, err
	}
	return e.Header, err
}

// dsnRecipients builds the recipients of an RFC 3464 report from its
// blocks: all of them into Report.Recipients, or, with
// Options.StreamRecipients, only which block describes each (Report.All
// builds them when asked).
func (p *parser) dsnRecipients(body string) {
	rep := p.rep
	if p.perMsg != nil {
		_, rep.ReportingMTA = typedValue(p.perMsg.Get("Reporting-Mta"))
		rep.ArrivalDate = parseTime(p.perMsg.Get("Arrival-Date"))
	}
	pick := p.pickBlocks(body)
	if p.opts.StreamRecipients {
		p.lazy = &dsnRecipients{p: p, body: body, pick: pick, forward: -1}
		rep.lazy = p.lazy
		return
	}
	for _, i := range pick {
		r, _ := p.blockRecipient(p.blocks.get(int(i)), body)
		rep.Recipients = append(rep.Recipients, r)
	}
}

// pickBlocks returns, per recipient of the blocks in the order of first
// appearance, the block that describes it, and notes what googleGroups
// and challenge need to know of them.
func (p *parser) pickBlocks(body string) []int32 {
	type choice struct{ block, diag int32 }
	var picks []choice
	idx := newAddrIndex()
	p.blocksAllGroups = true
	for i := range p.blocks.len() {
		r, ok := p.blockRecipient(p.blocks.get(i), body)
		if !ok {
			continue
		}
		p.blocksAllGroups = p.blocksAllGroups && strings.HasSuffix(asciiLower(r.FinalRecipient), "@googlegroups.com")
		p.blocksChallenge = p.blocksChallenge || containsAny(asciiLower(r.Diagnostic), challengePhrases)
		key := lowerKey(r.FinalRecipient)
		j, ok := idx.find(key, func(j int) string { return lowerKey(blockAddr(p.blocks.get(int(picks[j].block)))) })
		if ok {
			// QUIRK: the same recipient twice (a relay's and the final
			// MTA's view): keep the one that says more
			// (testdata/synthetic-dsn-duplicate-recipient.eml).
			if len(r.Diagnostic) > int(picks[j].diag) {
				picks[j] = choice{int32(i), int32(min(len(r.Diagnostic), 1<<30))}
			}
			continue
		}
		idx.add(key, len(picks))
		picks = append(picks, choice{int32(i), int32(min(len(r.Diagnostic), 1<<30))})
	}
	out := make([]int32, len(picks))
	for i, c := range picks {
		out[i] = c.block
	}
	return out
}

// blockAddr is the address a block is about, as blockRecipient reads it.
func blockAddr(f textproto.MIMEHeader) string {
	_, final := typedValue(f.Get("Final-Recipient"))
	_, orig := typedValue(f.Get("Original-Recipient"))
	final, orig = cleanAddr(final), cleanAddr(orig)
	if final == "" {
		final = cleanAddr(f.Get("X-Actual-Recipient"))
	}
	if final == "" {
		final = orig
	}
	return final
}

// blockRecipient builds the recipient of one block; false when it names
// no address.
func (p *parser) blockRecipient(f textproto.MIMEHeader, body string) (Recipient, bool) {
	var r Recipient
	r.Fields = f
	r.Position = PositionDSN
	_, r.OriginalRecipient = typedValue(f.Get("Original-Recipient"))
	r.OriginalRecipient = cleanAddr(r.OriginalRecipient)
	r.FinalRecipient = blockAddr(f)
	if r.FinalRecipient == "" {
		return r, false
	}
	r.Action = Action(strings.ToLower(firstWord(f.Get("Action"))))
	r.Status = findStatus(f.Get("Status"))
	r.DiagnosticType, r.Diagnostic = typedValue(strings.Join(f["Diagnostic-Code"], " "))
	r.Diagnostic = collapseSpace(p.fieldText(r.Diagnostic))
	if r.Diagnostic == "" {
		// "Status: 4.0.0 (cat.example.net: host name lookup failure)":
		// the comment is the only reason given.
		if c := statusComment(f.Get("Status")); c != "" {
			r.Diagnostic = c
		}
	}
	_, r.RemoteMTA = typedValue(f.Get("Remote-Mta"))
	r.LastAttempt = parseTime(f.Get("Last-Attempt-Date"))
	block := p.recipientBlock(body, r.FinalRecipient)
	p.fillFromText(&r, block, body)
	return r, true
}

// fieldText decodes the value of a report field written in a legacy
// charset. RFC 3464 fields are US-ASCII (RFC 6533's global form UTF-8), but
// Japanese systems write the server's words in ISO-2022-JP, escapes and
// all, and others in the charset of their notice (fixCharset).
//
// QUIRK: Lotus Domino's Japanese Diagnostic-Code
// (testdata/synthetic-ja-dsn-field-iso2022jp.eml).
func (p *parser) fieldText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b || s[i] >= 0x80 {
			return string(fixCharset([]byte(s), p.charsetHint()))
		}
	}
	return s
}

// fillFromText completes r from the notice text: the diagnostic when the
// report has none, codes found only in text, and the SMTP command.
func (p *parser) fillFromText(r *Recipient, block, body string) {
	if r.OriginalRecipient == "" {
		r.OriginalRecipient = expandedFrom(block, r.FinalRecipient)
	}
	if r.Diagnostic == "" {
		r.Diagnostic = diagnosticFrom(block)
		rest := strings.ReplaceAll(r.Diagnostic, r.FinalRecipient, "")
		if l := localPart(r.FinalRecipient); len(l) > 2 {
			rest = strings.ReplaceAll(rest, l, "") // a bare local part (AOL's screen names)
		}
		if len(strings.Trim(rest, " <>:;,.()[]\"'")) < 8 {
			// The lines about this recipient name it and nothing else: the
			// reason is in the notice around it ("The user(s) account is
			// disabled.", "Could not be delivered because of 550 5.1.1
			// User unknown. The following recipients were affected:").
			r.Diagnostic = p.bodyDiagnostic(body)
		}
	}
	if r.Status == "" || strings.HasSuffix(r.Status, ".0.0") {
		if s := findTextStatus(r.Diagnostic); s != "" && (r.Status == "" || s[0] == r.Status[0]) {
			r.Status = s
		} else if r.Status == "" {
			r.Status = findTextStatus(block)
		}
	}
	if r.ReplyCode == "" {
		r.ReplyCode = firstFound(findReplyCode, r.Diagnostic, block)
	}
	if r.Command == "" {
		r.Command = Command(firstFound(findCommand, block, r.Diagnostic))
		if r.Command == CommandDATA && pipelined(asciiLower(body)) {
			r.Command = "" // the block may stop before DATA's own reply
		}
	}
	if r.RemoteMTA == "" {
		r.RemoteMTA = findRemoteHost(block)
	}
	if r.Action == "" {
		r.Action = ActionFailed
		final := strings.HasPrefix(r.Status, "5") || strings.HasPrefix(r.ReplyCode, "5")
		switch sec := p.noticeSection(body, r.FinalRecipient); {
		case sec == ActionDelayed && !final, sec == ActionDelivered && !final && (r.Status == "" || r.Status[0] == '2'):
			r.Action = sec
		case sec != "":
			// Listed as failed, or a permanent code overrules the list.
		case strings.HasPrefix(r.Status, "4") && delayedText(block):
			r.Action = ActionDelayed
		case !final && (r.Status == "" || r.Status[0] != '2') && p.warningNotice(body):
			// A delay warning says so once, for all its recipients.
			r.Action = ActionDelayed
		case !final && (r.Status == "" || r.Status[0] == '2') && p.successNotice(body):
			r.Action = ActionDelivered
		}
	}
}

// firstFound returns what find finds in the first text where it finds
// something.
func firstFound(find func(string) string, texts ...string) string {
	for _, t := range texts {
		if v := find(t); v != "" {
			return v
		}
	}
	return ""
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t;("); i >= 0 {
		return s[:i]
	}
	return s
}

// cleanAddr strips brackets, quotes and comments around an address field
// value.
// QUIRK: "Final-Recipient: rfc822; <user@example.com>" and values with a
// trailing comment (testdata/synthetic-dsn-lenient.eml).
func cleanAddr(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if strings.Contains(s, `\x{`) {
		var ok bool
		if s, ok = decodeEmbedded(s); !ok {
			return "" // half an address is someone else's
		}
	}
	if h := findAddrs(s); len(h) > 0 {
		return h[0].addr
	}
	return ""
}

// decodeEmbedded decodes the EmbeddedUnicodeChar of RFC 6533 section 3
// ("\x{" HEXPOINT "}"), in which the utf-8 address type writes the
// characters of an internationalized address (RFC 6531) in a report that
// is US-ASCII: "utf-8; j\x{F6}rg@example.com" is jörg@example.com. It
// reports false for a sequence that is no code point.
func decodeEmbedded(s string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, `\x{`)
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 4 || j > 9 {
			return "", false
		}
		n, err := strconv.ParseUint(s[i+3:i+j], 16, 32)
		if err != nil || n > unicode.MaxRune || n >= 0xD800 && n <= 0xDFFF {
			return "", false
		}
		b.WriteString(s[:i])
		b.WriteRune(rune(n))
		s = s[i+j+1:]
	}
}

func collapseSpace(s string) string {
	if !strings.ContainsAny(s, "\n\t\r\v\f") && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	// One pass over ASCII white space (what notices use), rather than
	// strings.Fields and Join.
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			space = len(b) > 0
		default:
			if space {
				b = append(b, ' ')
				space = false
			}
			b = append(b, c)
		}
	}
	return string(b)
}

// verpRecipient decodes a VERP address (bounce+user=example.com@lists…)
// that the bounce was delivered to.
func (p *parser) verpRecipient() string {
	cands := []string{p.rep.To}
	cands = append(cands, headerAddrs(p.top, "Delivered-To")...)
	cands = append(cands, headerAddrs(p.top, "X-Original-To")...)
	cands = append(cands, headerAddrs(p.top, "Envelope-To")...)
	for _, c := range cands {
		if a := decodeVERP(c); a != "" {
			return a
		}
	}
	return ""
}

// decodeVERP returns the recipient encoded in a VERP address, or "".
func decodeVERP(a string) string {
	// A signed return path (bounce+TAG+user=example.com@…, package verp)
	// names its recipient after the tag; the tag is not checked here.
	for _, d := range []verp.Delimiter{verp.DelimiterPlus, verp.DelimiterMinus} {
		if v, err := (&verp.Signer{Delimiter: d}).Parse(a); err == nil {
			if h := findAddrs(v.Recipient); len(h) == 1 && h[0].addr == v.Recipient {
				return v.Recipient
			}
		}
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return ""
	}
	local := a[:at]
	i := strings.IndexAny(local, "+-")
	if i < 0 {
		return ""
	}
	enc := local[i+1:]
	eq := strings.LastIndexByte(enc, '=')
	if eq <= 0 || eq == len(enc)-1 {
		return ""
	}
	addr := enc[:eq] + "@" + enc[eq+1:]
	if !validLocal(enc[:eq]) || !validDomain(enc[eq+1:]) {
		return ""
	}
	return addr
}

// parseTime reads an RFC 5322 date; the common form is tried first, since
// net/mail's failed attempts at other layouts cost more than the parse.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	fast := s
	if i := strings.IndexByte(fast, '('); i > 0 {
		fast = strings.TrimSpace(fast[:i])
	}
	if i := strings.IndexByte(fast, ','); i >= 0 && i < 5 {
		fast = strings.TrimSpace(fast[i+1:])
	}
	if t, err := time.Parse("2 Jan 2006 15:04:05 -0700", fast); err == nil {
		return t.UTC()
	}
	if d, err := netmail.ParseDate(strings.TrimSpace(s)); err == nil {
		return d.UTC()
	}
	return time.Time{}
}

// inlineDSN reads RFC 3464 fields written into the text of a notice
// instead of a delivery-status part.
// QUIRK: testdata/dsn-fields-in-text.eml (Amazon WorkMail and others).
func (p *parser) inlineDSN(body string) {
	lower := asciiLower(body)
	i := strings.Index(lower, "\nfinal-recipient:")
	if i < 0 {
		return
	}
	if j := strings.Index(lower, "\nreporting-mta:"); j >= 0 && j < i {
		i = j
	}
	p.deliveryStatusText(body[i+1:])
}

// soleOriginalRecipient returns the one address the returned original was
// sent to, when it names exactly one in To and none in Cc: a bounce of a
// message to one recipient is about that recipient.
// QUIRK: testdata/sendmail-v5-no-recipient.eml names no one in its text.
func (p *parser) soleOriginalRecipient() string {
	if p.origHdr.Len() == 0 || len(headerAddrs(p.origHdr, "Cc")) > 0 {
		return ""
	}
	to := headerAddrs(p.origHdr, "To")
	if len(to) != 1 {
		return ""
	}
	ex := p.excluded()
	if excludedAddr(to[0], ex) {
		return ""
	}
	return to[0]
}

// lowerBody returns asciiLower(body), computed once per message.
func (p *parser) lowerBody(body string) string {
	if p.lower == nil || p.lowerOf != body {
		l := asciiLower(body)
		p.lower, p.lowerOf = &l, body
	}
	return *p.lower
}

// bodyDiagnostic returns diagnosticFrom(body), computed once per message.
func (p *parser) bodyDiagnostic(body string) string {
	if p.bodyDiag == nil || p.bodyDiagOf != body {
		d := diagnosticFrom(body)
		p.bodyDiag, p.bodyDiagOf = &d, body
	}
	return *p.bodyDiag
}

func isForward(subject string) bool {
	s := asciiLower(strings.TrimSpace(subject))
	// Netscape and early Thunderbird bracket the subject: "[Fwd: x]".
	s = strings.TrimPrefix(s, "[")
	return strings.HasPrefix(s, "fwd:") || strings.HasPrefix(s, "fw:") || strings.HasPrefix(s, "tr:") ||
		strings.HasPrefix(s, "wg:") || strings.HasPrefix(s, "rv:")
}

// unquote removes the "> " quoting of a forwarded message's lines.
func unquote(s string) string {
	if !strings.Contains(s, "\n>") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		for strings.HasPrefix(l, ">") {
			l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// forwardMarkers open a forwarded message in mail programs' forwards:
// Apple Mail's, Gmail's and Thunderbird's, Outlook's, and Netscape's and
// early Thunderbird's "-------- Original Message --------".
var forwardMarkers = []string{"begin forwarded message", "forwarded message", "-----original message-----",
	"-------- original message --------", "original message follows"}

// skipForwardHeader drops what comes before the forwarded message and its
// header block (From, Date, To, Subject of the forwarded bounce), which it
// returns too. The notice ends where a forward marker introduces the next
// message: a mail program shows the original a notice attached as one more
// forwarded message ("---------- Forwarded message ----------").
func skipForwardHeader(s string) (rest, hdr string) {
	l := asciiLower(s)
	for _, m := range forwardMarkers {
		i := strings.Index(l, m)
		if i < 0 {
			continue
		}
		rest = s[i:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = strings.TrimLeft(rest[nl+1:], " \t\n")
		}
		if end := strings.Index(rest, "\n\n"); end >= 0 && isHeaderLine(rest) {
			hdr, rest = rest[:end+1], rest[end+2:]
			if j := forwardMarkerLine(rest); j >= 0 {
				rest = rest[:j]
			}
		}
		return rest, hdr
	}
	if start, end := forwardHeaderBlock(s); start >= 0 {
		// Outlook's forward in HTML has no marker line: a rule drawn in
		// CSS, then the From/Sent/To/Subject block.
		return s[end:], s[start:end]
	}
	// A reply-style forward: the notice quoted under the attribution
	// line of its author ("On Thu, Dec 3, 2026 at 10:00 AM Mail
	// Delivery System <MAILER-DAEMON@…> wrote:").
	for off := 0; off < len(s); {
		line, next := nextLine(s, off)
		t := strings.TrimSpace(asciiLower(line))
		for _, w := range attributionEnds {
			if strings.HasSuffix(t, w) && strings.IndexByte(t, '@') >= 0 {
				return s[next:], "From: " + strings.TrimSpace(line[:len(strings.TrimRight(line, " \t"))-len(w)]) + "\n"
			}
		}
		off = next
	}
	return s, ""
}

// forwardHeaderBlock finds the header block of a forwarded message that
// no marker announces: a line "From: …" followed, before a blank line and
// within eight lines, by "Subject: …". It returns the block's start and
// the offset after it, or -1.
func forwardHeaderBlock(s string) (start, end int) {
	for off := 0; off < len(s); {
		line, next := nextLine(s, off)
		if !strings.HasPrefix(asciiLower(strings.TrimSpace(line)), "from:") {
			off = next
			continue
		}
		subject := false
		o := next
		for n := 0; n < 8 && o < len(s); n++ {
			l, n2 := nextLine(s, o)
			t := asciiLower(strings.TrimSpace(l))
			if t == "" {
				break
			}
			subject = subject || strings.HasPrefix(t, "subject:")
			o = n2
		}
		if subject {
			return off, o
		}
		off = next
	}
	return -1, -1
}

// attributionEnds end the line with which a mail program attributes the
// text it quotes, lower case: Gmail's, Apple Mail's and Thunderbird's
// ("On <date>, <name> <address> wrote:"), in English, German, French.
var attributionEnds = []string{" wrote:", " schrieb:", " a écrit :", " a écrit:"}

// forwardMarkerLine returns the offset of the first line of s that opens
// with a forward marker, or -1.
func forwardMarkerLine(s string) int {
	for off := 0; off < len(s); {
		line, next := nextLine(s, off)
		t := asciiLower(strings.TrimLeft(line, " \t-=*>"))
		for _, m := range forwardMarkers {
			if strings.HasPrefix(t, m) {
				return off
			}
		}
		off = next
	}
	return -1
}

// statusComment returns the text after the code of a Status field value.
func statusComment(v string) string {
	v = strings.TrimSpace(v)
	code := findStatus(v)
	if code == "" {
		return ""
	}
	i := strings.Index(v, code)
	rest := strings.TrimSpace(v[i+len(code):])
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(rest, "("), ")"))
	return rest
}

// googleGroups reports whether the bounce is Google Groups refusing a post:
// its recipients are groups, and the notice, written in the reader's
// language, links to the group's help.
func (p *parser) googleGroups(body string) bool {
	if p.rep.Len() == 0 || (p.lazy != nil && !p.blocksAllGroups) {
		return false
	}
	for _, r := range p.rep.Recipients {
		if !strings.HasSuffix(asciiLower(r.FinalRecipient), "@googlegroups.com") {
			return false
		}
	}
	return strings.Contains(p.lowerBody(body), "groups.google.com") || strings.Contains(p.lowerBody(body), "googlegroups.com")
}
