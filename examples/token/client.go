package main

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// client is an API client that keeps its token the way the server hands it
// out: it sends it as a Bearer credential, replaces it with every response
// that carries the header, and drops it when the header comes back empty.
// A real client keeps it where other code cannot read it (the platform's
// keychain), not in a page's localStorage.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

// do sends a request with the token and a form body, and returns the
// response's status and body.
func (c *client) do(method, path, form string) (int, string, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(form))
	if err != nil {
		return 0, "", err
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	c.keep(res.Header)
	return res.StatusCode, string(body), err
}

// keep applies what a response says about the token. No Authorization
// header: the token stays as it is. An empty one: the session ended. Else
// the new token, after a log in or a renewal.
func (c *client) keep(h http.Header) {
	v, ok := h["Authorization"]
	if !ok {
		return
	}
	c.token = strings.TrimPrefix(v[0], "Bearer ")
}

// shown is the token as the demo prints it: its start, or "none". The
// token is the session's secret; a real program never logs it.
func (c *client) shown() string {
	switch {
	case c.token == "":
		return "none"
	case len(c.token) > 8:
		return c.token[:8] + "…"
	}
	return c.token
}
