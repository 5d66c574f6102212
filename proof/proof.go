// Package proof decides whether a bounce proves that we sent the message
// it returns, to the recipient it names, before that bounce may suppress
// anyone. Anyone can write a well-formed DSN naming any address; only a
// bounce that answers a message we sent should count.
//
// Checker.Check gives one Verdict per recipient of a dsn.Report, by the
// first of these that the bounce carries:
//
//  1. Signed VERP (package verp, after the djb/qmail VERP convention): an
//     address the bounce was delivered to is a signed return path whose tag
//     verifies, and the recipient it was made for is the failed recipient
//     (its Final-Recipient or Original-Recipient). This is the proof to
//     use: only the holder of a key can make a tag, and a tag names one
//     recipient, so a tag for someone else proves nothing about this one
//     (ErrWrongRecipient). A tag is still a bearer token until it expires:
//     whoever sees the return path of a message to dana (dana, whoever she
//     forwards it to, a list archive that keeps Return-Path) can forge a
//     bounce for dana, and no one else.
//  2. BATV (draft-levine-smtp-batv-01): an address the bounce was delivered
//     to is a prvs= address whose signature verifies. It proves that the
//     bounce answers a message with our return path, sent within the
//     validity, but not to whom: whoever received one of our messages
//     holds a valid return path for a while, and its signature is 24 bits.
//  3. Our domain (Checker.OurDomains): the returned original's Message-ID
//     or From is in one of our domains (or a subdomain). The weakest: the
//     returned original is written by whoever sent the bounce, so a
//     forger who knows the domain writes it too. Use it only for sending
//     tools that cannot set a per-recipient return path.
//
// When the bounce carries a signed VERP address, that address alone
// decides: a tag that does not verify, has expired or names another
// recipient is not rescued by BATV or the domain, since anyone can write
// the weaker evidence but not a tag. Likewise a BATV address decides over
// the domain.
//
// The addresses a bounce was delivered to are read from its Delivered-To,
// X-Original-To, Envelope-To, X-Envelope-To and To fields, Report.To, and
// the returned original's Return-Path (where the original's envelope sender
// is, when the bounce keeps it). Each of these may be written by the
// sender of the bounce as well as by our MTA: what proves is the tag, never
// where it was found. At most MaxAddresses addresses are tried.
package proof

import (
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/verp"
)

// MaxAddresses caps the addresses tried per bounce, so that a bounce with
// thousands of Delivered-To fields costs no more than 32 verifications.
const MaxAddresses = 32

// Method is how a recipient's bounce was proven.
type Method string

const (
	// MethodNone: not proven.
	MethodNone Method = ""
	// MethodVERP: by a signed VERP address made for the recipient.
	MethodVERP Method = "verp"
	// MethodBATV: by a BATV (prvs=) return path.
	MethodBATV Method = "batv"
	// MethodDomain: by the returned original's Message-ID or From domain.
	MethodDomain Method = "domain"
)

// Reason is why a recipient's bounce was not proven, as a stable word for
// reports and CSV files.
type Reason string

const (
	// ReasonNone: proven.
	ReasonNone Reason = ""
	// ReasonNoProof: the bounce carries no signed VERP or BATV address,
	// and no domain of ours (or OurDomains is empty).
	ReasonNoProof Reason = "no-proof"
	// ReasonBadTag: a tag or BATV signature verifies with no key.
	ReasonBadTag Reason = "bad-tag"
	// ReasonExpired: a genuine tag older than the validity.
	ReasonExpired Reason = "expired"
	// ReasonWrongRecipient: a genuine tag made for another recipient.
	ReasonWrongRecipient Reason = "wrong-recipient"
	// ReasonMalformed: a tagged address that cannot be decoded.
	ReasonMalformed Reason = "malformed"
)

// Errors of a Verdict. Every Verdict.Err wraps ErrUnproven and, when a tag
// was found and failed, the verp error (verp.ErrBadTag, verp.ErrExpired,
// verp.ErrWrongRecipient, verp.ErrMalformed).
var (
	// ErrUnproven means the recipient's bounce is not proven.
	ErrUnproven = errors.New("proof: not proven")
	// ErrNoProof means the bounce carries no proof at all.
	ErrNoProof = errors.New("proof: no signed VERP or BATV address, no domain of ours")
)

