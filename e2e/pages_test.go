package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The page helpers below read and act on pages with JavaScript evaluated in
// the tab, never with DOM node ids, which go stale while a script rewrites
// the page or a navigation replaces it.

// quote is s as a JavaScript string literal.
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// eval evaluates expr in tab, within a bound of its own.
func eval[T any](tab context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab, waitTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// js evaluates expr in tab and returns its value, failing the test on an
// error.
func js[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := eval[T](tab, expr)
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor waits until cond, a JavaScript expression, is true in the page tab
// shows. An evaluation that fails while a navigation replaces the page is
// tried again; the wait is bounded by waitTimeout.
func waitFor(t *testing.T, tab context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, err := eval[bool](tab, cond)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s (last error: %v)", waitTimeout, cond, err)
		}
		time.Sleep(pollInterval)
	}
}

// waitPage waits until tab shows a page, loaded and its scripts run, that
// has an element matching sel.
func waitPage(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	waitFor(t, tab, fmt.Sprintf(`document.readyState === "complete" && document.querySelector(%s) !== null`, quote(sel)))
}

// click clicks the element matching sel.
func click(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	js[bool](t, tab, fmt.Sprintf(`document.querySelector(%s).click(), true`, quote(sel)))
}

// text is the rendered text of the element matching sel.
func text(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	return js[string](t, tab, fmt.Sprintf(`document.querySelector(%s).innerText.trim()`, quote(sel)))
}

// loggedInAs selects the body of a page that shows user logged in, or
// logged out for "".
func loggedInAs(user string) string { return `body[data-user=` + quote(user) + `]` }

// openHome loads the demo's home page in tab.
func openHome(t *testing.T, tab context.Context, d *demo) {
	t.Helper()
	do(t, tab, chromedp.Navigate(d.url+"/"))
	waitPage(t, tab, "#who")
}

// logIn logs in as user from the home page's form and waits for the page
// that greets the user.
func logIn(t *testing.T, tab context.Context, d *demo, user string) {
	t.Helper()
	openHome(t, tab, d)
	submitLogin(t, tab, user)
	waitPage(t, tab, loggedInAs(user))
}

// submitLogin fills in and submits the log in form of the page tab shows,
// without waiting for the response.
func submitLogin(t *testing.T, tab context.Context, user string) {
	t.Helper()
	waitPage(t, tab, "#login-form")
	js[bool](t, tab, `document.querySelector("#name").value = `+quote(user)+`, true`)
	click(t, tab, "#login")
}

// logOut clicks Log out and waits for the logged out page.
func logOut(t *testing.T, tab context.Context) {
	t.Helper()
	click(t, tab, "#logout")
	waitPage(t, tab, loggedInAs(""))
}

// expectLoggedOut reloads tab and checks that the page shows "logged out".
func expectLoggedOut(t *testing.T, tab context.Context, name string) {
	t.Helper()
	do(t, tab, chromedp.Reload())
	waitPage(t, tab, "#who")
	if user := text(t, tab, "#user"); user != "logged out" {
		t.Fatalf("%s after reload shows %q, want logged out", name, strings.Join(strings.Fields(text(t, tab, "#who")), " "))
	}
}

// slowEvent is one line of the demo's slow response.
type slowEvent struct {
	Step, User, Handle, Outcome, Error string
}

// startSlow starts a fetch of the slow request in tab and returns at once;
// slowResult waits for its lines.
func startSlow(t *testing.T, tab context.Context) {
	t.Helper()
	js[bool](t, tab, `
		window.slowResult = null;
		fetch("/slow", {method: "POST"})
			.then((r) => r.text())
			.then((text) => { window.slowResult = text.trim().split("\n").map((l) => JSON.parse(l)); },
			      (err) => { window.slowResult = [{step: "fetch", outcome: "error", error: String(err)}]; });
		true`)
}

// slowResult waits for the slow fetch of startSlow to end and returns
// what it read and how its write ended.
func slowResult(t *testing.T, tab context.Context) (read, write slowEvent) {
	t.Helper()
	waitFor(t, tab, "window.slowResult !== null")
	lines := js[[]slowEvent](t, tab, "window.slowResult")
	if len(lines) != 2 || lines[0].Step != "read" || lines[1].Step != "write" {
		t.Fatalf("slow request answered %+v, want a read and a write", lines)
	}
	return lines[0], lines[1]
}
