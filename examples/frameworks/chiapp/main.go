// Command chiapp is the example app on go-chi/chi. The session middleware is
// ordinary net/http middleware, so it goes into chi's chain as it is,
// r.Use(m.Handler), and handlers find the session with sessions.Get(r).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/sessionkit/sessions"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	m := sessions.New(sessions.NewMemoryStore())
	srv := &http.Server{Addr: *addr, Handler: newApp(m, work), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on http://%s/", *addr)
	log.Fatal(srv.ListenAndServe())
}

// work stands for the slow part of /slow: long enough to log out in another
// tab meanwhile.
func work(r *http.Request) {
	select {
	case <-time.After(5 * time.Second):
	case <-r.Context().Done():
	}
}

// newApp returns the app with m in chi's middleware chain. pause runs in
// /slow between its read and its write.
func newApp(m *sessions.Manager, pause func(*http.Request)) http.Handler {
	r := chi.NewRouter()
	r.Use(m.Handler)
	r.Post("/login", login)
	r.Get("/account", account)
	r.Post("/count", count)
	r.Post("/logout", logout)
	r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		n := s.GetInt("count")
		pause(r)
		// The write a logout in another tab must refuse: applied, it would
		// keep the logged-out session alive.
		s.Set("count", n+1)
		fmt.Fprintln(w, "slow done")
	})
	return r
}

func login(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("user")
	if name == "" {
		http.Error(w, "a user name is required", http.StatusBadRequest)
		return
	}
	s := sessions.Get(r)
	s.Login(name) // a fresh ID, bound to the user: one planted before is worthless
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func account(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	user := s.UserID()
	if user == "" {
		http.Error(w, "not logged in", http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "hello %s, count %d\n", user, s.GetInt("count"))
}

func count(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	n := s.GetInt("count") + 1
	s.Set("count", n)
	fmt.Fprintf(w, "count %d\n", n)
}

func logout(w http.ResponseWriter, r *http.Request) {
	sessions.Get(r).Destroy()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