// Verdict is the proof of one recipient of a report.
type Verdict struct {
	// Recipient is the address the verdict is about, and the one to act
	// on. It is the recipient's FinalRecipient, except:
	//
	//   - proven by MethodVERP, it is the address the tag was made for:
	//     the FinalRecipient, or the OriginalRecipient when only that
	//     matches (a forward). The tag covers that address alone, so the
	//     other address of a forward must not be acted on;
	//   - when dsn read the recipient from the signed VERP address itself
	//     (dsn.PositionVERP) and decoded it as an unsigned one
	//     ("tag+user@domain"), it is the recipient the tag was made for.
	//
	// BATV and domain proofs name no address: they cover the report's
	// recipient, both its addresses, as far as such a proof goes.
	Recipient string
	// Proven is set when the bounce proves that we sent to Recipient. The
	// zero Verdict is not proven.
	Proven bool
	// Method is how it was proven; MethodNone when not.
	Method Method
	// Evidence is the address, Message-ID or From that proved it, or the
	// tagged address that failed.
	Evidence string
	// Reason and Err say why it was not proven; ReasonNone and nil when
	// proven.
	Reason Reason
	Err    error
}

// Checker checks the proof of bounces. Its zero value proves nothing; it
// is safe for concurrent use once set up.
type Checker struct {
	// Signer holds the keys of signed VERP and BATV addresses, and their
	// validity; nil (or no keys) checks neither.
	Signer *verp.Signer
	// OurDomains are the domains (and their subdomains) whose Message-ID
	// or From in the returned original proves a bounce; empty, none does.
	OurDomains []string
	// Now is the time tags are checked at; zero means time.Now().
	Now time.Time
}

// Check returns one Verdict per recipient of rep, in the order of
// rep.Recipients. h is the header of the bounce itself (its top-level
// header; a net/mail.Header converts with textproto.MIMEHeader(h)); it may
// be nil, when only rep.To and the returned original are looked at. To add
// an envelope recipient known otherwise (an LMTP RCPT TO), add it to h as
// an X-Original-To field.
func (c *Checker) Check(h textproto.MIMEHeader, rep *dsn.Report) []Verdict {
	if rep == nil || len(rep.Recipients) == 0 {
		return nil
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	addrs := deliveredTo(h, rep)
	out := make([]Verdict, len(rep.Recipients))
	var vs []verpResult
	var bs []batvResult
	if c.Signer != nil {
		vs = evidence(c, addrs, now, c.Signer.Verify)
		bs = evidence(c, addrs, now, c.Signer.VerifyBATV)
	}
	for i, r := range rep.Recipients {
		switch {
		case len(vs) > 0:
			out[i] = verpVerdict(vs, r)
		case len(bs) > 0:
			out[i] = batvVerdict(bs, r)
		default:
			out[i] = c.domainVerdict(rep, r)
		}
	}
	return out
}

// tagged is one tagged address of type A and what the check of its tag
// said of it.
type tagged[A any] struct {
	addr string
	a    A
	err  error
}

// verpResult is one tagged address and what Verify said of it.
type verpResult = tagged[verp.Address]

// batvResult is one tagged address and what VerifyBATV said of it.
type batvResult = tagged[verp.BATVAddress]

// evidence returns the addresses of addrs that carry a tag, each with what
// verify said of it at now; none when c has no keys.
func evidence[A any](c *Checker, addrs []string, now time.Time, verify func(string, time.Time) (A, error)) []tagged[A] {
	if c.Signer == nil || c.Signer.Keys.Len() == 0 {
		return nil
	}
	var out []tagged[A]
	for _, s := range addrs {
		a, err := verify(s, now)
		if errors.Is(err, verp.ErrNoTag) {
			continue
		}
		out = append(out, tagged[A]{addr: s, a: a, err: err})
	}
	return out
}

func verpVerdict(vs []verpResult, r dsn.Recipient) Verdict {
	var best *verpResult
	for i := range vs {
		x := &vs[i]
		if x.err != nil {
			if best == nil {
				best = x
			}
			continue
		}
		if verp.SameAddress(x.a.Recipient, r.FinalRecipient) {
			return Verdict{Recipient: r.FinalRecipient, Proven: true, Method: MethodVERP, Evidence: x.addr}
		}
		if verp.SameAddress(x.a.Recipient, r.OriginalRecipient) {
			// A forward: we sent to the original address, which failed
			// at the address it was forwarded to.
			return Verdict{Recipient: r.OriginalRecipient, Proven: true, Method: MethodVERP, Evidence: x.addr}
		}
		x.err = fmt.Errorf("%w: %q is for %q, not %q", verp.ErrWrongRecipient, x.addr, x.a.Recipient, r.FinalRecipient)
		best = x
	}
	return unproven(r.FinalRecipient, best.addr, best.err)
}

func batvVerdict(bs []batvResult, r dsn.Recipient) Verdict {
	for _, b := range bs {
		if b.err == nil {
			return Verdict{Recipient: r.FinalRecipient, Proven: true, Method: MethodBATV, Evidence: b.addr}
		}
	}
	return unproven(r.FinalRecipient, bs[0].addr, bs[0].err)
}

func (c *Checker) domainVerdict(rep *dsn.Report, r dsn.Recipient) Verdict {
	if len(c.OurDomains) > 0 {
		for _, e := range []string{rep.Original.MessageID, rep.Original.From} {
			if e != "" && c.ours(domainOf(e)) {
				return Verdict{Recipient: r.FinalRecipient, Proven: true, Method: MethodDomain, Evidence: e}
			}
		}
	}
	return unproven(r.FinalRecipient, "", ErrNoProof)
}

// ours reports whether d is one of OurDomains or a subdomain of one.
func (c *Checker) ours(d string) bool {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if d == "" {
		return false
	}
	for _, o := range c.OurDomains {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), ".")
		if o == "" {
			continue
		}
		if d == o || strings.HasSuffix(d, "."+o) {
			return true
		}
	}
	return false
}

