package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessions"
)

const origin = "https://app.example"

// startAPI serves the API on a fresh memory store until the test ends.
func startAPI(t *testing.T) *httptest.Server {
	t.Helper()
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(newAPI(store, origin))
	t.Cleanup(srv.Close)
	return srv
}

// send makes one request with the given headers and returns the response,
// its body already read and closed. Every POST carries the log in form,
// which the other routes ignore.
func send(t *testing.T, method, url string, header map[string]string) *http.Response {
	t.Helper()
	body := ""
	if method == http.MethodPost {
		body = "user=alice"
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// The whole flow, header by header: log in answers with the token in the
// Authorization header and sets no cookie, the token reads the account,
// log out answers with the header present and empty, and the old token
// reads nothing any more.
func TestTokenFlow(t *testing.T) {
	srv := startAPI(t)
	res := send(t, "POST", srv.URL+"/login", nil)
	bearer := res.Header.Get("Authorization")
	token, ok := strings.CutPrefix(bearer, "Bearer ")
	if res.StatusCode != http.StatusOK || !ok || len(token) != 43 {
		t.Fatalf("log in: %s, Authorization %q; want 200 and a Bearer token", res.Status, bearer)
	}
	if c := res.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Fatalf("log in set a cookie: %q", c)
	}
	auth := map[string]string{"Authorization": bearer}
	if res = send(t, "GET", srv.URL+"/me", auth); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /me with the token: %s, want 200", res.Status)
	}
	if _, sent := res.Header["Authorization"]; sent {
		t.Error("a request that changed nothing sent the header: the client would keep it anyway")
	}
	res = send(t, "POST", srv.URL+"/logout", auth)
	if v, sent := res.Header["Authorization"]; res.StatusCode != http.StatusOK || !sent || v[0] != "" {
		t.Fatalf("log out: %s, Authorization %q (sent %v); want 200 and the header empty", res.Status, v, sent)
	}
	if res = send(t, "GET", srv.URL+"/me", auth); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me with the logged out token: %s, want 401", res.Status)
	}
}

// The program's own run: the client keeps the token from the log in, uses
// it, and drops it at the log out.
func TestDemo(t *testing.T) {
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	var out strings.Builder
	if err := demo(&out, newAPI(store, "")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"POST", "/login", "200", "welcome alice", "token: "},
		{"GET", "/me", "200", "you are alice", "token: "},
		{"POST", "/logout", "200", "bye", "token: none"},
		{"GET", "/me", "401", "no valid token", "token: none"},
	}
	if len(lines) != len(want) {
		t.Fatalf("the demo printed %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, parts := range want {
		for _, p := range parts {
			if !strings.Contains(lines[i], p) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i], p)
			}
		}
	}
	if strings.Contains(lines[0], "token: none") || !strings.Contains(lines[1], tokenShown(lines[0])) {
		t.Errorf("the client did not keep the token from the log in:\n%s", out.String())
	}
}

// tokenShown is what a line of the demo shows of the token.
func tokenShown(line string) string {
	_, shown, _ := strings.Cut(line, "token: ")
	return shown
}

// A page on the allowed origin may send the Authorization header (the
// preflight says so) and read it from a response (it is exposed); a page
// on another origin gets no CORS headers, so its browser shows it nothing.
func TestCORS(t *testing.T) {
	srv := startAPI(t)
	res := send(t, "OPTIONS", srv.URL+"/me", map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
	})
	h := res.Header
	if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %s, headers %v; want 204 allowing the origin and the Authorization header", res.Status, h)
	}
	res = send(t, "POST", srv.URL+"/login", map[string]string{"Origin": origin})
	if res.Header.Get("Access-Control-Expose-Headers") != "Authorization" || res.Header.Get("Authorization") == "" {
		t.Fatalf("log in from the page: headers %v; want the token, exposed", res.Header)
	}
	res = send(t, "POST", srv.URL+"/login", map[string]string{"Origin": "https://other.example"})
	if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("another origin was allowed: %q", v)
	}
}
