package classify

import "strings"

// A relay that reports another server's answer wraps it in its own
// summary: Amazon SES ("5.1.0 - Unknown address error 550-'5.7.1 <…>...
// Access denied'"), Exchange ("Remote Server returned '550 5.1.1 …'"),
// Postfix ("host mx.example.com[192.0.2.1] said: 550 …"), Gmail ("The
// response from the remote server was: 550 …"). The receiving server's
// reply inside decides, not the summary around it (docs/taxonomy.md, "How
// evidence is weighed").

// relayMark is a wording that introduces the receiving server's reply.
type relayMark struct {
	// open is the lower-case text just before the reply.
	open string
	// quoted says the reply ends at the last "'" after open.
	quoted bool
	// host says open must follow "host " within maxRelayHost bytes
	// (Postfix's "host X said:"; "said:" alone is too common).
	host bool
}

// maxRelayHost caps the bytes between "host " and "said:" in Postfix's
// wording: a host name and an address in brackets.
const maxRelayHost = 300

// relayMarks are the wrappings of the relays named in the file comment.
var relayMarks = []relayMark{
	{open: "remote server returned '", quoted: true},
	{open: "the response from the remote server was:"},
	{open: " said:", host: true},
}

// unwrapRelay returns in with its diagnostic cut down to the receiving
// server's reply when a relay wrapped it, and the codes of that reply in
// place of the relay's; relaySt is the status of the relay's own summary
// (SES's "5.3.0 - Other mail system problem"), and ok is false when
// nothing wrapped it.
func unwrapRelay(in Input) (out Input, relaySt string, ok bool) {
	inner, reply, summary := relayInner(in.Diagnostic)
	if inner == "" || strings.TrimSpace(inner) == "" {
		return in, "", false
	}
	if summary {
		relaySt, _ = statusAt(strings.TrimSpace(in.Diagnostic))
	}
	rc, st := codesIn(inner)
	if reply != "" && rc == "" {
		rc = reply
	}
	if st != "" {
		in.Status = st
	} else if summary {
		// SES's own status only restates its summary.
		in.Status = ""
	}
	if rc != "" {
		in.ReplyCode = rc
	}
	in.Diagnostic = inner
	return in, relaySt, true
}

// relayDisagrees reports whether the relay's own status relaySt says that
// the message, not the address, failed (X.2.0, X.3.X, X.7.X) while the
// reply inside reads as an unknown user: the two disagree, and a doubt
// must not suppress anyone. The issue-18 example: SES's "5.3.0 - Other
// mail system problem 550-'Unknown user …'" from a provider whose "Unknown
// user" also means that the recipient's filter refused the sender.
func relayDisagrees(relaySt string, r Reason) bool {
	if r != ReasonUserUnknown || len(relaySt) < 5 {
		return false
	}
	switch relaySt[2:4] {
	case "3.", "7.":
		return true
	}
	return relaySt[2:] == "2.0"
}

// relayInner finds a relay's wrapping in s and returns the reply inside
// it; reply is the reply code written just before a quoted reply (SES's
// "550-'…'"), summary says that the status around is the relay's own.
func relayInner(s string) (inner, reply string, summary bool) {
	if in, rc := sesInner(s); in != "" {
		return in, rc, true
	}
	low := strings.ToLower(s)
	for _, m := range relayMarks {
		i := strings.Index(low, m.open)
		if i < 0 {
			continue
		}
		if m.host {
			h := strings.LastIndex(low[:i], "host ")
			if h < 0 || i-h > maxRelayHost {
				continue
			}
		}
		rest := s[i+len(m.open):]
		if m.quoted {
			if j := strings.LastIndexByte(rest, '\''); j >= 0 {
				rest = rest[:j]
			}
		}
		return strings.TrimSpace(rest), "", false
	}
	return "", "", false
}

// sesInner finds Amazon SES's wrapping "NNN-'reply'" (a reply code, a
// hyphen and the reply in single quotes) after SES's " - " summary, and
// returns the reply and its code.
func sesInner(s string) (inner, reply string) {
	if !strings.Contains(s, " - ") {
		return "", ""
	}
	for i := strings.Index(s, "-'"); i >= 0; {
		if i >= 3 && isDigit(s[i-1]) && isDigit(s[i-2]) && isDigit(s[i-3]) && (i == 3 || s[i-4] == ' ') &&
			(s[i-3] == '4' || s[i-3] == '5') {
			rest := s[i+2:]
			if j := strings.LastIndexByte(rest, '\''); j >= 0 {
				rest = rest[:j]
			}
			return strings.TrimSpace(rest), s[i-3 : i]
		}
		j := strings.Index(s[i+2:], "-'")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return "", ""
}
