// Command token carries the session ID in a header instead of a cookie, as
// API and mobile clients need: a server with
// sessions.WithHeader("Authorization"), and a Go client that logs in, reads
// its account with the token it got, and logs out.
//
//	go run ./examples/token                    # the server and the client, in one program
//	go run ./examples/token -serve localhost:8080 -origin http://localhost:3000
//
// The token arrives in the response header Authorization ("Bearer <id>").
// The client sends it back in the same request header, replaces it when a
// response carries a new one (log in gives a fresh ID), and drops it when a
// response carries the header empty (log out). With -serve the program only
// serves, for curl or for a page at -origin that calls the API with fetch().
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/sessions"
)

func main() {
	serve := flag.String("serve", "", "only serve the API at this address, e.g. localhost:8080")
	origin := flag.String("origin", "", "with -serve: a browser origin allowed to call the API, e.g. http://localhost:3000")
	flag.Parse()

	store := sessions.NewMemoryStore()
	defer store.Close()
	api := newAPI(store, *origin)
	if *serve != "" {
		srv := &http.Server{Addr: *serve, Handler: api, ReadHeaderTimeout: 10 * time.Second}
		log.Printf("serving the API on http://%s/", *serve)
		log.Fatal(srv.ListenAndServe())
	}
	if err := demo(os.Stdout, api); err != nil {
		log.Fatal(err)
	}
}

// demo serves api on a free localhost port and runs the client against it,
// printing each step to out.
func demo(out io.Writer, api http.Handler) error {
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	c := newClient("http://" + ln.Addr().String())
	for _, step := range []struct{ method, path, form string }{
		{"POST", "/login", "user=alice"},
		{"GET", "/me", ""},
		{"POST", "/logout", ""},
		{"GET", "/me", ""},
	} {
		status, body, err := c.do(step.method, step.path, step.form)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-6s %-8s %d %-22s token: %s\n", step.method, step.path, status, strings.TrimSpace(body), c.shown())
	}
	return nil
}

// newAPI returns the API, its sessions carried in the Authorization header.
// origin, when not empty, is a browser origin allowed to call it.
func newAPI(store sessions.Store, origin string) http.Handler {
	m := sessions.New(store, sessions.WithHeader("Authorization"))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /me", me)
	mux.HandleFunc("POST /logout", logout)
	// CORS goes outside the session middleware: a preflight is answered
	// without a session, at no store call.
	return cors(origin, m.Handler(mux))
}

// login binds the session to the user. Login gives it a fresh ID, which the
// response carries in the Authorization header: the client's new token.
func login(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user") // check the password here
	if user == "" {
		http.Error(w, "a user is required", http.StatusBadRequest)
		return
	}
	sessions.Get(r).Login(user)
	fmt.Fprintf(w, "welcome %s\n", user)
}

// me answers who the token belongs to.
func me(w http.ResponseWriter, r *http.Request) {
	user := sessions.Get(r).UserID()
	if user == "" {
		http.Error(w, "no valid token", http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "you are %s\n", user)
}

// logout ends the session for good; the response carries the header empty,
// which tells the client to drop its token.
func logout(w http.ResponseWriter, r *http.Request) {
	sessions.Get(r).Destroy()
	fmt.Fprintln(w, "bye")
}

// cors lets pages from origin call the API from a browser. A browser hides
// the Authorization header from a cross-origin page both ways unless told
// otherwise: Access-Control-Allow-Headers, in the answer to the preflight,
// lets the page send it, and Access-Control-Expose-Headers lets it read the
// token a response carries. No cookie is involved, so no
// Access-Control-Allow-Credentials.
func cors(origin string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || r.Header.Get("Origin") != origin {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Authorization")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
