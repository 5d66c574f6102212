// Package verp makes and verifies signed return paths, so that a bounce
// can prove that it answers a message we sent to the recipient it names.
//
// # Signed VERP
//
// Variable envelope return paths are the djb/qmail convention
// (https://cr.yp.to/proto/verp.txt): a message to user@example.com is sent
// with the envelope sender bounce-user=example.com@lists.example.org, so
// that the bounce comes back to an address that names the failed
// recipient, whatever the bounce says. Anyone can write such an address,
// though; a signed VERP address carries a tag that only the holder of a
// key can make:
//
//	bounce+<tag>+<recipient encoded>@lists.example.org
//
// "bounce" and the domain are those of the bounce address, "+" is the
// delimiter (Signer.Delimiter; it must be the recipient_delimiter of the
// MTA that receives the bounces, so that the address is delivered to the
// bounce mailbox), and the tag is 14 characters of lower-case base32
// (RFC 4648 section 6 alphabet): 2 for the send day, the number of days
// since 1970-01-01 UTC modulo 1024, and 12 (60 bits) of
// HMAC-SHA256(key, "bouncer-verp-v1" NUL day NUL recipient) where day is
// the full day number in decimal and recipient is the address in lower
// case. The tag carries the day, so it expires: Verify refuses a tag
// older than Signer.ValidityDays (DefaultValidityDays) with ErrExpired.
//
// The recipient is encoded thus: its last "@" becomes "=", as in VERP;
// letters, digits, "-", "_" and "." are kept, except a "." that would
// follow another "." or end the address; every other byte, "=" and "+"
// among them, is written "+XX", the byte in upper-case hex, as in the
// xtext of RFC 3461 section 4. So "o'brien+news@Example.com" becomes
// "o+27brien+2Bnews=Example.com". Only characters that no MTA rewrites
// remain: "%" (Postfix's percent hack), "!" (bang paths) and "/" or "|"
// (file and pipe deliveries) are all escaped. Decoding reverses it for
// any recipient, so Parse(ReturnPath(x)) recovers x exactly.
//
// # Keys
//
// The keys come from a key file (LoadKeys, ParseKeys): one key a line,
// blank lines and lines starting with "#" ignored, each key at least
// MinKeyBytes bytes (make one with "openssl rand -hex 32"). The first key
// signs; every key verifies. To rotate, put a new key on the first line
// and remove the old one once the validity has passed since the change.
// Keys never appear in an error, a log line or a formatted Keys value.
//
// # BATV
//
// Bounce Address Tag Validation (draft-levine-smtp-batv-01, section 4,
// "Simple Private Signature") tags the envelope sender itself:
//
//	prvs=KDDDSSSSSS=bounce@lists.example.org
//
// K is a key number digit, DDD the day the tag expires (days since
// 1970-01-01 UTC, modulo 1000) and SSSSSS six hex digits: the first three
// bytes of an HMAC, keyed with the secret, of the string K DDD
// bounce@lists.example.org. The draft's hash, and Exim's prvs expansion,
// use HMAC-SHA1 (BATVSHA1, the default for signing); BATVSHA256 is a
// variant with HMAC-SHA256 truncated the same way. Verification accepts
// either unless Signer.BATVHash names one. A BATV tag proves that a bounce
// answers a message with our return path, not for which recipient: it is
// weaker than a signed VERP address, and its 24-bit signature can be met
// by chance once in some millions of forgeries.
//
// # Divergences
//
//   - Local parts are compared and signed without regard to case, though
//     RFC 5321 section 2.4 allows a server to tell them apart: an MTA may
//     fold the address it delivers to to lower case (Postfix folds it for
//     its table lookups), and no mailbox provider in use tells "Ann" from
//     "ann". The signed form and the hex escapes are read in any case.
//   - K is not used to choose the key: every key is tried, so that tags
//     written by an MTA with its own key numbering (Exim's prvs) verify
//     too. K is still covered by the signature. A signed K is a digit
//     derived from the key, so that it stays the same when keys rotate.
//   - The BATV form of draft-levine-smtp-batv-00 (prvs=user/KDDDSSSSSS) is
//     not read.
//   - A signed return path may pass the 64 octets that RFC 5321 section
//     4.5.3.1.1 sets as the least a server must accept for a local part
//     (a 30-byte recipient and "bounce" already make 52); the MTA that
//     receives the bounces must accept longer local parts, as most do.
package verp
