package dsn

import (
	"fmt"
	"net/textproto"
	"strings"
)

// feedbackRecipients fills the recipients of an RFC 5965 feedback report:
// Original-Rcpt-To (section 3.2), else the To of the returned original.
func (p *parser) feedbackRecipients() {
	f := p.feedback
	ft := strings.ToLower(firstWord(f.Get("Feedback-Type")))
	if ft == "" {
		ft = "abuse"
	}
	var addrs []string
	for _, k := range []string{"Original-Rcpt-To", "Removal-Recipient"} {
		for _, v := range f[k] {
			if a := cleanAddr(v); a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 && p.origHdr.Len() > 0 {
		addrs = headerAddrs(p.origHdr, "X-Hmxmroriginalrecipient")
		if len(addrs) == 0 {
			addrs = headerAddrs(p.origHdr, "To")
		}
	}
	_, p.rep.ReportingMTA = typedValue(f.Get("Reporting-Mta"))
	if p.rep.ReportingMTA == "" {
		p.rep.ReportingMTA = f.Get("Reported-Domain")
	}
	if d := parseTime(f.Get("Arrival-Date")); !d.IsZero() {
		p.rep.ArrivalDate = d
	}
	if p.rep.Original.From == "" {
		p.rep.Original.From = cleanAddr(f.Get("Original-Mail-From"))
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[strings.ToLower(a)] {
			continue
		}
		if len(p.rep.Recipients) >= p.opts.MaxRecipients {
			p.addErr(fmt.Errorf("%w: more than %d recipients", ErrLimit, p.opts.MaxRecipients))
			break
		}
		seen[strings.ToLower(a)] = true
		p.rep.Recipients = append(p.rep.Recipients, Recipient{
			FinalRecipient: a, Position: PositionFeedback, Action: ActionFailed, FeedbackType: ft, Fields: f,
			Diagnostic: feedbackSummary(ft, f),
		})
	}
}

// hotmailComplaint recognises the feedback loop reports that Microsoft
// (Hotmail/Outlook.com JMRP) sends without a feedback-report part: the
// original is attached with an X-HmXmrOriginalRecipient field.
// QUIRK: testdata/arf-hotmail-jmrp.eml.
func (p *parser) hotmailComplaint() bool {
	if p.origHdr.Len() == 0 {
		return false
	}
	addrs := headerAddrs(p.origHdr, "X-Hmxmroriginalrecipient")
	subj := strings.ToLower(p.rep.Subject)
	if len(addrs) == 0 && !strings.Contains(subj, "complaint about message") {
		return false
	}
	if len(addrs) == 0 {
		addrs = headerAddrs(p.origHdr, "To")
	}
	p.rep.Kind = KindFeedback
	p.rep.Vendor = VendorJMRP
	for _, a := range addrs[:min(len(addrs), p.opts.MaxRecipients)] {
		p.rep.Recipients = append(p.rep.Recipients, Recipient{FinalRecipient: a, Position: PositionFeedback, Action: ActionFailed, FeedbackType: "abuse"})
	}
	return true
}

// unsubscribeRequest recognises a List-Unsubscribe mailto request (RFC
// 2369; sent by mail clients such as Apple Mail's "unsubscribe" button): the
// subscriber asked to be removed, which a list must honour like a complaint.
func (p *parser) unsubscribeRequest() bool {
	s := strings.ToLower(strings.TrimSpace(p.rep.Subject))
	if s != "unsubscribe" && !strings.HasPrefix(s, "unsubscribe ") {
		return false
	}
	if p.rep.From == "" {
		return false
	}
	p.rep.Kind = KindFeedback
	p.rep.Vendor = VendorUnsubscribe
	p.rep.Recipients = append(p.rep.Recipients, Recipient{FinalRecipient: p.rep.From, Position: PositionFeedback, Action: ActionFailed, FeedbackType: "unsubscribe"})
	return true
}

// feedbackSummary is the diagnostic of a complaint: its type, and who
// reported it.
func feedbackSummary(ft string, f textproto.MIMEHeader) string {
	d := "Feedback-Type: " + ft
	if ua := collapseSpace(f.Get("User-Agent")); ua != "" {
		d += "; User-Agent: " + ua
	}
	if rd := collapseSpace(f.Get("Reported-Domain")); rd != "" {
		d += "; Reported-Domain: " + rd
	}
	return d
}
