// Package apptest drives the example apps over real HTTP, so that every
// framework is held to the same log in, protected page, counter, log out and
// logout race.
//
// Every app serves these routes:
//
//	POST /login    form field user: Renew, set "user", 303 to /account
//	GET  /account  200 "hello <user>, count <n>"; 401 without a user
//	POST /count    add one to "count", answer "count <n>"
//	POST /logout   Destroy, 303 to /
//	GET  /slow     read "count", pause, store count+1, answer "slow done"
package apptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// NewApp builds the app under test on m. pause is called by /slow between
// its read and its write.
type NewApp func(m *sessions.Manager, pause func(*http.Request)) http.Handler

// hang bounds every wait in the tests: reaching it means a hang, not a slow
// machine.
const hang = 10 * time.Second

// Run runs every scenario against the app that newApp builds.
func Run(t *testing.T, newApp NewApp) {
	t.Run("LogInReadWriteLogOut", func(t *testing.T) { testFlow(t, newApp) })
	t.Run("LogoutRaceFromTab2", func(t *testing.T) { testLogoutRace(t, newApp) })
}

// gate holds /slow between its read and its write until the test releases
// it.
type gate struct {
	loaded  chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{loaded: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gate) pause(*http.Request) {
	select {
	case g.loaded <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-time.After(hang):
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// start serves the app on a fresh memory store and returns a browser for it
// and the gate that /slow waits at.
func start(t *testing.T, newApp NewApp) (*Browser, *gate) {
	t.Helper()
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	m := sessions.New(store)
	g := newGate()
	srv := httptest.NewServer(newApp(m, g.pause))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // runs before srv.Close, so no handler is left waiting
	return NewBrowser(t, srv.URL, m.CookieName()), g
}

func testFlow(t *testing.T, newApp NewApp) {
	b, _ := start(t, newApp)
	b.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in").NoCookie(t)

	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	before := b.Tab()

	b.Do("POST", "/login", url.Values{"user": {"alice"}}).Want(t, http.StatusSeeOther, "").NewCookie(t)
	if b.Cookie() == before.Cookie() {
		t.Fatal("log in kept the session ID: Renew did not reach the response")
	}
	b.Do("GET", "/account", nil).Want(t, http.StatusOK, "hello alice, count 1").NoCookie(t)
	before.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in")

	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 2").NoCookie(t)
	b.Do("GET", "/account", nil).Want(t, http.StatusOK, "hello alice, count 2")

	old := b.Tab()
	b.Do("POST", "/logout", nil).Want(t, http.StatusSeeOther, "").DeletesCookie(t)
	old.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in")
}

// testLogoutRace: tab 2's slow request reads the session, tab 1 logs out
// while it waits, then the slow request writes. The write must be refused:
// no Set-Cookie, and the old ID stays dead.
func testLogoutRace(t *testing.T, newApp NewApp) {
	b, g := start(t, newApp)
	b.Do("POST", "/login", url.Values{"user": {"alice"}}).Want(t, http.StatusSeeOther, "").NewCookie(t)
	tab2, old := b.Tab(), b.Cookie()

	slow := make(chan Response, 1)
	go func() { slow <- tab2.Do("GET", "/slow", nil) }()
	select {
	case <-g.loaded:
	case <-time.After(hang):
		t.Fatal("/slow never reached its pause")
	}

	b.Do("POST", "/logout", nil).Want(t, http.StatusSeeOther, "").DeletesCookie(t)
	g.open()
	var r Response
	select {
	case r = <-slow:
	case <-time.After(hang):
		t.Fatal("/slow never answered")
	}
	r.Want(t, http.StatusOK, "slow done").NoCookie(t)
	tab2.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in").NoCookie(t)
	// "count 2" here would be the slow write landing on the old ID.
	tab2.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	if tab2.Cookie() == old {
		t.Fatal("the counter after the logout did not start a new session")
	}
}

// Browser is one browser tab: it keeps the session cookie by hand, because
// the default cookie is Secure and a cookie jar sends none over plain HTTP.
type Browser struct {
	t      *testing.T
	base   string
	name   string
	cookie string
	client *http.Client
}

// NewBrowser returns a tab for the server at base whose session cookie is
// called name. It does not follow redirects, so every Set-Cookie is seen.
func NewBrowser(t *testing.T, base, name string) *Browser {
	return &Browser{t: t, base: base, name: name, client: &http.Client{
		Timeout:       hang,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Tab returns a second tab that starts with this tab's cookie and then goes
// its own way.
func (b *Browser) Tab() *Browser {
	c := *b
	return &c
}

// Cookie returns the session ID the tab holds, or "".
func (b *Browser) Cookie() string { return b.cookie }

// Response is what a request got back.
type Response struct {
	Status  int
	Body    string
	Cookies []*http.Cookie // the Set-Cookie headers for the session cookie
}

// Do sends a request with the tab's cookie and keeps the cookie it gets.
func (b *Browser) Do(method, path string, form url.Values) Response {
	b.t.Helper()
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: b.name, Value: b.cookie})
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	r := Response{Status: res.StatusCode, Body: string(text)}
	for _, c := range res.Cookies() {
		if c.Name == b.name {
			r.Cookies = append(r.Cookies, c)
			b.cookie = c.Value
			if c.MaxAge < 0 {
				b.cookie = ""
			}
		}
	}
	return r
}

// Want fails the test unless the response has the status and its body
// contains text.
func (r Response) Want(t *testing.T, status int, text string) Response {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Body, text) {
		t.Fatalf("got %d %q, want %d and a body containing %q", r.Status, r.Body, status, text)
	}
	return r
}

// NoCookie fails the test if the response set the session cookie.
func (r Response) NoCookie(t *testing.T) Response {
	t.Helper()
	if len(r.Cookies) != 0 {
		t.Fatalf("the response set the session cookie (%d Set-Cookie), want none", len(r.Cookies))
	}
	return r
}

// NewCookie fails the test unless the response set one session cookie with
// an ID.
func (r Response) NewCookie(t *testing.T) Response {
	t.Helper()
	if len(r.Cookies) != 1 || r.Cookies[0].Value == "" || r.Cookies[0].MaxAge < 0 {
		t.Fatalf("got %d session Set-Cookie headers, want one that carries an ID", len(r.Cookies))
	}
	return r
}

// DeletesCookie fails the test unless the response deleted the session
// cookie.
func (r Response) DeletesCookie(t *testing.T) Response {
	t.Helper()
	if len(r.Cookies) != 1 || r.Cookies[0].MaxAge >= 0 {
		t.Fatalf("got %d session Set-Cookie headers, want one that deletes the cookie", len(r.Cookies))
	}
	return r
}
