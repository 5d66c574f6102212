package console

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/internal/browsertest"
	"github.com/bouncer-dev/bouncer/suppress"
)

// update rewrites docs/console.png, the README's screenshot, from the
// browser test.
var update = flag.Bool("update", false, "rewrite docs/console.png from the browser test")

// screenshotEnv names a folder where TestBrowser leaves its screenshots
// (default: the test's temporary folder, removed after it).
const screenshotEnv = "BOUNCER_SCREENSHOTS"

// consolePNG is the screenshot of the overview in the docs.
const consolePNG = "../docs/console.png"

// maxConsolePNG is the most bytes docs/console.png may take.
const maxConsolePNG = 300 << 10

// TestBrowser drives the console in a real browser (Chromium, headless):
// log in, read the overview, filter the list, search an address and see
// its evidence, press Allow, confirm, and see it leave the list; then
// queue a failed push again with a button. Every POST carries the session
// cookie and the CSRF token of its page.
func TestBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, nil)
	const target = "webhook=https://hooks.example.org/bounces"
	require.NoError(t, e.db.SetOutbox([]suppress.OutboxTarget{{Name: target}}))
	record(t, e.db, "maildir:/var/mail/bounces", []ev{{"late@example.com", classify.ReasonUserUnknown, 0}})
	due, err := e.db.Due(context.Background(), target, latest.AddDate(1, 0, 0), 1)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.NoError(t, e.db.MarkFailed(context.Background(), due[0].ID, latest, errString("webhook: 410 Gone")))
	shots := t.TempDir()
	if d := os.Getenv(screenshotEnv); d != "" {
		shots = d // kept, to look at
	}

	// Not logged in: the login form.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "wrong-token-wrong-token"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)),
	))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.error`)))
	require.NoError(t, err)
	assert.Equal(t, "Wrong token.", msg)

	// Logged in: the overview, with its charts.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
	))
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("suppressed-total")))
	require.NoError(t, err)
	assert.Equal(t, "5", total, "4 of testHistory and late@example.com")
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect, svg.chart polyline").length`))
	require.NoError(t, err)
	assert.Greater(t, charts, 5, "the charts have bars and a line")
	overview := browsertest.Screenshot(t, ctx, shots, "overview.png")
	if *update {
		b, err := os.ReadFile(overview)
		require.NoError(t, err)
		require.Less(t, len(b), maxConsolePNG, "the screenshot must stay small")
		require.NoError(t, os.WriteFile(consolePNG, b, 0o644))
	}

	// The list, filtered to one domain: the address and its evidence.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/suppressions"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="domain"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="domain"]`), "example.net"),
		chromedp.Submit(chromedp.CSS(`input[name="domain"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="domain"][value="example.net"]`)),
	))
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#list tbody`)))
	require.NoError(t, err)
	assert.Contains(t, rows, "full@example.net")
	assert.Contains(t, rows, "550 refused: mailboxfull", "what the server said")
	assert.NotContains(t, rows, "gone@example.com")
	browsertest.Screenshot(t, ctx, shots, "list.png")

	// Search the address: its page, with the decision, the rule and the
	// evidence of each event.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("q"), "full@example.net"),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.ID("events")),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	assert.Contains(t, status, "suppressed as soft (mailboxfull)")
	assert.Contains(t, status, "3 soft bounces on 3 different days within 30d suppress (the notices about one sent message count once)")
	events, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("events")))
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(events, `phrase "mailboxfull"`), "the evidence of each of its 3 events")
	browsertest.Screenshot(t, ctx, shots, "address.png")

	// Allow, confirm: the address page says so, and the list lost it.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.button[href$="/allow"]`)),
		chromedp.WaitVisible(chromedp.ID("reason")),
	))
	browsertest.Screenshot(t, ctx, shots, "confirm.png")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("reason"), "mailbox emptied, confirmed by phone"),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.CSS(`p.note`)),
	))
	status, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	assert.Contains(t, status, "Allowed")
	allows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	assert.Contains(t, allows, "mailbox emptied, confirmed by phone")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/suppressions"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="domain"][value=""]`)),
	))
	rows, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#list tbody`)))
	require.NoError(t, err)
	assert.NotContains(t, rows, "full@example.net", "allowed: off the list")
	assert.Contains(t, rows, "gone@example.com")
	total, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("total")))
	require.NoError(t, err)
	assert.Equal(t, "4", total)
	browsertest.Screenshot(t, ctx, shots, "list-after-allow.png")

	// The outbox: the target's answer, and a button that queues it again.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/outbox"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/outbox/requeue"] button`)),
	))
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	assert.Contains(t, page, "webhook: 410 Gone")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/outbox/requeue"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.note`)),
	))
	page, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	assert.Contains(t, page, "1 pending, 0 delivered, 0 failed.")
	n, err := e.db.OutboxCount(context.Background(), target)
	require.NoError(t, err)
	assert.Equal(t, suppress.OutboxCounts{Pending: 1}, n)
	browsertest.Screenshot(t, ctx, shots, "outbox.png")
	t.Logf("screenshots in %s", shots)
}
