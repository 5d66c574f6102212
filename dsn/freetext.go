package dsn

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// daemonLocals are the local parts that mail systems write bounces from.
var daemonLocals = map[string]bool{
	"postmaster": true, "mailer-daemon": true, "mailer_daemon": true, "mailerdaemon": true,
	"mail-daemon": true, "maildaemon": true, "mdaemon": true, "double-bounce": true,
	// Exchange 2010 and later: the organisation's system mailbox, which
	// writes its NDRs ("Microsoft Outlook" <MicrosoftExchange329e…@…>).
	"microsoftexchange329e71ec88ae4615bbc36ab6ce41109e": true,
}

// excludedLocals are local parts that are never a failed recipient: the
// systems that write bounces, and the no-reply senders.
var excludedLocals = func() map[string]bool {
	m := map[string]bool{"noreply": true, "no-reply": true, "nobody": true}
	// Placeholders of help texts ("emailing NAME@example.edu", "write
	// to user@domain"): examples, not anyone's address.
	for _, l := range []string{"name", "username", "user.name", "yourname", "your.name", "firstname.lastname",
		"first.last", "someone", "somebody", "you", "your-address", "youraddress"} {
		m[l] = true
	}
	for l := range daemonLocals {
		m[l] = true
	}
	return m
}()

// excluded returns the addresses that are not failed recipients whatever
// the text says: the bounce's author and addressee, and the original's
// sender.
func (p *parser) excluded() map[string]bool {
	ex := map[string]bool{}
	add := func(a string) {
		if a != "" {
			ex[strings.ToLower(a)] = true
		}
	}
	add(p.rep.From)
	add(p.rep.To)
	// The bounce's own envelope and delivery address are ours (the bounce
	// mailbox, a VERP return path), never a failed recipient.
	// X-Original-To is not among them: forwarders set it to the address a
	// bounce is about.
	for _, k := range []string{"Return-Path", "Sender", "Reply-To", "Delivered-To"} {
		for _, a := range headerAddrs(p.top, k) {
			add(a)
		}
	}
	// A forwarded bounce went to the forwarder, who is no recipient.
	for _, k := range []string{"From", "To"} {
		for _, a := range headerAddrs(p.fwdHdr, k) {
			add(a)
		}
	}
	if p.origHdr.Len() > 0 {
		for _, k := range []string{"From", "Return-Path", "Sender", "Reply-To", "Errors-To"} {
			for _, a := range headerAddrs(p.origHdr, k) {
				add(a)
			}
		}
		add(p.rep.Original.MessageID)
	}
	return ex
}

// originalRecipients returns the lower-cased To and Cc addresses of the
// returned original.
func (p *parser) originalRecipients() map[string]bool {
	m := map[string]bool{}
	if p.origHdr.Len() == 0 {
		return m
	}
	for _, k := range []string{"To", "Cc"} {
		for _, a := range headerAddrs(p.origHdr, k) {
			m[strings.ToLower(a)] = true
		}
	}
	return m
}

func excludedAddr(a string, ex map[string]bool) bool {
	la := strings.ToLower(a)
	if ex[la] {
		return true
	}
	at := strings.LastIndexByte(la, '@')
	return at >= 0 && excludedLocals[la[:at]]
}

// senderWords before an address make it someone other than a recipient.
var senderWords = []string{"from", "sender", "contact", "mailto", "return-path", "reply-to", "envelope-from",
	"originator", "by", "sent", "postmaster", "id", "message-id", "msgid", "email", "e-mail", "write"}

// recipientWords before an address make it a recipient.
var recipientWords = []string{"to", "recipient", "recipients", "rcpt", "address", "addresses", "addressed", "for", "user",
	"mailbox", "addressee", "destinataire", "empfänger", "an", "destination", "failed", "deliver",
	"delivery", "delivering", "account", "宛先", "수신자", "받는사람", "destinatario", "получатель",
	"ontvanger", "geadresseerde"}

// recipientLabels are labels of several words that name the recipient
// ("받는 사람: user@example.com").
var recipientLabels = []string{"받는 사람", "받는 분", "받는분", "failed recipient", "original recipient",
	"final recipient", "dda:smtp=", // X.400's domain-defined attribute, in Exchange notices
	// Ipswitch IMail (X-Mailer: SMTP32) writes the reason, a colon and
	// the address: "User mailbox exceeds allowed size: x@y".
	"user mailbox exceeds allowed size", "delivery userid",
	// MailEnable: "Recipient: [SMTP:x@y]", the address in Exchange's
	// proxy form.
	"recipient: [smtp",
	// Prodigy: "User's mailbox is full: <x@y>" (flufl.bounce's
	// simplematch patterns); Netscape Messaging Server: "User quota
	// exceeded: x@y" (Majordomo 2's bounce parser).
	"user's mailbox is full", "user quota exceeded",
	"destinatário", "收件人", "受信者", "宛て先"}

// labelBefore returns the lower-cased text before an address without the
// colon that ends a label: ASCII, or the full-width colon (U+FF1A) and
// ideographic space (U+3000) of Chinese and Japanese notices ("收件人：x@y",
// "宛て先：x@y").
func labelBefore(before string) string {
	return strings.ToLower(strings.TrimRight(before, " \t:\uff1a\u3000"))
}

// lastWord returns the lower-cased last word of s, without punctuation.
func lastWord(s string) string {
	s = strings.TrimRight(s, " \t<\"'([:=,")
	i := strings.LastIndexAny(s, " \t\"'(<[,")
	return strings.ToLower(strings.TrimRight(s[i+1:], ":"))
}

// noticeLine is a line of notice text with what the recipient search asks
// of every address on it computed once, so that the cost per address stays
// bounded however long the line is.
type noticeLine struct {
	text   string
	helpAt int // where it starts to point the reader to someone for help (helpIndex), -1 if it does not
	paren  int // the index of its first "(", -1 if none
}

// helpFor reports whether the line's help text concerns h: the addresses
// on a line that points the reader to someone ("contact postmaster@…") are
// not recipients, unless h stands alone, opens the line before the help
// text as templates put a failed address, followed by its reason ("<x@y>:
// unable to contact the remote server", "x@y... please contact …"), or
// stands in a sentence before the help text's ("The mail to x@y could not
// be delivered. For help contact …"). before and after are the trimmed
// text around h.
func (l noticeLine) helpFor(h addrHit, before, after string) bool {
	if l.helpAt < 0 || before == "" && (after == "" || after == ":") {
		return false
	}
	if l.helpAt < h.start {
		return true
	}
	if before == "" && (strings.HasPrefix(after, ":") || strings.HasPrefix(after, "...")) {
		return false
	}
	between := l.text[min(h.end, l.helpAt):l.helpAt]
	return !strings.Contains(between, ". ") && !strings.Contains(between, "; ")
}

