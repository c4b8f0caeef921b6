package ginsessions_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/ginsessions"
)

func init() { gin.SetMode(gin.TestMode) }

// hang bounds every wait: reaching it means a hang, not a slow machine.
const hang = 10 * time.Second

// natural is the adapter a gin user writes first: the session reaches the
// handlers, but c.Writer still writes past the session's writer.
func natural(m *sessions.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
	}
}

func newManager(t *testing.T, opts ...sessions.Option) *sessions.Manager {
	t.Helper()
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	return sessions.New(store, opts...)
}

// serve starts h on a real server and returns a browser tab for it.
func serve(t *testing.T, m *sessions.Manager, h http.Handler) *browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return newBrowser(t, srv.URL, m.CookieName())
}

func countHandler(c *gin.Context) {
	s := sessions.Get(c.Request)
	n := s.GetInt("count") + 1
	s.Set("count", n)
	c.String(http.StatusOK, "count %d\n", n)
}

// writeCounter counts the store's writes.
type writeCounter struct {
	sessions.Store
	mu     sync.Mutex
	writes int
}

func (s *writeCounter) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	s.mu.Lock()
	s.writes++
	s.mu.Unlock()
	return s.Store.Write(ctx, id, ch, ttl)
}

// The trap: with the natural adapter a handler that writes a body never gets
// its new session's cookie out, so the counter is stuck at 1. Nothing
// reports it: the session's writer saw no write, so at the end it commits as
// if the headers were still to come, stores the new session, and adds a
// Set-Cookie to headers that gin has already sent.
func TestNaturalAdapterLosesTheNewSessionCookie(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	mem := sessions.NewMemoryStore()
	t.Cleanup(func() { mem.Close() })
	store := &writeCounter{Store: mem}
	m := sessions.New(store, sessions.WithErrorHandler(func(_ http.ResponseWriter, _ *http.Request, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	e := gin.New()
	e.Use(natural(m))
	e.POST("/count", countHandler)
	b := serve(t, m, e)

	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NoCookie(t)
	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NoCookie(t)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 0 {
		t.Errorf("error handler got %v, want nothing: the loss goes unnoticed", errs)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.writes != 2 {
		t.Errorf("store got %d writes, want 2: one session per request that no browser holds", store.writes)
	}
}

func TestMiddlewareKeepsTheNewSessionCookie(t *testing.T) {
	m := newManager(t)
	e := gin.New()
	e.Use(ginsessions.Middleware(m))
	e.POST("/count", countHandler)
	b := serve(t, m, e)

	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 2").NoCookie(t)
}

// newEngine returns an engine with Middleware and handler on GET /.
func newEngine(m *sessions.Manager, handler gin.HandlerFunc) *gin.Engine {
	e := gin.New()
	e.Use(ginsessions.Middleware(m))
	e.GET("/", handler)
	e.POST("/count", countHandler)
	return e
}

// check reports a mismatch from inside a handler.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// A status set before the session changes holds, like gin's own writer,
// until the first byte, and the commit still comes before it.
func TestStatusThenSessionThenBody(t *testing.T) {
	m := newManager(t)
	b := serve(t, m, newEngine(m, func(c *gin.Context) {
		c.Status(http.StatusCreated)
		check(t, "Status after c.Status", c.Writer.Status(), http.StatusCreated)
		check(t, "Written before the body", c.Writer.Written(), false)
		check(t, "Size before the body", c.Writer.Size(), -1)
		sessions.Get(c.Request).Set("k", 1)
		n, err := c.Writer.WriteString("abc")
		check(t, "WriteString n", n, 3)
		check(t, "WriteString err", err, nil)
		n, _ = c.Writer.Write([]byte("de"))
		check(t, "Write n", n, 2)
		check(t, "Size after the body", c.Writer.Size(), 5)
		check(t, "Written after the body", c.Writer.Written(), true)
		c.Status(http.StatusAccepted) // too late, as in gin
		check(t, "Status after the body", c.Writer.Status(), http.StatusCreated)
	}))
	b.Do("GET", "/", nil).Want(t, http.StatusCreated, "abcde").NewCookie(t)
}

// A response with a status and no body still carries the cookie.
func TestStatusWithoutBody(t *testing.T) {
	m := newManager(t)
	b := serve(t, m, newEngine(m, func(c *gin.Context) {
		sessions.Get(c.Request).Set("k", 1)
		c.Status(http.StatusNoContent)
	}))
	b.Do("GET", "/", nil).Want(t, http.StatusNoContent, "").NewCookie(t)
}

func TestWriteHeaderNow(t *testing.T) {
	m := newManager(t)
	b := serve(t, m, newEngine(m, func(c *gin.Context) {
		sessions.Get(c.Request).Set("k", 1)
		c.AbortWithStatus(http.StatusAccepted) // c.Status, then c.Writer.WriteHeaderNow
		check(t, "Written after WriteHeaderNow", c.Writer.Written(), true)
		check(t, "Size after WriteHeaderNow", c.Writer.Size(), 0)
		check(t, "Status after WriteHeaderNow", c.Writer.Status(), http.StatusAccepted)
	}))
	b.Do("GET", "/", nil).Want(t, http.StatusAccepted, "").NewCookie(t)
}

// Flush sends the headers, with the cookie, while the handler still runs.
func TestFlushSendsTheCookieFirst(t *testing.T) {
	m := newManager(t)
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	srv := httptest.NewServer(newEngine(m, func(c *gin.Context) {
		sessions.Get(c.Request).Set("k", 1)
		c.Writer.Flush() // before any byte: the headers alone go out
		_, _ = c.Writer.WriteString("first ")
		c.Writer.Flush()
		select {
		case <-release:
		case <-time.After(hang):
		}
		_, _ = c.Writer.WriteString("last")
	}))
	defer srv.Close()
	defer open()

	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	res, err := (&http.Client{Timeout: hang}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if len(res.Cookies()) != 1 || res.Cookies()[0].Name != m.CookieName() {
		t.Fatalf("flushed headers carry %d cookies, want the session cookie", len(res.Cookies()))
	}
	first := make([]byte, len("first "))
	if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "first " {
		t.Fatalf("read %q, %v before the handler went on; want the flushed bytes", first, err)
	}
	open()
	rest, _ := io.ReadAll(res.Body)
	check(t, "rest of the body", string(rest), "last")
}

// Hijack commits the session before it hands over the connection: the
// value is readable while the hijacking handler still runs.
func TestHijackCommits(t *testing.T) {
	m := newManager(t)
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	e := newEngine(m, func(c *gin.Context) {
		s := sessions.Get(c.Request)
		c.String(http.StatusOK, "count %d\n", s.GetInt("count"))
	})
	e.GET("/hijack", func(c *gin.Context) {
		sessions.Get(c.Request).Set("count", 41)
		conn, rw, err := c.Writer.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		check(t, "Written after Hijack", c.Writer.Written(), true)
		check(t, "Size after Hijack", c.Writer.Size(), 0)
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nhijacked\n")
		_ = rw.Flush()
		conn.Close()
		select {
		case <-release:
		case <-time.After(hang):
		}
	})
	e.GET("/late", func(c *gin.Context) {
		_, _ = c.Writer.WriteString("x")
		_, _, err := c.Writer.Hijack()
		check(t, "Hijack after the body refused", err != nil, true)
	})
	b := serve(t, m, e)
	b.Do("POST", "/count", nil).Want(t, http.StatusOK, "count 1").NewCookie(t)
	b.Do("GET", "/hijack", nil).Want(t, http.StatusOK, "hijacked")
	b.Do("GET", "/", nil).Want(t, http.StatusOK, "count 41")
	open()
	b.Do("GET", "/late", nil).Want(t, http.StatusOK, "x")
}

// CloseNotify fires when the client goes away.
func TestCloseNotify(t *testing.T) {
	m := newManager(t)
	started, notified := make(chan struct{}), make(chan bool, 1)
	srv := httptest.NewServer(newEngine(m, func(c *gin.Context) {
		ch := c.Writer.CloseNotify()
		close(started)
		select {
		case <-ch:
			notified <- true
		case <-time.After(hang):
			notified <- false
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	select {
	case <-started:
	case <-time.After(hang):
		t.Fatal("the handler never started")
	}
	cancel()
	if !<-notified {
		t.Fatal("CloseNotify did not fire when the client went away")
	}
	<-done
}

// pusherState serves handler on HTTP/2 over TLS and reports whether
// c.Writer.Pusher returned one.
func pusherState(t *testing.T, h func(found *bool) http.Handler) bool {
	t.Helper()
	var found bool
	srv := httptest.NewUnstartedServer(h(&found))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Fatalf("served %s, want HTTP/2", res.Proto)
	}
	return found
}

func TestPusher(t *testing.T) {
	m := newManager(t)
	pusher := func(found *bool) gin.HandlerFunc {
		return func(c *gin.Context) { *found = c.Writer.Pusher() != nil }
	}
	adapter := pusherState(t, func(found *bool) http.Handler { return newEngine(m, pusher(found)) })
	check(t, "Pusher found under Middleware on HTTP/2", adapter, true)

	wrapped := pusherState(t, func(found *bool) http.Handler {
		e := gin.New()
		e.GET("/", pusher(found))
		return m.Handler(e)
	})
	check(t, "Pusher found in a wrapped engine on HTTP/2", wrapped, false)

	b := serve(t, m, newEngine(m, func(c *gin.Context) {
		c.String(http.StatusOK, strconv.FormatBool(c.Writer.Pusher() != nil))
	}))
	b.Do("GET", "/", nil).Want(t, http.StatusOK, "false")
}

// A handler that panics commits nothing when gin.Recovery is outside
// Middleware: the 500 carries no cookie. A Recovery inside the session's
// reach writes its 500 through the session's writer, and that commits the
// panicking request's changes: after Middleware, or in a wrapped engine.
func TestPanic(t *testing.T) {
	m := newManager(t)
	for _, tc := range []struct {
		name    string
		chain   []gin.HandlerFunc
		wrap    bool
		cookies int
	}{
		{"RecoveryOutsideMiddleware", []gin.HandlerFunc{gin.RecoveryWithWriter(io.Discard), ginsessions.Middleware(m)}, false, 0},
		{"RecoveryInsideMiddleware", []gin.HandlerFunc{ginsessions.Middleware(m), gin.RecoveryWithWriter(io.Discard)}, false, 1},
		{"RecoveryInWrappedEngine", []gin.HandlerFunc{gin.RecoveryWithWriter(io.Discard)}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := gin.New()
			e.Use(tc.chain...)
			e.GET("/", func(c *gin.Context) {
				sessions.Get(c.Request).Set("k", 1)
				panic("boom")
			})
			var h http.Handler = e
			if tc.wrap {
				h = m.Handler(e)
			}
			r := serve(t, m, h).Do("GET", "/", nil).Want(t, http.StatusInternalServerError, "")
			if len(r.Cookies) != tc.cookies {
				t.Fatalf("the 500 set %d session cookies, want %d", len(r.Cookies), tc.cookies)
			}
		})
	}
}

// A wrapped engine's c.Writer.CloseNotify panics, and with it c.Stream: the
// session's writer, under gin's, is not an http.CloseNotifier.
func TestWrappedEngineCloseNotifyPanics(t *testing.T) {
	m := newManager(t)
	e := gin.New()
	e.GET("/", func(c *gin.Context) {
		defer func() {
			c.String(http.StatusOK, "panicked: %v", recover() != nil)
		}()
		c.Writer.CloseNotify()
	})
	b := serve(t, m, m.Handler(e))
	b.Do("GET", "/", nil).Want(t, http.StatusOK, "panicked: true")
}

// With the natural adapter, a log in whose handler writes a body answers
// 200 and logs the user out: Login removes the old ID and stores the new
// one, whose cookie never leaves, and the error handler hears nothing. A
// log out that writes a body cannot delete the cookie.
func TestNaturalAdapterLogInAndLogOut(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	m := newManager(t, sessions.WithErrorHandler(func(_ http.ResponseWriter, _ *http.Request, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	e := gin.New()
	e.Use(natural(m))
	e.GET("/", func(c *gin.Context) {
		c.String(http.StatusOK, "user %q", sessions.Get(c.Request).UserID())
	})
	e.POST("/login", func(c *gin.Context) {
		sessions.Get(c.Request).Login("alice")
		c.String(http.StatusOK, "welcome")
	})
	e.POST("/visit", func(c *gin.Context) {
		sessions.Get(c.Request).Set("visited", true)
		c.Status(http.StatusNoContent) // no body: gin sends the headers after the commit
	})
	e.POST("/logout", func(c *gin.Context) {
		sessions.Get(c.Request).Destroy()
		c.String(http.StatusOK, "bye")
	})
	b := serve(t, m, e)
	b.Do("POST", "/login", nil).Want(t, http.StatusOK, "welcome").NoCookie(t)
	b.Do("GET", "/", nil).Want(t, http.StatusOK, `user ""`)
	b.Do("POST", "/visit", nil).Want(t, http.StatusNoContent, "").NewCookie(t)
	b.Do("POST", "/login", nil).Want(t, http.StatusOK, "welcome").NoCookie(t)
	b.Do("GET", "/", nil).Want(t, http.StatusOK, `user ""`)

	// A log out that writes a page: the session ends, but the deletion of
	// its cookie never leaves.
	b = serve(t, m, e) // a fresh browser: the old one holds a dead ID
	b.Do("POST", "/visit", nil).Want(t, http.StatusNoContent, "").NewCookie(t)
	b.Do("POST", "/logout", nil).Want(t, http.StatusOK, "bye").NoCookie(t)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 0 {
		t.Errorf("error handler got %v, want nothing: the loss goes unnoticed", errs)
	}
}

// What sessions.FromContext finds, given the *gin.Context itself: the
// session only with the engine's ContextWithFallback on. sessions.Get on
// c.Request, and FromContext on c.Request.Context(), find it always.
func TestFromContext(t *testing.T) {
	m := newManager(t)
	for _, tc := range []struct {
		name     string
		wrap     bool
		fallback bool
		want     string
	}{
		{"Middleware", false, false, "gin.Context false, request true"},
		{"MiddlewareWithFallback", false, true, "gin.Context true, request true"},
		{"WrappedEngine", true, false, "gin.Context false, request true"},
		{"WrappedEngineWithFallback", true, true, "gin.Context true, request true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := gin.New()
			e.ContextWithFallback = tc.fallback
			if !tc.wrap {
				e.Use(ginsessions.Middleware(m))
			}
			e.GET("/", func(c *gin.Context) {
				want := sessions.Get(c.Request)
				fromGin, okGin := sessions.FromContext(c)
				fromReq, okReq := sessions.FromContext(c.Request.Context())
				c.String(http.StatusOK, "gin.Context %v, request %v", okGin && fromGin == want, okReq && fromReq == want)
			})
			var h http.Handler = e
			if tc.wrap {
				h = m.Handler(e)
			}
			serve(t, m, h).Do("GET", "/", nil).Want(t, http.StatusOK, tc.want)
		})
	}
}
