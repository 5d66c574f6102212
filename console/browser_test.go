package console

import (
	"context"
	"flag"
	"os"
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

// consolePNG is the screenshot of the overview in the docs.
const consolePNG = "../docs/console.png"

// maxConsolePNG is the most bytes docs/console.png may take.
const maxConsolePNG = 300 << 10

// TestBrowser drives the console in a real browser (Chromium, headless):
// log in, read the overview, filter the list down to one address and see
// its evidence, and queue a failed push again with a button (a POST that
// carries the session cookie and the CSRF token of the page).
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
		chromedp.WaitVisible(chromedp.ID("list")),
	))
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#list tbody`)))
	require.NoError(t, err)
	assert.Contains(t, rows, "full@example.net")
	assert.Contains(t, rows, "550 refused: mailboxfull", "the evidence: what the server said")
	assert.NotContains(t, rows, "gone@example.com")
	browsertest.Screenshot(t, ctx, shots, "list.png")

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
