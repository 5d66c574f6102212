// Package classify decides, for each recipient of a delivery report, the
// reason it bounced and the category a mailing list acts on
// (docs/taxonomy.md at the module's root): 36 reasons (ReasonUserUnknown,
// ReasonMailboxFull, …) in five categories (CategoryHard, CategorySoft,
// CategoryPolicy, CategoryComplaint, CategoryNone). Every Result carries the
// Evidence that decided it, for `bouncer parse --explain`.
//
// # Precedence
//
// Classify weighs the evidence of an Input in this order; the first step
// that decides wins:
//
//  1. The kind of message. A feedback report (RFC 5965) is feedback
//     (complaint), unless its Feedback-Type says it is no complaint:
//     "not-spam" (RFC 6650) is notbounce, "virus" virusdetected; an
//     auto-reply (RFC 3834) is
//     vacation; a message that
//     reports nothing is notbounce; Action delivered, relayed or expanded
//     (RFC 3464 section 2.3.3), or a 2.X.X status on a record that does not
//     say it failed, is delivered. Their category is always none (feedback:
//     complaint), whatever the words.
//  2. The user's rules (Options.Rules, see ParseRules), in file order.
//  3. The words of the diagnostic, in any language (the text is UTF-8 by
//     the time it gets here). Decisive wordings first (a provider's own:
//     Orange error codes, Yahoo's "dd" replies, Gmail's rate message; and
//     "sender address rejected", which no other word overrides), then the
//     phrase table, where overlapping phrases yield to the longer one and
//     the reasons rank as reasonOrder says (a full mailbox before an
//     unknown user before a blocked host …), then the weak phrases (a lone
//     "spam", "dmarc"). Generic words ("delivery failed", "undeliverable")
//     are not in the table: they decide nothing. When a relay wrapped
//     the receiving server's reply (SES's "Unknown address error
//     550-'…'", Exchange's "Remote Server returned '…'", Postfix's "host
//     X said:", Gmail's "The response from the remote server was:"), the
//     words and codes inside decide (relay.go); an unknown user inside a
//     relay's status that says the message was refused (X.3.X, X.7.X) is
//     filtered. The SMTP command qualifies the words (docs/taxonomy.md):
//     an unknown user in reply to DATA is filtered whatever the words and
//     the status (the address was accepted at RCPT TO); a reply only
//     RCPT TO gets ("Recipient address rejected") makes the command RCPT;
//     a pipelined transcript (RFC 2920) whose DATA was refused for want of
//     a recipient names no command. An unknown user under a status saying
//     the mailbox exists (X.2.X) or a policy refused (X.7.X) is filtered,
//     unless the command was RCPT; an
//     unknown address or an unspecific refusal in reply to MAIL concerns
//     the sender: rejected, as does an unknown or disabled mailbox under
//     a status of the sender's address (X.1.7, X.1.8, X.7.27), unless the
//     command was RCPT; a host-unknown message under a temporary code
//     is a networkerror; network or system trouble on a delayed record is
//     expired. An unspecific refusal ("access denied") defers to the codes
//     and otherwise blocks the sending host.
//  4. A refusal in reply to MAIL without telling words: rejected. Then
//     the enhanced status code (RFC 3463 class.subject.detail, with the
//     IANA registry of RFC 5248 and Microsoft's X.7.5xx-7xx codes). X.0.0
//     and X.5.0 say nothing and fall through.
//  5. The basic reply code (RFC 5321 section 4.2.3), when its meaning is
//     specific (421, 451, 452, 5yz syntax errors, 551, 552, 556, …).
//  6. The command (a refusal before MAIL blocks the sending host), the
//     action (delayed: expired) and the vendor: a Google group's refusal
//     is rejected, a notice of au's filter (dsn.VendorAuFilter, marked
//     "X-SPASIGN: NG") filtered.
//     A class-4 status alone never makes a hard record: 4.1.1 is onhold.
//     Nor does anything on a record whose Action is delayed: the sending
//     server is still retrying, and a hard reason becomes onhold.
//  7. Otherwise onhold when a failure code is known but nothing tells its
//     reason, and undefined when not even a code is known. Such a record
//     is Permanent when the failure was permanent (a 5xx reply, a 5.X.X
//     status, "This is a permanent error; I've given up"): it stays soft,
//     and the suppression policy counts it more strictly.
//
// Status and ReplyCode may be empty: the first failure codes written in the
// diagnostic ("Remote host said: 550 5.1.1 …", "(#5.1.1)") take their place.
//
// # Matching
//
// The diagnostic is lower-cased and its white space folded once (see
// normalize); then one Aho-Corasick automaton, built at package
// initialisation over every phrase, finds all phrases in a single pass.
// No regular expression runs on a message unless the user's rules hold one.
//
// # Divergences
//
// Where testdata/smtp-reply-codes-ko.txt (the owner's list) explains what a Korean
// provider meant by a line, that explanation wins over the literal code:
// "512 5.1.2 Bad destination system address" is a networkerror (the
// destination system did not answer), not a missing host; "<addr>...
// Insufficient disk space" is the recipient's full mailbox. The standard
// texts of RFC 5321 replies ("Requested mail action aborted: exceeded storage
// allocation") only restate their code and decide nothing themselves.
package classify
