package ginsessions_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// browser is one browser tab: it keeps the session cookie by hand, because
// the default cookie is Secure and a cookie jar sends none over plain HTTP.
// It does not follow redirects, so every Set-Cookie is seen.
type browser struct {
	t      *testing.T
	base   string
	name   string
	cookie string
	client *http.Client
}

// newBrowser returns a tab for the server at base whose session cookie is
// called name.
func newBrowser(t *testing.T, base, name string) *browser {
	return &browser{t: t, base: base, name: name, client: &http.Client{
		Timeout:       hang,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Tab returns a second tab that starts with this tab's cookie and then goes
// its own way.
func (b *browser) Tab() *browser {
	c := *b
	return &c
}

// Cookie returns the session ID the tab holds, or "".
func (b *browser) Cookie() string { return b.cookie }

// response is what a request got back.
type response struct {
	Status  int
	Body    string
	Cookies []*http.Cookie // the Set-Cookie headers for the session cookie
}

// Do sends a request with the tab's cookie and keeps the cookie it gets.
func (b *browser) Do(method, path string, form url.Values) response {
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
	r := response{Status: res.StatusCode, Body: string(text)}
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
func (r response) Want(t *testing.T, status int, text string) response {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Body, text) {
		t.Fatalf("got %d %q, want %d and a body containing %q", r.Status, r.Body, status, text)
	}
	return r
}

// NoCookie fails the test if the response set the session cookie.
func (r response) NoCookie(t *testing.T) response {
	t.Helper()
	if len(r.Cookies) != 0 {
		t.Fatalf("the response set the session cookie (%d Set-Cookie), want none", len(r.Cookies))
	}
	return r
}

// NewCookie fails the test unless the response set one session cookie with
// an ID.
func (r response) NewCookie(t *testing.T) response {
	t.Helper()
	if len(r.Cookies) != 1 || r.Cookies[0].Value == "" || r.Cookies[0].MaxAge < 0 {
		t.Fatalf("got %d session Set-Cookie headers, want one that carries an ID", len(r.Cookies))
	}
	return r
}

// DeletesCookie fails the test unless the response deleted the session
// cookie.
func (r response) DeletesCookie(t *testing.T) response {
	t.Helper()
	if len(r.Cookies) != 1 || r.Cookies[0].MaxAge >= 0 {
		t.Fatalf("got %d session Set-Cookie headers, want one that deletes the cookie", len(r.Cookies))
	}
	return r
}
