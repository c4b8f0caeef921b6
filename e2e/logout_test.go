package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
)

// TestTwoTabLogout: tab 1 logs in; tab 2 starts the slow request, which
// reads the session and is held; tab 1 logs out; then the slow request
// writes. Its write is refused, both tabs show "logged out" after a reload,
// and the old handle is dead in the store.
func TestTwoTabLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, store sessions.Store) {
		// The gate holds the slow request; its own wait adds nothing.
		d := startDemo(t, store, demoapp.Config{SlowWait: time.Millisecond})
		tab1 := newBrowser(t)
		tab2 := newTab(t, tab1)
		logIn(t, tab1, d, "alice")
		handle := handleOf(sessionCookie(t, tab1, d))
		openHome(t, tab2, d)

		slow := d.gate.arm("slow")
		startSlow(t, tab2)
		slow.wait(t)
		logOut(t, tab1)
		slow.letGo()
		read, write := slowResult(t, tab2)

		if read.User != "alice" || read.Handle != handle[:8] {
			t.Errorf("slow request read %+v, want alice on session %s", read, handle[:8])
		}
		if write.Outcome != "refused" {
			t.Errorf("slow write after the logout: %+v, want refused", write)
		}
		expectLoggedOut(t, tab1, "tab 1")
		expectLoggedOut(t, tab2, "tab 2")
		if d.live(t, handle) {
			t.Error("the logged out session is still live in the store")
		}
		if n := d.userSessions(t, "alice"); n != 0 {
			t.Errorf("alice has %d live sessions after logging out, want 0", n)
		}
	})
}

// TestTwoTabLogoutTimed is the same race with real waits and no gate: the
// logout waits 1 s before it destroys the session, the slow request waits
// 5 s before it writes, and they start 0.2 s apart. Whatever the machine's
// timing, the browser ends logged out; when the slow request read the
// session (as it does unless the machine stalls for a second), its write
// is refused: the logout lands first unless the machine stalls for nearly
// four seconds.
func TestTwoTabLogoutTimed(t *testing.T) {
	eachStore(t, func(t *testing.T, store sessions.Store) {
		d := startDemo(t, store, demoapp.Config{SlowWait: 5 * time.Second, LogoutWait: time.Second})
		tab1 := newBrowser(t)
		tab2 := newTab(t, tab1)
		logIn(t, tab1, d, "alice")
		handle := handleOf(sessionCookie(t, tab1, d))
		openHome(t, tab2, d)

		startSlow(t, tab2)
		time.Sleep(200 * time.Millisecond) // the scenario's timing, not a synchronisation
		logOut(t, tab1)
		read, write := slowResult(t, tab2)

		switch {
		case read.User == "alice" && write.Outcome != "refused":
			t.Errorf("slow request read alice, then its write after the logout: %+v, want refused", write)
		case read.User == "":
			t.Logf("the slow request started after the logout (a stalled machine): %+v", write)
		}
		expectLoggedOut(t, tab1, "tab 1")
		expectLoggedOut(t, tab2, "tab 2")
		if d.live(t, handle) {
			t.Error("the logged out session is still live in the store")
		}
	})
}

// TestSlowPageByHand is the race as the home page tells a person to run
// it: tab 2 opens /slow, which shows what it read while it waits; tab 1
// logs out meanwhile; then tab 2's page reports that its write was
// refused.
func TestSlowPageByHand(t *testing.T) {
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	d := startDemo(t, store, demoapp.Config{SlowWait: time.Millisecond})
	tab1 := newBrowser(t)
	tab2 := newTab(t, tab1)
	logIn(t, tab1, d, "erin")

	slow := d.gate.arm("slow")
	// Not chromedp.Navigate, which would wait for the page to finish
	// loading: the page is sent in two parts, and the second one waits.
	js[bool](t, tab2, `location.href = `+quote(d.url+"/slow")+`, true`)
	slow.wait(t)
	waitFor(t, tab2, `document.querySelector("#slow-read")?.textContent.includes("erin") === true`)
	logOut(t, tab1)
	slow.letGo()
	waitFor(t, tab2, `document.querySelector("#slow-write")?.dataset.outcome === "refused"`)
	if got := text(t, tab2, "#slow-write"); !strings.Contains(got, "The write was refused.") {
		t.Errorf("the slow page says %q, want the refusal", got)
	}
	expectLoggedOut(t, tab1, "tab 1")
}
