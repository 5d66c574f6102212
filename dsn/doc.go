// Package dsn reads a returned message — a bounce — and tells what it
// reports: what kind of message it is, which recipients failed, with what
// status, and what is known of the message that could not be delivered.
//
// Parse handles, in this order of preference:
//
//   - RFC 3464 delivery status notifications (multipart/report with a
//     message/delivery-status part, section 2), their RFC 6533 global form
//     (message/global-delivery-status, UTF-8 addresses) and the older RFC
//     1894 form, with any number of recipients per report;
//   - RFC 5965 feedback reports (message/feedback-report): the complained
//     about recipient, from Original-Rcpt-To (section 3.2) or the returned
//     headers; Microsoft's JMRP reports and List-Unsubscribe mailto requests
//     (RFC 2369) are read as feedback too;
//   - Amazon SES notifications (JSON, sent by mail through SNS);
//   - free-text bounces written for humans (qmail, Exim, Sendmail, Postfix
//     without a report, Courier, Exchange and Office 365, Gmail, Yahoo,
//     Domino, Japanese carriers, mailing-list managers, and older systems:
//     Post.Office and Netscape Messaging Server, Lotus Notes, MMDF, PP,
//     ZMailer's text report, XMail, …), in any charset
//     golang.org/x/text decodes, and UTF-7;
//   - RFC 3834 automatic replies (Auto-Submitted: auto-replied, and
//     vacation notices in several languages that carry no such field),
//     which are recognised so that they are never taken for bounces; a
//     subject that opens as automatic replies are named ("Automatic
//     reply:", "Auto:", "Abwesenheitsnotiz:", …) makes one whatever
//     bounce words the note holds.
//
// A notice written for people gives its recipients ActionFailed, unless
// it is a delay warning (Postfix's "Delayed Mail (still being retried)",
// Sendmail's and Gmail's "THIS IS A WARNING MESSAGE ONLY", Exim's "has not
// yet been delivered", Exchange's "Delivery is delayed"): ActionDelayed,
// or a success notice (Postfix's "successfully delivered", Sendmail's
// return receipt): ActionDelivered. A notice that lists each outcome under
// its own heading (Sendmail's "The following addresses had transient
// non-fatal errors", Courier's "DELAYS IN DELIVERING YOUR MESSAGE") gives
// each recipient the action of its list.
//
// A message that is none of these is KindNotBounce. When a bounce names no
// recipient at all, the address it was delivered to is decoded if it is a
// VERP address (bounce+user=example.com@…), and else the returned original's
// only recipient is used.
//
// Challenge/response and whitelisting notices ("Sender not pre-approved",
// a Boxbe guest list, TMDA's confirmation request) are KindChallenge: a
// request to the sender, not a failure of the recipient. A mailing list's
// notice that it holds a post for its moderator (Mailman's "awaits
// moderator approval") is no refusal.
//
// # Which address
//
// The notice and the returned original are told apart first, for every
// shape: message/rfc822 and text/rfc822-headers parts, the separators MTAs
// write ("--- Below this line is a copy of the message.", "|--- Message text
// follows ---|", "Your message reads (in part):", …), a block of header
// fields, "> "-quoted forwarded bounces. Recipients, codes and words come
// from the notice only; the original is data (Report.Original), never
// evidence (docs/taxonomy.md, "Which address a record is about").
//
// A recipient comes only from a recipient position, and says which in
// Recipient.Position: the fields of a report (PositionDSN, PositionFeedback,
// PositionSES), X-Failed-Recipients, a VERP return path, the positions of
// MTA templates (an address opening a failure block, "RCPT TO:<x>" of a
// transcript, the lists after "The following address(es) failed",
// Sendmail's "550 <x>... reason", X.400's "dda:SMTP=x", a channel's "SMTP
// <x>", ZMailer's "Final Recipient:" with its value under it, a daemon's
// list of bare local parts at its own domain), and running text (PositionText,
// which a caller should not act on alone). An address inside a server's
// reply ("Domain of sender address x does not exist", "register your IP
// to spammaster@…"), a help text (with the address alone on the line
// under "contact the help desk at:"), the sender's or our own (From,
// Return-Path, Delivered-To) is no one's failure.
//
// An enhanced status code (RFC 3463) is read from text only where servers
// write one (after a reply code, "#", a field or label, at the start of a
// transcript line: internal/smtpcode), never from a version number in prose.
//
// The files follow the formats and steps: mime.go walks the MIME tree
// (RFC 2045, RFC 2046), fields.go reads report fields (RFC 3464 section 2,
// RFC 5965 section 3), feedback.go and ses.go the complaint formats,
// freetext.go and notice.go the notices written for people, addr.go and
// codes.go the addresses and codes in text, charset.go and transfer.go the
// decoding.
//
// # Limits
//
// Every byte of a bounce is untrusted. Options caps the bytes read per
// message, the bytes of each header section, the MIME parts visited, the
// nesting depth, the recipients kept and the text kept for analysis; the
// zero Options means the Default* constants. Parse streams: the body of a
// returned original is skipped, never stored, and reading stops once the
// report and the original's header have been read. Past a limit Parse
// returns what it has with an error wrapping ErrLimit and Report.Truncated
// set; when the reader fails (a connection dropped mid-message), the error
// wraps ErrRead, since a lenient parse of a cut message would look whole.
// Parse never panics and never returns a nil Report.
//
// # Divergences
//
// Parse is lenient where real bounces break the RFCs; each such branch
// carries a QUIRK comment naming the sample in testdata/ (at the module's
// root) that needs it:
//
//   - CRLF, LF and bare CR line endings are all accepted;
//   - field names in any case and order, repeated fields (the first wins,
//     but a generic x.0.0 status gives way to a specific code in the
//     diagnostic), addresses in angle brackets, X-Postfix and X-Notes
//     diagnostic types, per-recipient blocks without the blank line between
//     them, and report fields written into the text part instead of a
//     delivery-status part;
//   - a Content-Type without its semicolon, a multipart whose boundary is
//     wrong (read as text) or never closed, quoted-printable with raw
//     control bytes, base64 with junk between its characters, text with no
//     charset (ISO-2022-JP is detected; other 8-bit text follows the charset
//     of the message's encoded words), CJK charset labels that the
//     WHATWG list lacks (cp949, MS949, ISO-2022-JP-KDDI) in parts and in
//     encoded words, and the bytes that are no UTF-8 in text labelled
//     UTF-8 or not labelled are read as windows-1252, the charset
//     ISO-8859-1 labels stand for (WHATWG Encoding Standard);
//   - curly quotes around an address ("“x@y”", "„x@y“") are quotes;
//   - MDaemon's list of failed addresses written as "> x@y" lines is a
//     list, not quoted text;
//   - Exchange 2007 and later name each recipient twice, in words for
//     people and then alone under "Diagnostic information for
//     administrators" with the server's reply: the reply is the
//     recipient's diagnostic;
//   - a report in a text attachment or a part of unknown type (Exchange's
//     "ATT00001.txt", "noname") is read as the report part;
//   - a report attached inside a message/rfc822 part is read as the report,
//     unless the notice around it names an address of its own (in its
//     text, not as its help desk, or in X-Failed-Recipients): then the
//     report is the notice's returned original (a bounce of a bounce),
//     and neither it nor its To is evidence; a part declared
//     delivery-status whose first line is prose, not a field, is read as
//     the notice's text;
//   - a bounce a person forwarded ("Fwd:", "FW:", "[Fwd: x]"), inline
//     under its header block (with or without a marker line such as
//     "---------- Forwarded message ---------"), "> "-quoted under its
//     author's "… wrote:" line, or attached (message/rfc822, or an
//     octet-stream "x.eml"), and one that Mailman forwarded as an
//     "Uncaught bounce notification", is read from the notice inside;
//     the forwarder, the cover note and the original the forwarder sent
//     are no evidence;
//   - a list of failed recipients may write an item as a name-addr with
//     a quoted or encoded display name ("\"Example, Ann\" <x@y>");
//   - an HTML notice's numeric character references (&#64;, &#x40;) are
//     decoded; the HTML alternative is the notice when the text one is a
//     stub that names no one;
//   - several blank lines between field blocks, none between the
//     per-message and the per-recipient fields, a block with
//     Original-Recipient and no Final-Recipient, no Action field; a block
//     with Status and Diagnostic-Code but no address gives its status to
//     the one recipient X-Failed-Recipients or the VERP address names;
//   - the address the list sent to, when a report names the address an
//     alias or a forward led to: Postfix's "(expanded from <y>)",
//     Sendmail's "(expanded from: <y>)", Exim's "(generated from y)" and
//     "(ultimately generated from y)", and the VERP address of a report
//     with one failed recipient and no Original-Recipient of its own
//     become Recipient.OriginalRecipient (docs/taxonomy.md); a VERP
//     address that carries a sending service's ids before the recipient
//     ("bounce-0000042-7777713-ann=example.com@…") names the report's own
//     address, not a forward;
//   - a Sendmail transcript that ends with ">>> DATA" and whose DATA got
//     "503 Need RCPT" is pipelined (RFC 2920): the refusal before it is
//     given no command.
package dsn
