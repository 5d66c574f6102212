package classify

import (
	_ "embed"
	"fmt"
	"strings"
)

// The built-in phrases are data: phrases.rules, in the format of a --rules
// file (ParseRules), with the marks its header explains ("!" decisive, "?"
// weak, "*" parts in order, "|" word boundaries) and the pseudo reasons
// below. Users and the code share one rule format.
//
//go:embed phrases.rules
var phrasesFile string

// phraseTable lists the built-in phrases by reason, read from phrases.rules
// once. The file is part of the program: TestPhrasesFile checks it, and a
// broken one stops the program at start rather than classify wrongly.
var phraseTable = mustPhraseTable(phrasesFile)

func mustPhraseTable(text string) map[Reason][]string {
	t, err := parsePhraseTable(text)
	if err != nil {
		panic(err)
	}
	return t
}

// parsePhraseTable reads rules-file lines into phrases by reason; a token
// may be a pseudo reason.
func parsePhraseTable(text string) (map[Reason][]string, error) {
	pseudo := map[Reason]bool{}
	for _, r := range reasonOrder {
		if strings.HasPrefix(string(r), "~") {
			pseudo[r] = true
		}
	}
	t := map[Reason][]string{}
	for n, line := range strings.Split(text, "\n") {
		pat, tok, ok, err := ruleLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: phrases.rules line %d: %v", ErrBadRule, n+1, err)
		}
		if !ok {
			continue
		}
		r := Reason(tok)
		if !r.Valid() && !pseudo[r] {
			return nil, fmt.Errorf("%w: phrases.rules line %d: unknown reason %q", ErrBadRule, n+1, tok)
		}
		t[r] = append(t[r], pat)
	}
	return t, nil
}

// Pseudo reasons: evidence that is not a reason by itself but changes how
// the others are read. They sort after every real reason.
const (
	// sigRefused is an unspecific refusal ("access denied"): the sender
	// when it answered MAIL, the sending host otherwise.
	sigRefused Reason = "~refused"
	// sigRCPT, sigDATA, sigMAIL and sigHELO name the SMTP command the text
	// says it answered ("in reply to RCPT TO command", ">>> DATA").
	sigRCPT Reason = "~rcpt"
	sigDATA Reason = "~data"
	sigMAIL Reason = "~mail"
	sigHELO Reason = "~helo"
	// sigRCPTReply marks the replies that only an answer to RCPT TO gives
	// (Postfix's "Recipient address rejected: User unknown in local
	// recipient table", smtpd_check.c): a notice that says DATA was
	// refused names the last command it sent, not the one answered.
	sigRCPTReply Reason = "~rcptreply"
	// sigPipelined marks a pipelined transcript (RFC 2920) whose DATA was
	// refused for want of a recipient: which command the refusal before
	// it answered is not known.
	sigPipelined Reason = "~pipelined"
	// sigBoilerplate marks the standard texts of RFC 5321 replies, which
	// only restate their code; they hide the phrases inside them.
	sigBoilerplate Reason = "~generic"
	// sigOrange marks an Orange error code ("OFR005_505", "LPN007_416").
	sigOrange Reason = "~orange"
)

// reasonOrder is the precedence among reasons whose phrases matched: a
// condition of the mailbox itself beats one of the host, the sender or the
// content, and a precise reason beats a broad one. It follows sisimai's
// order of reasons (Sisimai::Reason, ClassOrder), with the reasons that
// library added later slotted in beside their neighbours.
var reasonOrder = []Reason{
	ReasonMailboxFull,
	ReasonMesgTooBig,
	ReasonExceedLimit,
	ReasonSuspend,
	ReasonHasMoved,
	ReasonRequirePTR,
	ReasonNoRelaying,
	ReasonAuthFailure,
	ReasonUserUnknown,
	ReasonFiltered,
	ReasonNotCompliantRFC,
	ReasonBadReputation,
	ReasonRejected,
	ReasonNotAccept,
	ReasonHostUnknown,
	ReasonVirusDetected,
	ReasonSpamDetected,
	ReasonSpeeding,
	ReasonTooManyConn,
	ReasonBlocked,
	ReasonContentError,
	ReasonPolicyViolation,
	ReasonFailedSTARTTLS,
	ReasonSecurityError,
	ReasonExpired,
	ReasonSystemFull,
	ReasonSystemError,
	ReasonNetworkError,
	ReasonMailerError,
	ReasonSyntaxError,
	ReasonOnHold,
	sigRefused,
	ReasonVacation,
	sigBoilerplate,
	sigOrange,
	sigRCPT, sigDATA, sigMAIL, sigHELO, sigRCPTReply, sigPipelined,
}

// phraseTable lists the built-in phrases by reason.
