package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/sessionkit/sessions"
)

// roundTrip serves a Manager on st over real HTTP and checks that a login
// sticks and a logout ends it, through h when it is not nil (a framework's
// router that wraps the Manager), else through the Manager's own Handler.
func roundTrip(m *sessions.Manager, h http.Handler) error {
	if h == nil {
		h = m.Handler(app())
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for _, step := range []struct{ path, want string }{
		{"/login", "ok"}, {"/whoami", "consumer"}, {"/logout", "ok"}, {"/whoami", ""},
	} {
		resp, err := c.Get(srv.URL + step.path)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != step.want {
			return fmt.Errorf("%s: %d %q, want 200 %q", step.path, resp.StatusCode, b, step.want)
		}
	}
	fmt.Println("login, read, logout: ok")
	return nil
}

// app is the consumer's application.
func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Login("consumer")
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, sessions.Get(r).UserID())
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Destroy()
		io.WriteString(w, "ok")
	})
	return mux
}
