package dsn

import (
	"encoding/json"
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
			FinalRecipient: a, Position: PositionFeedback, Action: "failed", FeedbackType: ft, Fields: f,
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
	p.rep.Vendor = "jmrp"
	for _, a := range addrs[:min(len(addrs), p.opts.MaxRecipients)] {
		p.rep.Recipients = append(p.rep.Recipients, Recipient{FinalRecipient: a, Position: PositionFeedback, Action: "failed", FeedbackType: "abuse"})
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
	p.rep.Vendor = "unsubscribe"
	p.rep.Recipients = append(p.rep.Recipients, Recipient{FinalRecipient: p.rep.From, Position: PositionFeedback, Action: "failed", FeedbackType: "unsubscribe"})
	return true
}

// sesRecipient is one recipient of an Amazon SES notification.
type sesRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// sesNotification reads the JSON notifications Amazon SES sends by mail
// through SNS (notificationType Bounce, Complaint or Delivery).
// QUIRK: the JSON arrives folded or broken by line wrapping, so each array
// of recipients is decoded on its own (testdata/ses-json-bounce.eml).
func (p *parser) sesNotification(body string) bool {
	if strings.Contains(body, `\"notificationType\"`) || strings.Contains(body, `\"eventType\"`) {
		// QUIRK: the notification wrapped in an SNS envelope, escaped
		// (testdata/ses-sns-envelope.eml).
		body = strings.ReplaceAll(strings.ReplaceAll(body, `\"`, `"`), `\\`, `\`)
	}
	i := strings.Index(body, `"notificationType"`)
	if i < 0 {
		i = strings.Index(body, `"eventType"`)
	}
	if i < 0 {
		return false
	}
	j := strings.Index(body, `"bouncedRecipients"`)
	k := strings.Index(body, `"complainedRecipients"`)
	d := strings.Index(body, `"delivery"`)
	var rs []sesRecipient
	switch {
	case j >= 0:
		p.rep.Kind = KindDSN
		rs = jsonArray[sesRecipient](body[j:])
	case k >= 0:
		p.rep.Kind = KindFeedback
		rs = jsonArray[sesRecipient](body[k:])
		for i := range rs {
			rs[i].Action = "failed"
		}
	case d >= 0:
		p.rep.Kind = KindDSN
		for _, a := range jsonArray[string](body[d:]) {
			rs = append(rs, sesRecipient{EmailAddress: a, Action: "delivered", Status: "2.0.0"})
		}
		if sr := jsonString(body[d:], `"smtpResponse"`); sr != "" && len(rs) > 0 {
			for i := range rs {
				rs[i].DiagnosticCode = sr
				if s := findStatus(sr); s != "" {
					rs[i].Status = s
				}
			}
		}
	default:
		return false
	}
	p.rep.Vendor = "amazonses"
	for _, r := range rs[:min(len(rs), p.opts.MaxRecipients)] {
		a := cleanAddr(r.EmailAddress)
		if a == "" {
			continue
		}
		typ, diag := typedValue(r.DiagnosticCode)
		rec := Recipient{FinalRecipient: a, Position: PositionSES, Action: strings.ToLower(r.Action), Status: findStatus(r.Status),
			DiagnosticType: typ, Diagnostic: collapseSpace(diag)}
		if p.rep.Kind == KindFeedback {
			rec.FeedbackType = strings.ToLower(jsonString(body[k:], `"complaintFeedbackType"`))
			if rec.FeedbackType == "" {
				rec.FeedbackType = "abuse"
			}
		}
		rec.ReplyCode = findReplyCode(rec.Diagnostic)
		p.rep.Recipients = append(p.rep.Recipients, rec)
	}
	if mta := jsonString(body, `"reportingMTA"`); mta != "" {
		_, p.rep.ReportingMTA = typedValue(mta)
	}
	return true
}

// jsonArray decodes the first JSON array after the key that s starts with.
func jsonArray[T any](s string) []T {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return nil
	}
	depth := 0
	inStr := false
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case inStr:
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				var out []T
				raw := strings.ReplaceAll(s[i:j+1], "\n", "")
				if json.Unmarshal([]byte(raw), &out) != nil {
					return nil
				}
				return out
			}
		}
	}
	return nil
}

// jsonString returns the string value after key in s.
func jsonString(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(s[i+len(key):], " \t\n:")
	if !strings.HasPrefix(rest, `"`) {
		return ""
	}
	var v string
	end := 1
	for end < len(rest) && rest[end] != '"' {
		if rest[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(rest) {
		return ""
	}
	if json.Unmarshal([]byte(rest[:end+1]), &v) != nil {
		return ""
	}
	return v
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
