// Command ginapp is the example app on gin. The session middleware goes into
// gin's chain through the adapter of the module
// github.com/sessionkit/sessions/ginsessions, which routes gin's writer
// through the session's so that the session is committed before the first
// byte; -wrap runs the other safe way, the whole engine inside m.Handler.
// Handlers find the session with sessions.Get(c.Request) either way.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/ginsessions"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	wrap := flag.Bool("wrap", false, "wrap the whole engine in the session middleware instead of using the gin adapter")
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

// newApp returns the app with the session middleware in gin's chain.
func newApp(m *sessions.Manager, pause func(*http.Request)) http.Handler {
	e := gin.New()
	e.Use(gin.Recovery(), ginsessions.Middleware(m))
	routes(e, pause)
	return e
}

// newWrappedApp returns the app as an engine wrapped in m.Handler: no
// adapter, and the session is there for every route and for gin's 404s.
func newWrappedApp(m *sessions.Manager, pause func(*http.Request)) http.Handler {
	e := gin.New()
	e.Use(gin.Recovery())
	routes(e, pause)
	return m.Handler(e)
}

// routes registers the handlers. pause runs in /slow between its read and
// its write.
func routes(e *gin.Engine, pause func(*http.Request)) {
	e.POST("/login", login)
	e.GET("/account", account)
	e.POST("/count", count)
	e.POST("/logout", logout)
	e.GET("/slow", func(c *gin.Context) {
		s := sessions.Get(c.Request)
		n := s.GetInt("count")
		pause(c.Request)
		// The write a logout in another tab must refuse: applied, it would
		// keep the logged-out session alive.
		s.Set("count", n+1)
		c.String(http.StatusOK, "slow done\n")
	})
}

func login(c *gin.Context) {
	name := c.PostForm("user")
	if name == "" {
		c.String(http.StatusBadRequest, "a user name is required\n")
		return
	}
	s := sessions.Get(c.Request)
	s.Login(name) // a fresh ID, bound to the user: one planted before is worthless
	c.Redirect(http.StatusSeeOther, "/account")
}

func account(c *gin.Context) {
	s := sessions.Get(c.Request)
	user := s.UserID()
	if user == "" {
		c.String(http.StatusUnauthorized, "not logged in\n")
		return
	}
	c.String(http.StatusOK, "hello %s, count %d\n", user, s.GetInt("count"))
}

func count(c *gin.Context) {
	s := sessions.Get(c.Request)
	n := s.GetInt("count") + 1
	s.Set("count", n)
	c.String(http.StatusOK, "count %d\n", n)
}

func logout(c *gin.Context) {
	sessions.Get(c.Request).Destroy()
	c.Redirect(http.StatusSeeOther, "/")
}
