package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
)

// TestCookie checks what the browser sees: Chromium accepts the __Host-
// cookie on http://localhost, with its attributes; the page's scripts
// cannot read it; log in changes its value; logout deletes it.
func TestCookie(t *testing.T) {
	eachStore(t, func(t *testing.T, store sessions.Store) {
		d := startDemo(t, store, demoapp.Config{})
		tab := newBrowser(t)
		openHome(t, tab, d)
		if c := sessionCookie(t, tab, d); c != nil {
			t.Fatalf("a fresh browser has a session cookie: %+v", c)
		}
		click(t, tab, "#plus")
		waitPage(t, tab, `body:not([data-handle=""])`)
		anon := sessionCookie(t, tab, d)
		checkCookie(t, anon, d)
		if got := text(t, tab, "#count"); got != "1" {
			t.Errorf("counter shows %q, want 1", got)
		}
		if js := js[string](t, tab, "document.cookie"); strings.Contains(js, d.m.CookieName()) {
			t.Errorf("document.cookie shows the session cookie: %q", js)
		}

		submitLogin(t, tab, "carol")
		waitPage(t, tab, loggedInAs("carol"))
		login := sessionCookie(t, tab, d)
		checkCookie(t, login, d)
		if login.Value == anon.Value {
			t.Error("log in kept the cookie's value")
		}
		if shown := text(t, tab, "#handle"); shown != handleOf(login)[:8] {
			t.Errorf("page shows handle %q, want %q, the cookie's", shown, handleOf(login)[:8])
		}
		if d.live(t, handleOf(anon)) {
			t.Error("the session from before the log in is still live")
		}

		logOut(t, tab)
		if c := sessionCookie(t, tab, d); c != nil {
			t.Errorf("logout left the cookie: %+v", c)
		}
	})
}

// checkCookie checks the attributes the browser stored for the cookie.
func checkCookie(t *testing.T, c *network.Cookie, d *demo) {
	t.Helper()
	switch {
	case c == nil:
		t.Fatal("the browser has no session cookie")
	case !strings.HasPrefix(c.Name, "__Host-"):
		t.Errorf("cookie name %q lacks the __Host- prefix", c.Name)
	case !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax:
		t.Errorf("cookie HttpOnly=%t Secure=%t SameSite=%q, want true, true, Lax", c.HTTPOnly, c.Secure, c.SameSite)
	case c.Path != "/" || c.Domain != "localhost":
		t.Errorf("cookie Path=%q Domain=%q, want / and host-only localhost", c.Path, c.Domain)
	}
}
