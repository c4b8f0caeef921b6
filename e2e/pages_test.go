package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// css selects by a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// loggedInAs selects the body of a page that shows user logged in, or
// logged out for "".
func loggedInAs(user string) chromedp.CSS { return css(`body[data-user="` + user + `"]`) }

// openHome loads the demo's home page in tab.
func openHome(t *testing.T, tab context.Context, d *demo) {
	t.Helper()
	do(t, tab, chromedp.Navigate(d.url+"/"), chromedp.WaitReady(css("#who")))
}

// logIn logs in as user from the home page's form and waits for the page
// that greets the user.
func logIn(t *testing.T, tab context.Context, d *demo, user string) {
	t.Helper()
	openHome(t, tab, d)
	submitLogin(t, tab, user)
	do(t, tab, chromedp.WaitReady(loggedInAs(user)))
}

// submitLogin fills in and submits the log in form of the page tab shows,
// without waiting for the response.
func submitLogin(t *testing.T, tab context.Context, user string) {
	t.Helper()
	do(t, tab,
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SetValue(css("#name"), user),
		chromedp.Click(css("#login")),
	)
}

// logOut clicks Log out and waits for the logged out page.
func logOut(t *testing.T, tab context.Context) {
	t.Helper()
	do(t, tab, chromedp.Click(css("#logout")), chromedp.WaitReady(loggedInAs("")))
}

// expectLoggedOut reloads tab and checks that the page shows "logged out".
func expectLoggedOut(t *testing.T, tab context.Context, name string) {
	t.Helper()
	do(t, tab, chromedp.Reload(), chromedp.WaitReady(css("#who")))
	who := run(t, tab, chromedp.Text(css("#who")))
	user := run(t, tab, chromedp.Text(css("#user")))
	if user != "logged out" {
		t.Fatalf("%s after reload shows %q, want logged out", name, strings.Join(strings.Fields(who), " "))
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
	run(t, tab, chromedp.Evaluate[bool](`
		window.slowResult = null;
		fetch("/slow", {method: "POST"})
			.then((r) => r.text())
			.then((text) => { window.slowResult = text.trim().split("\n").map((l) => JSON.parse(l)); },
			      (err) => { window.slowResult = [{step: "fetch", outcome: "error", error: String(err)}]; });
		true`))
}

// slowResult waits for the slow fetch of startSlow to end and returns
// what it read and how its write ended.
func slowResult(t *testing.T, tab context.Context) (read, write slowEvent) {
	t.Helper()
	lines := run(t, tab, chromedp.Poll[[]slowEvent]("window.slowResult",
		chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(waitTimeout)))
	if len(lines) != 2 || lines[0].Step != "read" || lines[1].Step != "write" {
		t.Fatalf("slow request answered %+v, want a read and a write", lines)
	}
	return lines[0], lines[1]
}
