// Package browsertest starts a real browser for end-to-end tests: Debian's
// Chromium, headless, driven over the DevTools protocol with chromedp.
//
// When Chromium is not installed the test is skipped, unless the
// environment variable BOUNCER_REQUIRE_CHROMIUM=1 is set (as .ci/run
// does): then it fails. The browser runs with an empty profile in the
// test's temporary folder, without sandbox (tests run as root), and with
// every background service that would reach the network turned off.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireEnv is the environment variable that turns a missing Chromium
// from a skip into a failure.
const RequireEnv = "BOUNCER_REQUIRE_CHROMIUM"

// Timeout bounds a whole browser session of a test.
const Timeout = 2 * time.Minute

// paths are where Chromium may be, in order.
var paths = []string{"/usr/bin/chromium", "chromium", "chromium-browser"}

// Path returns the Chromium executable, or "" when there is none.
func Path() string {
	for _, p := range paths {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	return ""
}

// New starts a headless Chromium for tb and returns the context of its
// first tab; the browser ends with the test (or after Timeout).
func New(tb testing.TB) context.Context {
	tb.Helper()
	exe := Path()
	if exe == "" {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("chromium not found and %s=1", RequireEnv)
		}
		tb.Skip("chromium not installed (apt-get install chromium); set " + RequireEnv + "=1 to fail instead")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(filepath.Join(tb.TempDir(), "profile")),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(tb.Logf))
	// The first call starts the browser, for as long as tab lives: it
	// takes no timeout; the actions after it do.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		tb.Fatalf("browsertest: start %s: %v", exe, err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, Timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// Screenshot saves a PNG of the whole page of ctx as name in dir and
// returns its path.
func Screenshot(tb testing.TB, ctx context.Context, dir, name string) string {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Fatalf("browsertest: %v", err)
	}
	return p
}