func newNoticeLine(s string) noticeLine {
	return noticeLine{text: s, helpAt: helpIndex(s), paren: strings.IndexByte(s, '(')}
}

// before returns at most maxContextBytes of the line before h; a cut
// starts with "… " in place of the partial word.
func (l noticeLine) before(h addrHit) string {
	s := l.text[:h.start]
	if len(s) <= maxContextBytes {
		return s
	}
	s = s[len(s)-maxContextBytes:]
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[i:]
	}
	return "…" + s
}

// after returns at most maxContextBytes of the line after h.
func (l noticeLine) after(h addrHit) string {
	s := l.text[min(len(l.text), h.end):]
	if len(s) > maxContextBytes {
		s = s[:maxContextBytes]
	}
	return s
}

// isAnchorLine reports whether the line names h as a recipient: alone on
// its line (qmail "<user@example.com>:", Exim's indented list), or after a
// word such as "to" or "recipient", or before "...", "on", ":".
func isAnchorLine(l noticeLine, h addrHit) bool {
	rawAfter := l.after(h)
	before := textBefore(l, h)
	after := strings.TrimSpace(rawAfter)
	before = strings.TrimRight(before, "<\"'( "+curlyQuotes)
	after = strings.TrimLeft(after, ">\"') "+curlyQuotes)
	lw := lastWord(before)
	if slices.Contains(senderWords, lw) {
		return false
	}
	lb := labelBefore(before)
	for _, w := range recipientLabels {
		if strings.HasSuffix(lb, w) {
			return true
		}
	}
	if l.helpFor(h, before, after) {
		return false
	}
	if replyCodeBefore(before) {
		// After a reply code, an address is a recipient only in
		// Sendmail's own status lines ("554 <user@example.com>...
		// Remote protocol error") and when the line is not about the
		// sender; inside a quoted reply ("REPLY:(250 <x@y>... Sender
		// ok)", "553 5.1.8 <x@y>... Domain of sender address does not
		// exist") it may name anyone.
		return sendmailStatusLine(before) && !strings.Contains(asciiLower(l.before(h)+h.addr+rawAfter), "sender")
	}
	if strings.HasPrefix(strings.TrimLeft(rawAfter, ">\"' "+curlyQuotes), ")") && !(l.paren >= 0 && l.paren < h.start) {
		// The end of a parenthesis opened on the line before ("(reply
		// address\nreplies@example.com) could not be delivered"): a
		// sentence wrapped, not a list of recipients.
		return false
	}
	if before == "" {
		return true
	}
	if after == "" && channelTagged(before) {
		// Post.Office (and Openwave's InterMail after it) and Netscape
		// Messaging Server name an address with its channel: "SMTP
		// <x@y>" alone on its line under "The following destination
		// addresses were unknown", "User quota exceeded: SMTP <x@y>"
		// (the formats Majordomo 2's bounce parser documents).
		return true
	}
	if slices.Contains(recipientWords, lw) {
		return true
	}
	if strings.HasPrefix(after, "...") || strings.HasPrefix(after, ":") || strings.HasPrefix(after, "on ") ||
		strings.HasPrefix(after, "(") || strings.HasPrefix(after, "-") || strings.HasPrefix(after, "[") || strings.HasPrefix(after, "のメールアドレス") {
		return true
	}
	return false
}

// channelTagged reports whether the text before an address that ends its
// line is a delivery channel's name, alone or after a reason and a colon
// ("SMTP", "User quota exceeded: LMTP"), not after a sender's label
// ("From: SMTP").
func channelTagged(before string) bool {
	b := asciiLower(before)
	for _, c := range []string{"smtp", "lmtp"} {
		if b == c {
			return true
		}
		if head, ok := strings.CutSuffix(b, ": "+c); ok {
			return !slices.Contains(senderWords, lastWord(head))
		}
	}
	return false
}

// textRecipients finds the failed recipients of a free-text bounce.
func (p *parser) textRecipients(body string) {
	if p.listNotice {
		p.listRecipient(body)
		return
	}
	ts := &textSearch{p: p, ex: p.excluded(), origTo: p.originalRecipients(), index: map[string]int{}}
	for off := 0; off < len(body); {
		at := off
		var line string
		line, off = nextLine(body, off)
		ts.scanLine(line, at)
	}
	ts.fallbacks(body)
	ts.emit(body)
}

// textCand is an address the recipient search found in a notice.
type textCand struct {
	addr     string
	pos      Position
	anchored bool // named in a recipient position
	at       int  // start of the line that named it first, -1 unknown
	hit      int  // start of the address on that line
	listed   bool // named only as an item of a "> x@y" list, its reason elsewhere
	field    bool // the value of a report's recipient field written as text
	// back is set when a later line names the address again in a
	// recipient position, at backAt (its line) and backHit.
	back            bool
	backAt, backHit int
}

// textSearch is the state of the recipient search over a notice, line by
// line.
type textSearch struct {
	p             *parser
	ex, origTo    map[string]bool
	cands         []textCand
	index         map[string]int // lower-case address → cands
	anyAnchored   bool
	anyField      bool     // some candidate is a recipient field's value
	selfListed    []string // excluded addresses listed as failed
	blockOpen     bool     // the lines since the last blank one named a recipient
	blockLabel    string   // the words before the address that opened that block, lower case
	inHeaderField bool     // the line before was a quoted header field or its folding
	prevLine      string   // the last line that was not blank
	prevAt        int      // where prevLine starts in the notice
	quotedList    bool     // the last line was an item of a "> x@y" list of failed addresses
	sendmailList  bool     // inside Sendmail's "----- The following addresses had … errors -----" list
	bareItem      bool     // its item open names no address: a program, a file, a local user
	itemAt        int      // where that item's line starts in the notice
}

// excluded reports whether a is no failed recipient (the sender, a
// postmaster, our own address). An address the original was sent to can
// be its own sender or a postmaster: sending to oneself or to postmaster@
// fails like any other. QUIRK: testdata/exim-sent-to-self.eml.
func (ts *textSearch) excluded(a string) bool {
	return excludedAddr(a, ts.ex) && !ts.origTo[strings.ToLower(a)]
}

