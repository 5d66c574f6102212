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
//     Domino, Japanese carriers, mailing-list managers, …), in any charset
//     golang.org/x/text decodes, and UTF-7;
//   - RFC 3834 automatic replies (Auto-Submitted: auto-replied, and
//     vacation notices in several languages that carry no such field),
//     which are recognised so that they are never taken for bounces.
//
// A message that is none of these is KindNotBounce. When a bounce names no
// recipient at all, the address it was delivered to is decoded if it is a
// VERP address (bounce+user=example.com@…), and else the returned original's
// only recipient is used.
//
// A failed recipient is never the sender, a postmaster or help address the
// notice points to, nor an address quoted inside the returned original:
// wrongly suppressing a subscriber is the worst outcome a bounce processor
// can have.
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
// carries a QUIRK comment naming the sample in ../testdata that needs it:
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
//     of the message's encoded words);
//   - a report attached inside a message/rfc822 part is read as the report.
package dsn
