// Package console is bouncer serve: the suppression history in a browser
// and a JSON API over it, for one state (SQLite file or PostgreSQL).
//
// It calls package suppress as the command line does (DB.Lists through
// DB.History, DB.Why, DB.Allow, DB.Forget, DB.Stats, DB.Pending,
// DB.RequeueFailed) and writes downloads with suppress.WriteCSV, the code
// of bouncer export: one code path for both.
//
// # Pages
//
// Server-rendered HTML (html/template), with the templates, the stylesheet
// and the charts embedded in the binary: no script, no external asset, so
// it works on a machine without internet. The charts are SVG drawn by
// chart.go, each with its numbers in a table beside it.
//
//   - / : the overview: bounces per day by category over ChartDays days,
//     the suppression list's size at the end of each day, the policy blocks
//     of the last BlockDays days by receiving domain with their reasons,
//     and what the state holds per mailbox;
//   - /suppressions: the list, filtered (category, reason, domain, since),
//     paged, downloadable in every list format;
//   - /addresses?q= and /addresses/{address}: search, and what bouncer why
//     shows, with Allow and Forget behind a confirmation page;
//   - /pending, /unverified: soft bounces under the threshold, and failures
//     recorded without proof;
//   - /outbox: the push queues, with the targets' answers and a requeue
//     button.
//
// # API
//
// Under /api/v1/, JSON: GET suppressions/{address} (200, or 404 when not
// suppressed), GET suppressions (a filtered page), GET addresses/{address}
// (the history, as bouncer why --format json), POST
// addresses/{address}/allow with {"reason": "…"}, POST
// addresses/{address}/forget, GET stats (as bouncer stats --format json),
// GET overview.
//
// # Access
//
// One secret, the token, opens everything. The API takes it as
// "Authorization: Bearer TOKEN" (RFC 6750 section 2.1); an answer without
// it is 401 with a WWW-Authenticate challenge (RFC 6750 section 3, RFC 9110
// section 11.6.1). The pages take it once in a login form and then a
// session cookie (RFC 6265) that is HttpOnly, SameSite=Strict, and Secure
// under TLS; every state-changing request made with the cookie carries the
// session's CSRF token (a form field or the X-CSRF-Token header), else 403.
// Tokens are compared in constant time (over their SHA-256, so that the
// length does not show either); LoginFailures failed logins or wrong bearer
// tokens per client address and LoginWindow are answered 429 with
// Retry-After (RFC 6585 section 4). Every answer carries
// ContentSecurityPolicy, nosniff, X-Frame-Options DENY and no-store.
//
// # Freshness
//
// Pages and the API answer from a snapshot of the history (the lists and
// the overview's aggregates), rebuilt in the background when the state
// changes (DB.Fingerprint, asked at most every Options.Refresh): a page
// never waits for a rebuild, except the first one. The console's own
// changes (an Allow, a Forget) are applied to the current snapshot at
// once, so the next answer shows them; its charts and counts catch up when
// the rebuild ends. On a
// large history, an answer may lag a write of bouncer run by the time of a
// rebuild (seconds per million events). The address pages (DB.Why) read
// the state directly.
//
// # Divergences
//
// The login form is not protected by a CSRF token (there is no session
// yet); a login posted with an Origin header of another site is refused.
// X-Forwarded-For is not trusted: behind a proxy, every client shares the
// proxy's login budget.
package console