// add records a candidate, or marks a known one anchored; it reports
// whether the address was new.
func (ts *textSearch) add(c textCand) bool {
	la := strings.ToLower(c.addr)
	if i, ok := ts.index[la]; ok {
		if c.field {
			ts.cands[i].field = true
			ts.anyField = true
		}
		if c.anchored {
			if old := &ts.cands[i]; old.listed && !c.listed && c.at >= 0 {
				// A list item says nothing of its own: the lines where the
				// address comes back (a transcript) hold its reason.
				old.at, old.hit, old.listed = c.at, c.hit, false
			} else if !old.back && c.at > old.at && old.at >= 0 {
				old.back, old.backAt, old.backHit = true, c.at, c.hit
			}
			ts.cands[i].anchored = true
			ts.anyAnchored = true
		}
		return false
	}
	ts.index[la] = len(ts.cands)
	ts.cands = append(ts.cands, c)
	ts.anyAnchored = ts.anyAnchored || c.anchored
	ts.anyField = ts.anyField || c.field
	return true
}

// scanLine reads the addresses of one notice line, which starts at offset
// at of the notice.
func (ts *textSearch) scanLine(line string, at int) {
	prev, prevAt := ts.prevLine, ts.prevAt
	if strings.TrimSpace(line) != "" {
		ts.prevLine, ts.prevAt = line, at
	} else {
		ts.blockOpen, ts.blockLabel = false, "" // a paragraph ends the lines about a recipient
	}
	indented := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
	ts.sendmailItem(line, at, indented)
	header := isQuotedHeader(line)
	ts.inHeaderField = header && !indented || ts.inHeaderField && indented
	listed := false
	if quotedLine(line) && (ts.quotedList || introducesFailures(prev)) && quotedListItem(line) {
		// QUIRK: MDaemon lists the failed addresses as "> x@y" lines
		// under "The following addresses did NOT receive a copy of your
		// message:" (testdata/synthetic-mdaemon-quoted-list.eml): a list
		// mark, not a quoted message.
		ts.quotedList, listed = true, true
		line = strings.TrimLeft(line, "> \t")
	} else if strings.TrimSpace(line) != "" {
		ts.quotedList = false
	}
	if strings.IndexByte(line, '@') < 0 || ts.inHeaderField || header || quotedLine(line) {
		// A header field of a quoted message, with its folded lines
		// ("Received: … \n\tfor <x@y>; date"), and "> "-quoted text are
		// data about a message, not a recipient position.
		return
	}
	quotedTo := isQuotedTo(line)
	nl := newNoticeLine(line)
	inBlock := ts.blockOpen
	prevIntroduces := introducesFailures(prev)
	for _, h := range findAddrs(line) {
		if inURL(line, h) {
			continue
		}
		if ts.excluded(h.addr) {
			if prevIntroduces && aloneOnLine(line, h) && !excludedLocals[localPart(h.addr)] &&
				!strings.EqualFold(h.addr, ts.p.rep.From) {
				ts.selfListed = append(ts.selfListed, h.addr)
			}
			ts.p.excludedAnchor = true
			continue
		}
		if exampleAddr(prev, nl, h) || helpAddrBelow(prev, line, h) {
			continue // an example of a help text, or its address
		}
		field := zmailerField(prev, line, h)
		anch := field || !quotedTo && isAnchorLine(nl, h)
		eximPFR := eximGeneratedBy(prev, line, h)
		sendmailBare := !eximPFR && ts.bareItem && indented && sendmailExpandedFrom(line, h)
		pfrParent := eximPFR || sendmailBare
		if pfrParent {
			// Exim names a failed file, pipe or autoreply delivery by the
			// address that generated it, on the line after "save to …",
			// Sendmail an item with no address (a program, a file, a
			// local user) by the address it was "expanded from" ("by" and
			// "from" are otherwise a sender's words).
			anch = true
		}
		label := asciiLower(strings.TrimRight(strings.TrimSpace(nl.before(h)), "<\"'( "))
		if anch && inBlock && !opensBlock(nl, h) && !pfrParent && !field && (label == "" || label != ts.blockLabel) {
			// Inside the lines about a recipient already named (its
			// server's reply, continued), an address is the reply's, not
			// another recipient, unless it opens a line or stands after a
			// recipient label, as MTA templates put them.
			anch = false
		}
		if _, known := ts.index[strings.ToLower(h.addr)]; !known && !anch && beforeWordIsSender(nl, h) {
			continue
		}
		lineAt := at
		switch {
		case eximPFR:
			lineAt = prevAt // the recipient's lines start at "save to …"
		case sendmailBare:
			lineAt = ts.itemAt // and at the item, with its "(reason: …)"
		}
		ts.add(textCand{addr: h.addr, pos: PositionTemplate, anchored: anch, at: lineAt, hit: at + h.start, listed: listed, field: field})
		if anch {
			// A line with the same words before its address as the line
			// that opened the block is the next item of a list ("unknown
			// user: x@y" then "unknown user: z@y", "SMTP <x@y>" then
			// "SMTP <z@y>").
			ts.blockOpen, ts.blockLabel = true, label
		}
	}
}

// fallbacks adds the recipients of the notices that name none in a
// recipient position: bare local parts under a list heading, the sender's
// own address listed as failed, X-Failed-Recipients.
func (ts *textSearch) fallbacks(body string) {
	if !ts.anyAnchored {
		// Bare local parts listed under "the following recipients" by the
		// recipients' own system (AOL's screen names).
		for _, b := range ts.p.bareRecipients(body) {
			ts.add(textCand{addr: b.addr, pos: b.pos, anchored: true, at: b.line, hit: b.line + b.start})
		}
	}
	if !ts.anyAnchored && len(ts.selfListed) > 0 {
		// The sender's own address, listed alone under "The following
		// address(es) failed:": a message sent to oneself bounced.
		// QUIRK: testdata/exim-sent-to-self.eml.
		for _, a := range ts.selfListed {
			ts.add(textCand{addr: a, pos: PositionTemplate, anchored: true, at: -1, hit: -1})
		}
	}
	if ts.anyAnchored {
		return
	}
	// X-Failed-Recipients (Exim, Gmail) when the text names no one.
	for _, v := range ts.p.top.Values("X-Failed-Recipients") {
		for _, h := range findAddrs(v) {
			if ts.excluded(h.addr) {
				continue
			}
			c := textCand{addr: h.addr, pos: PositionXFailedRecipients, anchored: true, at: -1, hit: -1}
			if !ts.add(c) {
				ts.cands[ts.index[strings.ToLower(h.addr)]].pos = PositionXFailedRecipients
			}
		}
	}
}

