package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/frameworks/internal/apptest"
)

// serve starts h on a real server and returns a browser tab for it.
func serve(t *testing.T, m *sessions.Manager, h http.Handler) *apptest.Browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return apptest.NewBrowser(t, srv.URL, m.CookieName())
}

func newManager(t *testing.T) *sessions.Manager {
	t.Helper()
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	return sessions.New(store)
}

// An echo.Context is not a context.Context, so it cannot go to FromContext;
// the request's context can, under e.Use and under the wrapped instance.
func TestFromContext(t *testing.T) {
	m := newManager(t)
	for _, wrap := range []bool{false, true} {
		e := echo.New()
		if !wrap {
			e.Use(echo.WrapMiddleware(m.Handler))
		}
		e.GET("/", func(c echo.Context) error {
			_, isContext := any(c).(context.Context)
			want := sessions.Get(c.Request())
			got, ok := sessions.FromContext(c.Request().Context())
			return c.String(http.StatusOK, fmt.Sprintf("context %v, found %v", isContext, ok && got == want))
		})
		var h http.Handler = e
		if wrap {
			h = m.Handler(e)
		}
		serve(t, m, h).Do("GET", "/", nil).Want(t, http.StatusOK, "context false, found true")
	}
}

// echo's Recover turns a panic into an error, and echo writes the error's
// 500 through the response that WrapMiddleware put in place, so the
// panicking request's changes are committed in every arrangement: Recover
// outside the session middleware, inside it, or in a wrapped instance. This
// test records that limit.
func TestRecoveredPanicIsCommitted(t *testing.T) {
	m := newManager(t)
	for _, order := range []string{"RecoverOutside", "RecoverInside", "Wrapped"} {
		t.Run(order, func(t *testing.T) {
			e := echo.New()
			switch order {
			case "RecoverOutside":
				e.Use(recoverQuietly(), echo.WrapMiddleware(m.Handler))
			case "RecoverInside":
				e.Use(echo.WrapMiddleware(m.Handler), recoverQuietly())
			case "Wrapped":
				e.Use(recoverQuietly())
			}
			e.GET("/", func(c echo.Context) error {
				sessions.Get(c.Request()).Set("k", 1)
				panic("boom")
			})
			var h http.Handler = e
			if order == "Wrapped" {
				h = m.Handler(e)
			}
			serve(t, m, h).Do("GET", "/", nil).Want(t, http.StatusInternalServerError, "").NewCookie(t)
		})
	}
}

// recoverQuietly is echo's Recover without the stack dump in the test log.
func recoverQuietly() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true})
}
