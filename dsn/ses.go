package dsn

import (
	"encoding/json"
	"strings"
)

// sesRecipient is one recipient of an Amazon SES notification.
type sesRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// sesNotification reads the JSON notifications Amazon SES sends by mail
// through SNS (notificationType Bounce, Complaint or Delivery, and the
// eventType DeliveryDelay of event publishing).
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
	dl := strings.Index(body, `"delayedRecipients"`)
	var rs []sesRecipient
	switch {
	case j >= 0:
		p.rep.Kind = KindDSN
		rs = jsonArray[sesRecipient](body[j:])
	case dl >= 0:
		// A DeliveryDelay event: SES is still retrying these
		// recipients ("Contents of event data that Amazon SES publishes
		// to Amazon SNS", deliveryDelay object).
		p.rep.Kind = KindDSN
		rs = jsonArray[sesRecipient](body[dl:])
		for i := range rs {
			if rs[i].Action == "" {
				rs[i].Action = string(ActionDelayed)
			}
		}
	case k >= 0:
		p.rep.Kind = KindFeedback
		rs = jsonArray[sesRecipient](body[k:])
		for i := range rs {
			rs[i].Action = string(ActionFailed)
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
	p.rep.Vendor = VendorAmazonSES
	var bounceStatus string
	if j >= 0 {
		bounceStatus = sesBounceStatus(jsonString(body, `"bounceType"`), jsonString(body, `"bounceSubType"`))
	}
	for _, r := range rs[:min(len(rs), p.opts.MaxRecipients)] {
		a := cleanAddr(r.EmailAddress)
		if a == "" {
			continue
		}
		if r.Status == "" && r.Action == "" && bounceStatus != "" {
			// A bounce without the receiver's DSN names its recipients
			// only; the notification's type says the rest.
			r.Action, r.Status = string(ActionFailed), bounceStatus
		}
		typ, diag := typedValue(r.DiagnosticCode)
		rec := Recipient{FinalRecipient: a, Position: PositionSES, Action: Action(strings.ToLower(r.Action)), Status: findStatus(r.Status),
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

// sesBounceStatus returns the status that an Amazon SES bounce type and
// subtype stand for, for a recipient the notification gives no DSN fields
// ("Bounce notification without a DSN" in the SES developer guide's
// notification examples): Permanent is class 5 and Transient class 4
// (RFC 3463), with the detail of the subtypes the guide's bounce types
// table defines as one condition: NoEmail (the address does not exist),
// MailboxFull, MessageTooLarge. Undetermined, and a type SES may add
// later, stand for nothing.
func sesBounceStatus(typ, sub string) string {
	var class string
	switch strings.ToLower(typ) {
	case "permanent":
		class = "5"
	case "transient":
		class = "4"
	default:
		return ""
	}
	switch strings.ToLower(sub) {
	case "noemail":
		if class == "5" {
			return "5.1.1"
		}
	case "mailboxfull":
		return class + ".2.2"
	case "messagetoolarge":
		return class + ".3.4"
	}
	return class + ".0.0"
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