// emit turns the candidates into the report's recipients: the anchored
// ones when there are any, else all of them, from running text.
func (ts *textSearch) emit(body string) {
	p := ts.p
	for _, c := range ts.cands {
		if ts.anyAnchored && !c.anchored || ts.anyField && !c.field {
			// A report's recipient fields, where the notice has them,
			// name its recipients; the session transcripts and notes
			// around them name others.
			continue
		}
		if len(p.rep.Recipients) >= p.opts.MaxRecipients {
			p.addErr(fmt.Errorf("%w: more than %d recipients", ErrLimit, p.opts.MaxRecipients))
			p.rep.Truncated = true
			return
		}
		r := Recipient{FinalRecipient: c.addr, Position: c.pos}
		if !c.anchored {
			r.Position = PositionText
		}
		var block string
		if c.at >= 0 {
			block = recipientBlockAt(body, c.at, c.hit, c.addr)
			if c.back && (!holdsReply(block) || aloneAt(body, c.backAt, c.backHit, c.addr)) {
				// QUIRK: Exchange 2007 and later name each recipient twice:
				// with words for people first, then alone on its line
				// under "Diagnostic information for administrators", the
				// server's reply below it
				// (testdata/synthetic-exchange2010-two-recipients.eml).
				// The first lines may run on into the words about the
				// recipients named by their display name only.
				if b := recipientBlockAt(body, c.backAt, c.backHit, c.addr); holdsReply(b) {
					block = b
				}
			}
		} else {
			block = p.recipientBlock(body, c.addr)
		}
		p.fillFromText(&r, block, body)
		p.rep.Recipients = append(p.rep.Recipients, r)
	}
}

// aloneAt reports whether addr, at hit of the line of body that starts at
// st, stands alone on its line.
func aloneAt(body string, st, hit int, addr string) bool {
	line, _, _ := cutLine(body, st, maxBlockBytes)
	return alone(line, hit-st, addr)
}

// holdsReply reports whether a recipient's block of notice text holds a
// server's reply: a reply code or an enhanced status code.
func holdsReply(block string) bool {
	return findTextStatus(block) != "" || findReplyCode(block) != ""
}

// helpIndex returns where a line starts to point the reader to someone for
// help ("contact postmaster@…", "write to help@…"), or -1: the addresses
// after it are not recipients.
func helpIndex(line string) int {
	l := asciiLower(line)
	// Postfix's "(in reply to RCPT TO command)" names the command a
	// reply answered, not someone to reply to.
	l = strings.ReplaceAll(l, "in reply to", "in_reply_to")
	at := -1
	for _, ph := range helpPhrases {
		if i := strings.Index(l, ph); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

var helpPhrases = []string{"contact", "write to", "send mail to", "send an email to", "e-mail to", "email to",
	"reply to", "for help", "for assistance", "for further assistance", "helpdesk", "help desk", "questions",
	"forward this", "forward the", "forward it", "forward your", "forwarding", "report this", "please send", "mail to:", "お問い合わせ", "문의"}

func beforeWordIsSender(l noticeLine, h addrHit) bool {
	if l.helpAt >= 0 {
		return true
	}
	return slices.Contains(senderWords, lastWord(strings.TrimSpace(l.before(h))))
}

// eximGeneratedBy reports whether h is the address on Exim's "generated
// by" line: a delivery to a file, a pipe or an autoreply failed, and Exim's
// print_address_information (src/deliver.c) writes "  save to /path" or
// "  pipe to |command", then "    generated by " and the
// address whose redirection made it, alone on its line.
func eximGeneratedBy(prev, line string, h addrHit) bool {
	if !strings.HasPrefix(line, "    generated by ") || strings.TrimSpace(line[h.end:]) != "" ||
		strings.TrimRight(strings.TrimSpace(line[:h.start]), "<") != "generated by" {
		return false
	}
	p := strings.TrimSpace(prev)
	// Not "mail to x@y": an autoreply that failed is the autoreply's
	// failure, not the subscriber's.
	return indent(prev) > 0 && (strings.HasPrefix(p, "save to ") || strings.HasPrefix(p, "pipe to "))
}

// sendmailItem follows the items of Sendmail's lists of failed addresses
// (sendmail/savemail.c errbody): each item is the address as it was
// delivered (q_paddr) on a line of its own, then its indented "(reason:
// …)" and "(expanded from: …)" lines; the list ends at a blank line.
func (ts *textSearch) sendmailItem(line string, at int, indented bool) {
	t := strings.TrimSpace(line)
	switch {
	case t == "":
		ts.sendmailList, ts.bareItem = false, false
	case strings.Contains(asciiLower(t), sendmailFatal) || strings.Contains(asciiLower(t), sendmailTransient):
		// Not "had successful delivery notifications": those items did
		// not fail.
		ts.sendmailList, ts.bareItem = true, false
	case ts.sendmailList && !indented:
		// A program ("|/usr/bin/procmail"), a file ("/home/u/mbox") or a
		// local user ("lee") that a .forward or an alias named: no
		// address of its own.
		ts.bareItem, ts.itemAt = !strings.Contains(t, "@"), at
	}
}

// sendmailExpandedFrom reports whether h is the address of Sendmail's
// "(expanded from: <x@y>)" line of a list item.
func sendmailExpandedFrom(line string, h addrHit) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "(expanded from:") && strings.Count(t, "@") == 1 &&
		strings.Trim(line[h.end:], " \t>)") == ""
}

// zmailerField reports whether h is the value of a recipient field of
// ZMailer's text report: "FAILED:", then "  Original Recipient:" or
// "  Final Recipient:" on a line of its own and "    rfc822;x@y" on the
// next (the report's text part, as ZMailer's reports write it beside
// their message/delivery-status part).
func zmailerField(prev, line string, h addrHit) bool {
	label := asciiLower(strings.TrimSpace(prev))
	if label != "original recipient:" && label != "final recipient:" {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(line[:h.start]), "rfc822;") && strings.TrimSpace(line[h.end:]) == ""
}

// zmailerTranscript reports whether a line is one of ZMailer's session
// transcript ("<<- RCPT To:<x@y>" sent, "->> 250 2.1.5 Recipient ok"
// received) under a report's "Diagnostic texts:".
func zmailerTranscript(line string) bool {
	t := strings.TrimLeft(line, " \t")
	return strings.HasPrefix(t, "<<- ") || strings.HasPrefix(t, "->> ")
}

// isQuotedHeader reports whether a notice line is a header field of a
// quoted message (From:, Reply-To:, Message-ID: …), not a statement about
// a recipient.
// quotedLine reports whether a notice line is "> "-quoted text (a quoted
// message), not a transcript's ">>> RCPT TO:<x>".
func quotedLine(line string) bool {
	return strings.HasPrefix(line, ">") && !strings.HasPrefix(line, ">>>")
}

// quotedListItem reports whether a "> "-quoted line holds one address and
// nothing else: an item of a list of failed addresses.
func quotedListItem(line string) bool {
	t := strings.TrimSpace(strings.TrimLeft(line, "> \t"))
	h := findAddrs(t)
	return len(h) == 1 && strings.Trim(t[:h[0].start], "<\"' "+curlyQuotes) == "" && strings.Trim(t[h[0].end:], ">\"' "+curlyQuotes) == ""
}

