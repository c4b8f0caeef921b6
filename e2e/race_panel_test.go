package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
)

// TestRacePanel clicks the demo's race panel, which runs the two-tab
// scenario in one page, and checks that it shows the refusal, that the
// rest of the page no longer shows the ended session (the counter back at
// 0, no "Your devices" in the menu), and that the logout stands.
func TestRacePanel(t *testing.T) {
	eachStore(t, func(t *testing.T, store sessions.Store) {
		d := startDemo(t, store, demoapp.Config{})
		tab := newBrowser(t)
		logIn(t, tab, d, "dave")
		click(t, tab, "#plus")
		waitFor(t, tab, `document.readyState === "complete" && document.querySelector("#count")?.textContent === "1"`)
		handle := handleOf(sessionCookie(t, tab, d))
		runRace(t, tab)
		outcome := js[string](t, tab, `document.querySelector("#race-result").dataset.outcome`)
		after := js[string](t, tab, `document.querySelector("#race-result").dataset.after`)
		if outcome != "refused" || after != "logged-out" {
			t.Errorf("race result outcome=%q after=%q, want refused and logged-out", outcome, after)
		}
		for _, c := range []struct{ sel, want string }{
			{"#race-result", "The logout stuck."},
			{"#race-log", "writes slow_done: refused, Commit returned ErrInvalidated"},
			{"#race-log", "reload: logged out"},
			{"#user", "logged out"},
			{"#count", "0"},
		} {
			sel, want := c.sel, c.want
			if got := text(t, tab, sel); !strings.Contains(got, want) {
				t.Errorf("%s shows %q, want %q in it", sel, got, want)
			}
		}
		if js[bool](t, tab, `document.querySelector('nav a[href="/devices"]') !== null`) {
			t.Error(`the menu still offers "Your devices" after the race`)
		}
		expectLoggedOut(t, tab, "the page")
		if d.live(t, handle) {
			t.Error("the session the race logged out is still live")
		}
	})
}

// runRace clicks "Run the race" and waits for its verdict.
func runRace(t *testing.T, tab context.Context) {
	t.Helper()
	waitPage(t, tab, "#race-run")
	click(t, tab, "#race-run")
	waitFor(t, tab, `document.querySelector("#race-result[data-after]") !== null && !document.querySelector("#race-result").hidden`)
}

// userAgents are the devices of the screenshot of the devices page.
var userAgents = []string{
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
}

// TestScreenshots takes the two screenshots the README shows: the devices
// page of a user logged in on four devices, one just revoked, and the home
// page after the race panel ran. With UPDATE_SCREENSHOTS=1 it writes them
// to ../docs; otherwise to a temporary directory, so that the run still
// checks that the pages render.
func TestScreenshots(t *testing.T) {
	dir := t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs")
	}
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	d := startDemo(t, store, demoapp.Config{})
	tab := newBrowser(t)
	do(t, tab, userAgent(userAgents[0]), chromedp.EmulateViewport(960, 640))
	logIn(t, tab, d, "alice")
	for _, ua := range userAgents[1:] {
		other, cancel := chromedp.NewContext(tab, chromedp.WithNewBrowserContext())
		do(t, other, userAgent(ua))
		logIn(t, other, d, "alice")
		cancel()
	}
	do(t, tab, chromedp.Navigate(d.url+"/devices"))
	waitPage(t, tab, "#devices")
	click(t, tab, `#devices tbody tr:not(.this) button`)
	waitPage(t, tab, "#flash")
	if rows := js[int](t, tab, `document.querySelectorAll("#devices tbody tr").length`); rows != 3 {
		t.Errorf("devices page lists %d devices after a revoke, want 3", rows)
	}
	screenshot(t, tab, filepath.Join(dir, "demo-devices.png"))

	do(t, tab, chromedp.Navigate(d.url+"/"))
	runRace(t, tab)
	screenshot(t, tab, filepath.Join(dir, "demo-race.png"))
}

// userAgent makes the tab send ua as its User-Agent.
func userAgent(ua string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
		return err
	})
}

// screenshot writes a PNG of the whole page to path.
func screenshot(t *testing.T, tab context.Context, path string) {
	t.Helper()
	png := run(t, tab, chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}
