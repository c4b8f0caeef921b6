package e2e

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
)

// TestRenewRace: tab 2 still shows the log in form it loaded before tab 1
// logged in, and logs in again, which renews the session, while tab 1 logs
// out. Both orders are forced: the log in held after its read until the
// logout is done, and the logout held after its read until the log in is
// done. Either way the browser ends logged out, and neither the old nor
// the renewed session is live.
func TestRenewRace(t *testing.T) {
	eachStore(t, func(t *testing.T, store sessions.Store) {
		t.Run("logout first", func(t *testing.T) { renewRace(t, store, true) })
		t.Run("login first", func(t *testing.T) { renewRace(t, store, false) })
	})
}

func renewRace(t *testing.T, store sessions.Store, logoutFirst bool) {
	d := startDemo(t, store, demoapp.Config{})
	tab1 := newBrowser(t)
	tab2 := newTab(t, tab1)
	openHome(t, tab2, d)
	logIn(t, tab1, d, "alice")
	old := handleOf(sessionCookie(t, tab1, d))

	if logoutFirst {
		login := d.gate.arm("login")
		submitLogin(t, tab2, "alice")
		login.wait(t)
		logOut(t, tab1)
		login.letGo()
		waitPage(t, tab2, "#notice")
		if n := text(t, tab2, "#notice"); !strings.Contains(n, "refused") {
			t.Errorf("tab 2 after its log in lost the race: %q, want the refusal", n)
		}
	} else {
		logout := d.gate.arm("logout")
		click(t, tab1, "#logout")
		logout.wait(t)
		submitLogin(t, tab2, "alice")
		waitPage(t, tab2, loggedInAs("alice"))
		renewed := handleOf(sessionCookie(t, tab2, d))
		logout.letGo()
		waitPage(t, tab1, loggedInAs(""))
		if renewed == old || d.live(t, renewed) {
			t.Errorf("the session renewed from the logged out one is live (renewed %t)", renewed != old)
		}
	}
	expectLoggedOut(t, tab1, "tab 1")
	expectLoggedOut(t, tab2, "tab 2")
	if d.live(t, old) {
		t.Error("the logged out session is still live in the store")
	}
	if n := d.userSessions(t, "alice"); n != 0 {
		t.Errorf("alice has %d live sessions, want 0", n)
	}
}