func isQuotedHeader(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	for _, k := range []string{"from:", "reply-to:", "sender:", "return-path:", "message-id:", "in-reply-to:",
		"references:", "received:", "errors-to:", "list-", "x-", "dkim", "authentication-results:", "arc-"} {
		if strings.HasPrefix(l, k) {
			return true
		}
	}
	return false
}

func inURL(line string, h addrHit) bool {
	if h.start > 0 {
		c := line[h.start-1]
		if c == '=' && h.start >= 5 && strings.EqualFold(line[h.start-5:h.start], "smtp=") {
			return false // X.400 "dda:SMTP=user@example.com"
		}
		if c == '/' || c == '=' || c == '?' || c == '&' {
			return true
		}
	}
	pre := strings.ToLower(line[max(0, h.start-7):h.start])
	return strings.HasSuffix(pre, "mailto:")
}

// daemonNames in a From field name a mail system.
var daemonNames = []string{"mailer-daemon", "post_master", "mailer daemon", "mail delivery", "postmaster", "mail administrator",
	"mail system", "mailadmin", "system administrator", "delivery subsystem", "mdaemon", "mail-daemon",
	// Courier's notices: "From: Courier mail server at HOST <@>"
	// (courier/module.dsn/dsn.c).
	"courier mail server"}

// bounceSubjects are lower-case subject fragments of bounces.
var bounceSubjects = []string{
	"undeliver", "undelivered", "delivery status notification", "delivery failure", "failure notice",
	"returned mail", "mail delivery failed", "delivery failed", "delivery problem", "non-delivery",
	"nondeliverable", "not delivered", "could not be delivered", "mail system error", "delivery notification",
	"returned to sender", "warning: could not send", "delivery has failed", "rejected", "mail failure",
	"delivery report", "unable to deliver", "failed delivery", "delivery error", "bounce", "mail delivery status",
	"message not delivered", "undelivered mail", "error sending", "mail error", "delivery fail",
	"message delivery", "unzustellbar", "non remis", "non recapitabile", "no entregado", "não entregue",
	// Exchange's localized "Undeliverable:" (Spanish, Portuguese, Dutch,
	// Swedish, Japanese).
	"no se puede entregar", "não é possível entregar", "onbestelbaar", "olevererbart", "配信不能",
	"не доставлено", "недоставленное", "returned", "failure", "failed",
	"配信エラー", "未達", "エラー", "送信できません", "반송", "전송 실패", "전달 실패", "발송 실패", "退信", "退回", "系统退信",
}

// bounceBody are lower-case phrases that only bounces contain.
var bounceBody = []string{
	"could not be delivered", "couldn't be delivered", "was not delivered", "wasn't able to deliver",
	"delivery has failed", "permanent error", "permanent fatal error", "delivery to the following recipient",
	"undeliverable", "mail delivery failed", "failed permanently", "the following address", "not be delivered",
	"unable to deliver", "delivery failed", "user unknown", "no such user", "does not exist",
	"mailbox unavailable", "mailbox full", "over quota", "rejected", "remote host said",
	"error delivering", "host unknown", "message could not", "returned mail", "failed to deliver",
	"delivery attempts", "retry time", "giving up", "was undeliverable", "delivery problem",
	"error has occurred while attempting to deliver", "did not reach", "envelope expired", "could not deliver",
	"unable to be delivered", "message was not sent", "delivery to the following", "not reach the following",
	"配信できません", "届きませんでした", "送信できませんでした", "宛先不明", "配信に失敗", "送信に失敗",
	"전송되지 못", "전달되지", "반송", "발송되지", "발송 실패", "전송 실패", "전달 실패", "존재하지 않",
	"无法投递", "退信", "发送失败", "投递失败", "无法送达", "nicht zugestellt", "unzustellbar", "n'a pas pu être remis", "no se pudo entregar",
	"non è stato possibile", "não foi possível entregar", "не может быть доставлено", "не доставлено",
	// The heads of Exchange's localized NDRs: 2007 and later, then 2000
	// and 2003.
	"fehler bei der zustellung an folgende", "la remise aux destinataires ou groupes suivants a échoué",
	"error en la entrega a estos destinatarios", "falha na entrega para estes destinatários",
	"levering aan deze geadresseerden of groepen is mislukt", "hat einige oder alle empfänger nicht erreicht",
	"n'a pas atteint certains ou la totalité", "no llegó a algunos o a ninguno", "não atingiu alguns ou todos",
	"heeft sommige of alle geadresseerden niet bereikt",
}

