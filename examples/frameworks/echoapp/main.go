// Command echoapp is the example app on echo v4. echo.WrapMiddleware turns
// the session middleware into echo middleware, and it swaps echo's response
// for one around the session's writer, so the session is committed before
// the first byte; -wrap runs the other way, the whole echo instance inside
// m.Handler. Handlers find the session with sessions.Get(c.Request()) either
// way. An echo.Context is not a context.Context: for FromContext, pass
// c.Request().Context().
//
// One limit in every arrangement: echo's Recover middleware turns a panic
// into an error whose 500 echo writes through the session's writer, so the
// panicking request's session changes are committed. WrapMiddleware does
// not restore echo's own response on the way out, so registering Recover
// before it does not help either.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sessionkit/sessions"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	wrap := flag.Bool("wrap", false, "wrap the whole echo instance in the session middleware instead of e.Use")
	flag.Parse()
	m := sessions.New(sessions.NewMemoryStore())
	app := newApp(m, work)
	if *wrap {
		app = newWrappedApp(m, work)
	}
	srv := &http.Server{Addr: *addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
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

// newApp returns the app with the session middleware in echo's chain.
func newApp(m *sessions.Manager, pause func(*http.Request)) http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.Use(echo.WrapMiddleware(m.Handler))
	routes(e, pause)
	return e
}

// newWrappedApp returns the app as an echo instance wrapped in m.Handler.
func newWrappedApp(m *sessions.Manager, pause func(*http.Request)) http.Handler {
	e := echo.New()
	e.HideBanner = true
	routes(e, pause)
	return m.Handler(e)
}

// routes registers the handlers. pause runs in /slow between its read and
// its write.
func routes(e *echo.Echo, pause func(*http.Request)) {
	e.POST("/login", login)
	e.GET("/account", account)
	e.POST("/count", count)
	e.POST("/logout", logout)
	e.GET("/slow", func(c echo.Context) error {
		s := sessions.Get(c.Request())
		n := s.GetInt("count")
		pause(c.Request())
		// The write a logout in another tab must refuse: applied, it would
		// keep the logged-out session alive.
		s.Set("count", n+1)
		return c.String(http.StatusOK, "slow done\n")
	})
}

func login(c echo.Context) error {
	name := c.FormValue("user")
	if name == "" {
		return c.String(http.StatusBadRequest, "a user name is required\n")
	}
	s := sessions.Get(c.Request())
	s.Login(name) // a fresh ID, bound to the user: one planted before is worthless
	return c.Redirect(http.StatusSeeOther, "/account")
}

func account(c echo.Context) error {
	s := sessions.Get(c.Request())
	user := s.UserID()
	if user == "" {
		return c.String(http.StatusUnauthorized, "not logged in\n")
	}
	return c.String(http.StatusOK, fmt.Sprintf("hello %s, count %d\n", user, s.GetInt("count")))
}

func count(c echo.Context) error {
	s := sessions.Get(c.Request())
	n := s.GetInt("count") + 1
	s.Set("count", n)
	return c.String(http.StatusOK, fmt.Sprintf("count %d\n", n))
}

func logout(c echo.Context) error {
	sessions.Get(c.Request()).Destroy()
	return c.Redirect(http.StatusSeeOther, "/")
}
