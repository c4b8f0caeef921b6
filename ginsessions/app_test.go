package ginsessions_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/ginsessions"
)

// gate holds /slow between its read and its write until the test opens it.
type gate struct {
	loaded  chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{loaded: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gate) pause() {
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

// newApp is a small gin app behind Middleware whose handlers all write a
// body, the case the natural adapter gets wrong: log in, a protected page,
// a counter, log out, and a slow request that waits at g between reading
// the session and writing it.
func newApp(m *sessions.Manager, g *gate) *gin.Engine {
	e := gin.New()
	e.Use(gin.Recovery(), ginsessions.Middleware(m))
	e.POST("/login", func(c *gin.Context) {
		sessions.Get(c.Request).Login(c.PostForm("user"))
		c.String(http.StatusOK, "welcome %s\n", c.PostForm("user"))
	})
	e.GET("/account", func(c *gin.Context) {
		s := sessions.Get(c.Request)
		if s.UserID() == "" {
			c.String(http.StatusUnauthorized, "not logged in\n")
			return
		}
		c.String(http.StatusOK, "hello %s, count %d\n", s.UserID(), s.GetInt("count"))
	})
	e.POST("/count", countHandler)
	e.POST("/logout", func(c *gin.Context) {
		sessions.Get(c.Request).Destroy()
		c.String(http.StatusOK, "bye\n")
	})
	e.GET("/slow", func(c *gin.Context) {
		s := sessions.Get(c.Request)
		n := s.GetInt("count")
		g.pause()
		s.Set("count", n+1) // the write a logout meanwhile must refuse
		c.String(http.StatusOK, "slow done\n")
	})
	return e
}

// startApp serves newApp on a fresh store and returns a tab and its gate.
func startApp(t *testing.T) (*browser, *gate) {
	t.Helper()
	m := newManager(t)
	g := newGate()
	b := serve(t, m, newApp(m, g))
	t.Cleanup(g.open) // runs before the server closes: no handler left waiting
	return b, g
}

// A log in that writes a page sets the cookie of a fresh ID, and the ID
// from before the log in is dead.
func TestLogInSetsTheCookie(t *testing.T) {
	b, _ := startApp(t)
	b.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in").NoCookie(t)
	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	before := b.Tab()

	b.Do("POST", "/login", url.Values{"user": {"alice"}}).Want(t, http.StatusOK, "welcome alice").NewCookie(t)
	if b.Cookie() == before.Cookie() {
		t.Fatal("log in kept the session ID")
	}
	b.Do("GET", "/account", nil).Want(t, http.StatusOK, "hello alice, count 1").NoCookie(t)
	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 2").NoCookie(t)
	before.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in")
}

// A logout that writes a page deletes the cookie, and a slow request that
// read the session before the logout cannot write it back: its write is
// refused and its response carries no cookie.
func TestLogoutSticks(t *testing.T) {
	b, g := startApp(t)
	b.Do("POST", "/login", url.Values{"user": {"alice"}}).Want(t, http.StatusOK, "welcome alice").NewCookie(t)
	tab2, old := b.Tab(), b.Cookie()

	slow := make(chan response, 1)
	go func() { slow <- tab2.Do("GET", "/slow", nil) }()
	select {
	case <-g.loaded:
	case <-time.After(hang):
		t.Fatal("/slow never reached its pause")
	}
	b.Do("POST", "/logout", nil).Want(t, http.StatusOK, "bye").DeletesCookie(t)
	g.open()
	select {
	case r := <-slow:
		r.Want(t, http.StatusOK, "slow done").NoCookie(t)
	case <-time.After(hang):
		t.Fatal("/slow never answered")
	}
	b.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in").NoCookie(t)
	tab2.Do("GET", "/account", nil).Want(t, http.StatusUnauthorized, "not logged in").NoCookie(t)
	// "count 2" here would be the slow write landing on the old ID.
	tab2.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	if tab2.Cookie() == old {
		t.Fatal("the counter after the logout did not start a new session")
	}
}