// looksLikeBounce decides whether a message with no report part is a
// bounce: its author is a mail system, or subject or body say so.
func (p *parser) looksLikeBounce(body string) bool {
	if p.top.Get("X-Failed-Recipients") != "" {
		return true
	}
	if p.listManagerNotice(body) {
		p.listNotice = true
		return true
	}
	fromDaemon := fromMailSystem(p.top)
	from := strings.ToLower(p.rep.From)
	if at := strings.IndexByte(from, '@'); !fromDaemon && at > 0 {
		if l := from[:at]; (l == "no-reply" || l == "noreply") && (p.nullSender() || p.top.Get("Return-Path") == "") {
			// QUIRK: au (KDDI) notices come from no-reply@…, with the
			// null sender of a bounce (testdata/lhost-kddi-01.eml);
			// newsletters and spam from no-reply@ carry a return path.
			fromDaemon = true
		}
	}
	if !fromDaemon {
		// The envelope sender is a mail system's (Return-Path:
		// <MAILER-DAEMON@…>): a gateway that writes its own From.
		for _, a := range headerAddrs(p.top, "Return-Path") {
			if at := strings.LastIndexByte(a, '@'); at > 0 && isDaemonLocal(strings.ToLower(a[:at])) {
				fromDaemon = true
			}
		}
	}
	if !fromDaemon && isForward(p.rep.Subject) && p.fwdHdr.Len() > 0 {
		// A forwarded bounce: the header of the notice forwarded names
		// the daemon.
		fromDaemon = fromMailSystem(p.fwdHdr)
	} else if !fromDaemon && isForward(p.rep.Subject) {
		// A forwarded bounce: its own From line names the daemon.
		if i := strings.Index(p.lowerBody(body), "from:"); i >= 0 {
			line := body[i:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			fromDaemon = containsAny(strings.ToLower(line), daemonNames)
		}
	}
	subj := strings.ToLower(p.rep.Subject)
	subjBounce := containsAny(subj, bounceSubjects)
	lb := p.lowerBody(body)
	lb = lb[:min(len(lb), 8192)]
	bodyBounce := containsAny(lb, bounceBody)
	rawFrom := strings.ToLower(p.top.Get("From"))
	mailerDaemon := strings.Contains(rawFrom, "mailer-daemon") || strings.Contains(rawFrom, "mailer_daemon") ||
		strings.Contains(rawFrom, "mail delivery")
	switch {
	case p.humanReply(subjBounce):
		return false
	case mailerDaemon:
		// Only mail systems write as MAILER-DAEMON (RFC 5321 section
		// 4.5.5 bounces); whatever the language of the notice.
		return true
	case fromDaemon && (subjBounce || bodyBounce):
		return true
	case subjBounce && bodyBounce && p.top.Get("List-Unsubscribe") == "" &&
		(p.nullSender() || p.top.Get("Return-Path") == "" && (findTextStatus(lb) != "" || findReplyCode(lb) != "") ||
			// An ESP's notice of a bounce ("Your message to x@y bounced"),
			// sent from its own address: the recipient in the subject and
			// the server's status code in the text.
			firstAddr(p.rep.Subject) != "" && findTextStatus(lb) != "") &&
		!strings.HasPrefix(subj, "re:") && !strings.HasPrefix(subj, "fwd:") && !strings.HasPrefix(subj, "fw:"):
		// Not from a daemon: only with a machine's marks (a null
		// envelope sender, or SMTP codes), and never a human's reply.
		return true
	case fromDaemon && findTextStatus(lb) != "":
		return true
	}
	return false
}

func containsAny(s string, list []string) bool {
	for _, k := range list {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

var autoReplySubjects = []string{
	"auto:", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response", "autoresponse",
	"auto-response", "out of office", "out of the office", "away from", "on vacation", "vacation",
	"abwesenheit", "automatische antwort", "réponse automatique", "absence", "respuesta automática",
	"fuera de la oficina", "risposta automatica", "fuori ufficio", "resposta automática", "ausência",
	"автоответ", "автоматический ответ", "自動応答", "自動返信", "不在", "自动回复", "自動回覆", "부재중", "자동 응답", "자동응답",
	"away until", "i am away", "i'm away", "out-of-office",
}

// autoReplyPrefixes open the subjects that automatic replies are given,
// lower case: Outlook's and Exchange's "Automatic reply:" in their
// languages (and the older "Out of Office AutoReply:", "Out of Office:",
// German "Abwesenheitsnotiz:"), Lotus Notes' and others' "Auto:",
// "AutoReply:", "Auto Reply:".
var autoReplyPrefixes = []string{
	"automatic reply:", "auto reply:", "auto-reply:", "autoreply:", "auto:", "out of office:", "out of office autoreply:",
	"abwesenheitsnotiz:", "automatische antwort:", "réponse automatique", "respuesta automática:", "risposta automatica:",
	"resposta automática:", "automatisch antwoord:", "автоматический ответ:", "自動応答:", "自動応答：", "自动回复:", "自动回复：",
}

// autoReplySubject reports whether the subject opens as automatic replies
// name theirs (autoReplyPrefixes) and the message is no mail system's:
// such a reply stays one whatever bounce words its note holds ("not
// forwarded", "no longer monitored") or the list's subject it quotes. A
// bounce of an automatic reply opens with its own words ("Undeliverable:
// Automatic reply: …").
func (p *parser) autoReplySubject() bool {
	s := strings.ToLower(strings.TrimSpace(p.rep.Subject))
	if !hasAnyPrefix(s, autoReplyPrefixes) || p.top.Get("X-Failed-Recipients") != "" {
		return false
	}
	from := strings.ToLower(p.top.Get("From"))
	return !strings.Contains(from, "mailer-daemon") && !strings.Contains(from, "mail delivery")
}

func hasAnyPrefix(s string, list []string) bool {
	for _, k := range list {
		if strings.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

// looksLikeAutoReply recognises RFC 3834 auto-replies and the vacation
// notices of systems that do not label them.
func (p *parser) looksLikeAutoReply() bool {
	h := p.top
	as := strings.ToLower(h.Get("Auto-Submitted"))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" ||
		strings.EqualFold(h.Get("X-Auto-Response-Suppress"), "All") && containsAny(strings.ToLower(p.rep.Subject), autoReplySubjects) {
		return true
	}
	prec := strings.ToLower(h.Get("Precedence"))
	if prec == "auto_reply" || prec == "auto-reply" {
		return true
	}
	return containsAny(strings.ToLower(p.rep.Subject), autoReplySubjects)
}

// isQuotedTo reports whether a notice line quotes the original's To or Cc
// field ("  To:      user@example.net" in Exchange notices): it names a
// recipient of the message, not necessarily the one that failed.
func isQuotedTo(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	return strings.HasPrefix(l, "to:") || strings.HasPrefix(l, "cc:")
}

// listManagerRefusals are what mailing-list managers (fml, Mailman,
// Majordomo, Sympa, ezmlm) say when a list refuses a message.
var listManagerRefusals = []string{
	"not a member", "are not member", "non-member", "nonmember", "members only", "only members",
	"subscribers only", "only subscribers", "loop alert", "duplicated message-id", "post rejected",
	"posting rejected", "not allowed to post", "not authorized to post", "restricted to members",
}

// listHeldPhrases say that a list holds a message for its moderator,
// lower case: Mailman's (Hold.py and its postheld.txt: "Your message to
// LIST awaits moderator approval", "Is being held until the list
// moderator can review it for approval"). Held is not refused: the
// moderator may still post it.
var listHeldPhrases = []string{"awaits moderator approval", "is being held until the list moderator"}

// listManagerNotice recognises a mailing list's refusal of a message sent
// to it: the list address is the recipient that refused.
// QUIRK: testdata/fml-not-member.eml.
func (p *parser) listManagerNotice(body string) bool {
	h := p.top
	if h.Get("X-Mlserver") == "" && h.Get("X-Mailman-Version") == "" && h.Get("X-Ml-Name") == "" &&
		h.Get("List-Id") == "" && h.Get("X-Sympa-Version") == "" && h.Get("Mailing-List") == "" {
		return false
	}
	lb := p.lowerBody(body)
	if containsAny(asciiLower(p.rep.Subject), listHeldPhrases) || containsAny(lb[:min(len(lb), 4096)], listHeldPhrases) {
		return false
	}
	return containsAny(asciiLower(p.rep.Subject), listManagerRefusals) || containsAny(lb[:min(len(lb), 4096)], listManagerRefusals)
}

// listRecipient finds the list address in a list manager's notice: the
// first address named after "list" or "in" ("You are not a member of this
// mailing list <list@example.org>", "Duplicated Message-ID in <…>"), else
// the list its Mailing-List field names.
func (p *parser) listRecipient(body string) {
	for _, line := range strings.Split(body, "\n") {
		for _, h := range findAddrs(line) {
			switch lastWord(strings.TrimSpace(line[:h.start])) {
			case "list", "in", "ml":
				r := Recipient{FinalRecipient: h.addr, Position: PositionTemplate}
				p.fillFromText(&r, line, body)
				p.rep.Recipients = append(p.rep.Recipients, r)
				return
			}
		}
	}
	// The notice names the list only by its name ("the other group"):
	// its own Mailing-List field names its address, as Yahoo Groups,
	// eGroups and ezmlm write it ("list other@example.com; contact
	// other-owner@example.com").
	ex := p.excluded()
	for _, v := range p.top.Values("Mailing-List") {
		for _, h := range findAddrs(v) {
			if lastWord(strings.TrimSpace(v[:h.start])) != "list" || excludedAddr(h.addr, ex) {
				continue
			}
			r := Recipient{FinalRecipient: h.addr, Position: PositionTemplate}
			p.fillFromText(&r, body, body)
			p.rep.Recipients = append(p.rep.Recipients, r)
			return
		}
	}
}

func localPart(a string) string {
	if at := strings.LastIndexByte(a, '@'); at >= 0 {
		return strings.ToLower(a[:at])
	}
	return strings.ToLower(a)
}

// textBefore returns the trimmed text of the line before h, but for the
// display name of a name-addr ("Ann Example <ann@example.net>", RFC 5322
// section 3.4): a list of failed recipients may write its items so, and
// the name is no text about the address.
func textBefore(l noticeLine, h addrHit) string {
	before := strings.TrimSpace(l.before(h))
	if b, ok := strings.CutSuffix(before, "<"); ok && displayName(strings.TrimSpace(b)) {
		return "<"
	}
	return before
}

// displayName reports whether s, the whole text before an address in
// angle brackets, is the display name of a name-addr (RFC 5322 section
// 3.4) in a form no sentence takes: a quoted string ("\"Example, Ann\""),
// or an encoded word (RFC 2047). Bare words ("The Mail Team <x@y>", a
// signature) are not taken for one: a false recipient costs more than a
// missed one.
func displayName(s string) bool {
	if len(s) < 2 || len(s) > 80 {
		return false
	}
	if s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s[1:len(s)-1], `"`) {
		return true
	}
	return strings.HasPrefix(s, "=?") && strings.HasSuffix(s, "?=") && !strings.ContainsAny(s, " \t")
}

// curlyQuotes are the typographic quotes that Outlook and Word put for
// straight ones around an address (“x@y”, „x@y“ in German, «x@y» in
// French); around an address they are what straight quotes are.
const curlyQuotes = "“”„‟‘’‚«»‹›"

// aloneOnLine reports whether h is the only thing on its line but for
// brackets, quotes and a colon.
func aloneOnLine(line string, h addrHit) bool {
	return strings.Trim(line[:h.start], " \t<\""+curlyQuotes) == "" && strings.Trim(line[h.end:], " \t>\":"+curlyQuotes) == ""
}

// introducesFailures reports whether a line announces a list of failed
// recipients ("The following address(es) failed:").
func introducesFailures(line string) bool {
	l := strings.ToLower(line)
	return strings.Contains(l, "failed:") || strings.Contains(l, "following recipient") ||
		// MDaemon: "The following addresses did NOT receive a copy of
		// your message:"
		strings.Contains(l, "did not receive a copy of your message") ||
		strings.Contains(l, "following address") || strings.Contains(l, "fatal errors") ||
		// GroupWise: "The message that you sent was undeliverable to the
		// following:", then the user ids with their reason.
		strings.Contains(l, "undeliverable to the following")
}

// nullSender reports whether the bounce came with the null envelope sender
// (Return-Path: <>), as RFC 5321 section 4.5.5 requires of notifications.
func (p *parser) nullSender() bool {
	for _, v := range p.top.Values("Return-Path") {
		if strings.TrimSpace(v) == "<>" {
			return true
		}
	}
	return false
}

// sendmailStatusLine reports whether the text before an address is only a
// reply code and an optional enhanced status code ("554", "550 5.1.1"), as
// Sendmail begins its per-recipient status lines.
func sendmailStatusLine(before string) bool {
	f := strings.Fields(before)
	if len(f) == 0 || len(f) > 2 || len(f[0]) != 3 || !isDigit(f[0][0]) || !isDigit(f[0][1]) || !isDigit(f[0][2]) {
		return false
	}
	return len(f) == 1 || findStatus(f[1]) == f[1]
}

// replyCodeBefore reports whether the text before an address holds a
// server's reply: a three-digit code among its words ("452 4.4.5 <x@y>",
// "550 RCPT <x@y>", "said: 553 5.1.8 <x@y>... Domain of sender address
// x@y does not exist"). The address is then inside the reply.
func replyCodeBefore(before string) bool {
	return replyCodeStart(before) >= 0
}

// replyCodeStart returns the index in before of the last word that is a
// reply code, or -1.
func replyCodeStart(before string) int {
	end := len(before)
	for end > 0 {
		i := strings.LastIndexAny(before[:end], " \t:([<")
		w := before[i+1 : end]
		w = strings.TrimRight(w, "-")
		if len(w) == 3 && (w[0] == '2' || w[0] == '4' || w[0] == '5') && isDigit(w[1]) && isDigit(w[2]) {
			return i + 1
		}
		if i < 0 {
			break
		}
		end = i
	}
	return -1
}

// challengePhrases are what challenge/response and whitelisting systems
// write when they hold a message until its sender proves itself (Boxbe,
// Spam Arrest, Mailblocks, SpamCop's and ISPs' own), lower case.
var challengePhrases = []string{
	"not pre-approved", "pre-approved sender", "guest list", "challenge/response", "challenge-response",
	"spam arrest", "spamarrest", "mailblocks", "verify that you are a human", "verify you are a human",
	"verify that you are human", "verify you are human",
	"prove that you are a human", "confirm that you are a human", "confirm you are a human",
	"verify that you are a real person", "confirm that you are a real person", "awaiting your verification",
	"held pending verification", "pending your verification", "until you verify", "please verify your message",
	"to have your message delivered, please", "approved senders list", "approved sender list",
	// The sending server asked to confirm itself on a web page.
	"server requires confirmation", "to confirm this mail server", "confirm your sending server",
	// TMDA's confirm_request.txt: "To release your message for delivery,
	// please send an empty message …", "[ This message was generated by
	// TMDA …, an automated junk-mail reduction system. ]".
	"to release your message for delivery", "automated junk-mail reduction system",
}

// maxChallengeText caps the notice text searched for a challenge: such
// systems say what they want at the top.
const maxChallengeText = 2 << 10

// challenge reports whether the notice, or the diagnostic of a recipient,
// is a challenge/response request rather than a failure.
func (p *parser) challenge(body string) bool {
	if p.challengeText == 0 { // the notice is searched once per message
		p.challengeText = -1
		lb := p.lowerBody(body)
		if containsAny(lb[:min(len(lb), maxChallengeText)], challengePhrases) {
			p.challengeText = 1
		}
	}
	if p.challengeText > 0 || (p.lazy != nil && p.blocksChallenge) {
		return true
	}
	for _, r := range p.rep.Recipients {
		if containsAny(asciiLower(r.Diagnostic), challengePhrases) {
			return true
		}
	}
	return false
}

// maxBareRecipients caps the bare local parts read from one list.
const maxBareRecipients = 100

// bareRecipient is a local part listed alone as a failed recipient, made
// an address.
type bareRecipient struct {
	addrHit     // start: the column of the name
	line    int // the offset of its line
	pos     Position
}

// bareRecipients reads the indented bare local parts ("\tscreenname")
// listed right under a line that announces failed recipients, in a notice
// written by a mail daemon. Each is the original's recipient of that local
// part when there is one; else an address at the daemon's domain when the
// daemon writes from the organisation's own domain (MAILER-DAEMON@aol.com);
// else at that organisation's domain (publicsuffix: mr2.its.example.edu
// gives example.edu), a guess that is PositionText: never acted on alone.
func (p *parser) bareRecipients(body string) []bareRecipient {
	from := strings.ToLower(p.rep.From)
	at := strings.LastIndexByte(from, '@')
	if at < 0 || !isDaemonLocal(from[:at]) || !validDomain(from[at+1:]) {
		return nil
	}
	domain, guessed := from[at+1:], false
	if org, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil && org != domain {
		domain, guessed = org, true
	}
	origByLocal := map[string]string{}
	for a := range p.originalRecipients() {
		if k := strings.LastIndexByte(a, '@'); k > 0 {
			origByLocal[a[:k]] = a
		}
	}
	var out []bareRecipient
	listing := false
	for off := 0; off < len(body) && len(out) < maxBareRecipients; {
		st := off
		var line string
		line, off, _ = cutLine(body, off, maxBlockBytes)
		name := strings.TrimSpace(line)
		if i := strings.Index(name, "  "); i > 0 && indent(line) > 0 {
			// "  name    No matches to nameserver query": the reason
			// beside the name, in a column of its own.
			name = name[:i]
		}
		if i := strings.Index(name, " ("); i > 0 && strings.HasSuffix(name, ")") && indent(line) > 0 {
			// GroupWise: "\tjoe (user not found)", the reason in
			// parentheses after the user id.
			name = name[:i]
		}
		switch {
		case introducesFailures(line) || strings.HasSuffix(name, ":") && strings.Contains(asciiLower(line), "following"):
			listing = true
		case listing && indent(line) > 0 && name != "" && validLocal(name) && !strings.ContainsAny(name, " \t@<>()[],;:\"") && isASCII(name):
			i := strings.Index(line, name)
			addr, pos := name+"@"+domain, PositionTemplate
			if guessed {
				pos = PositionText
			}
			if a := origByLocal[strings.ToLower(name)]; a != "" {
				addr, pos = a, PositionTemplate // the original was sent to it
			}
			out = append(out, bareRecipient{addrHit{addr: addr, start: i, end: i + len(name)}, st, pos})
		case name == "" && len(out) == 0:
			// a blank line may separate the list from its heading
		default:
			listing = false
		}
	}
	return out
}

// isDaemonLocal reports whether a local part names a mail system, not a
// person.
func isDaemonLocal(l string) bool {
	switch l {
	case "mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "maildaemon":
		return true
	}
	return false
}

// opensBlock reports whether h stands where MTA templates put a recipient
// at the head of its lines: opening the line ("<x@y>:", "  x@y", "x@y ...
// reason"), or after a recipient label ("Failed recipient:", "dda:SMTP=",
// "RCPT TO:<x@y>" of a transcript).
func opensBlock(l noticeLine, h addrHit) bool {
	before := strings.TrimRight(textBefore(l, h), "<\"'( "+curlyQuotes)
	if before == "" || sendmailStatusLine(before) {
		return true // a line of its own, or Sendmail's "554 <x@y>... reason"
	}
	lb := labelBefore(before)
	for _, w := range recipientLabels {
		if strings.HasSuffix(lb, w) {
			return true
		}
	}
	return strings.HasSuffix(lb, "rcpt to") || strings.HasSuffix(lb, "rcpt to:")
}

// humanReply reports whether a message signed as a mail daemon carries a
// person's marks instead: a reply (In-Reply-To) with a return path that
// is not null, under a subject that is not a bounce's. Such a message is
// mail, whatever words it holds.
func (p *parser) humanReply(subjBounce bool) bool {
	return p.top.Get("In-Reply-To") != "" && !subjBounce && !p.nullSender() && p.top.Get("Return-Path") != ""
}

// helpAddrBelow reports whether h stands alone on its line under a line
// that ends by pointing the reader to someone ("For assistance, contact
// the help desk at:", "Please reply to", "Questions? Send mail to:",
// "Please contact your system administrator:"): the
// address completes the help text and is no recipient. A line that
// announces the failed recipients is no help text, whatever it says.
func helpAddrBelow(prev, line string, h addrHit) bool {
	if !aloneOnLine(line, h) || introducesFailures(prev) {
		return false
	}
	p := strings.TrimRight(asciiLower(strings.TrimSpace(prev)), " :")
	ends := false
	for _, e := range []string{" to", " at", "contact", "questions", "help desk", "helpdesk", "postmaster",
		"administrator", "admin", "support", " mail"} {
		ends = ends || strings.HasSuffix(p, e)
	}
	if !ends {
		return false
	}
	tail := p[max(0, len(p)-40):]
	for _, ph := range []string{"contact", "write to", "send mail to", "send an email to", "reply to", "for help",
		"assistance", "helpdesk", "help desk", "questions"} {
		if strings.Contains(tail, ph) {
			return true
		}
	}
	return false
}

// exampleAddr reports whether h is an example of a help text: after
// "e.g." or "for example" on its line, or at the start of a line that
// continues a sentence ending in one ("…, e.g., if\nx@y fails, try …").
func exampleAddr(prev string, l noticeLine, h addrHit) bool {
	words := []string{"e.g.", "e. g.", "for example", "for instance", "such as", "z.b.", "p.ex."}
	if containsAny(asciiLower(l.before(h)), words) {
		return true
	}
	if strings.TrimSpace(l.before(h)) != "" {
		return false
	}
	p := asciiLower(strings.TrimSpace(prev))
	tail := p[max(0, len(p)-24):]
	return containsAny(tail, words)
}