// domainOf is the domain of an address or Message-ID: after its last "@",
// without brackets.
func domainOf(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return ""
	}
	return strings.TrimRight(s[at+1:], "> ")
}

func unproven(rcpt, evidence string, cause error) Verdict {
	return Verdict{
		Recipient: rcpt,
		Evidence:  evidence,
		Reason:    reasonOf(cause),
		Err:       fmt.Errorf("%w: %w", ErrUnproven, cause),
	}
}

func reasonOf(err error) Reason {
	switch {
	case errors.Is(err, verp.ErrWrongRecipient):
		return ReasonWrongRecipient
	case errors.Is(err, verp.ErrExpired):
		return ReasonExpired
	case errors.Is(err, verp.ErrBadTag):
		return ReasonBadTag
	case errors.Is(err, verp.ErrMalformed):
		return ReasonMalformed
	}
	return ReasonNoProof
}

// deliveredTo lists the addresses the bounce may have been delivered to,
// each once, at most MaxAddresses.
func deliveredTo(h textproto.MIMEHeader, rep *dsn.Report) []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if len(out) >= MaxAddresses {
			return
		}
		for _, a := range addresses(v) {
			k := strings.ToLower(a)
			if len(out) < MaxAddresses && !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	for _, k := range []string{"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"} {
		for _, v := range h[k] {
			add(v)
		}
	}
	add(rep.To)
	if rep.Original.Header != nil {
		for _, v := range rep.Original.Header["Return-Path"] {
			add(v)
		}
	}
	return out
}

// addresses reads the addresses of a field value: an address list, or,
// when it does not parse as one, the value in angle brackets or bare.
func addresses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" || v == "<>" {
		return nil
	}
	if len(v) > 4*verp.MaxAddressBytes {
		v = v[:4*verp.MaxAddressBytes]
	}
	if l, err := mail.ParseAddressList(v); err == nil {
		out := make([]string, 0, len(l))
		for _, a := range l {
			out = append(out, a.Address)
		}
		return out
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return []string{v[i+1 : i+j]}
		}
	}
	return []string{v}
}
