// Package ginsessions puts a [sessions.Manager] into a gin engine's
// middleware chain:
//
//	r := gin.New()
//	r.Use(gin.Recovery(), ginsessions.Middleware(m))
//	r.POST("/login", func(c *gin.Context) {
//		sessions.Get(c.Request).Login(user) // after checking the password
//		c.String(http.StatusOK, "welcome\n")
//	})
//
// Handlers find the session with sessions.Get(c.Request).
//
// # Why an adapter
//
// chi, echo and plain net/http take m.Handler, a func(http.Handler)
// http.Handler, as it is. gin does not, and the adapter that comes to mind
// first is wrong:
//
//	r.Use(func(c *gin.Context) { // wrong: loses cookies, says nothing
//		m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
//			c.Request = req
//			c.Next()
//		})).ServeHTTP(c.Writer, c.Request)
//	})
//
// gin handlers write through c.Writer, gin's own ResponseWriter around the
// connection, and this adapter leaves c.Writer alone, so every byte the
// handlers write bypasses the writer that commits the session before the
// headers go out. That writer sees no write at all, so when the handlers
// return it commits as if the headers were still to come: it stores the
// changes and adds its Set-Cookie to headers that gin has already sent.
// Nothing reports the loss: no error, no log record. On any handler that
// writes a body, a new session is stored but its cookie never arrives (a
// counter answers 1 forever), a log in answers 200 and sends no cookie for
// its fresh ID (the user is logged out), and a log out leaves the dead
// cookie in the browser. Handlers that only set a status, and gin's
// redirect after a POST, happen to work, because gin sends their headers
// after the middleware returns. [Middleware] swaps c.Writer for one that
// writes through the session's writer, so the commit comes before the first
// byte, as it does in plain net/http.
//
// The other way is to wrap the whole engine, which needs no adapter:
//
//	http.ListenAndServe(addr, m.Handler(engine))
//
// Then gin's own writer wraps the session's writer, and every handler sees
// the session. Two things differ: c.Writer.CloseNotify, and so c.Stream,
// panics, because the session's writer is not an http.CloseNotifier; and
// c.Writer.Pusher returns nil. Middleware has neither limit.
//
// # Panics
//
// A handler that panics commits nothing when gin.Recovery comes before
// Middleware in the chain: Middleware hands gin's own writer back before the
// panic reaches Recovery, whose 500 then bypasses the session. A Recovery
// after Middleware, or inside a wrapped engine, writes its 500 through the
// session's writer, and that commits the panicking request's changes.
//
// # Finding the session in a handler
//
// sessions.Get(c.Request) works under Middleware and under the wrapped
// engine alike, as does sessions.FromContext(c.Request.Context()).
//
// sessions.FromContext(c), with the *gin.Context itself as the context,
// finds the session only when the engine's ContextWithFallback is true: gin's
// Context.Value answers its own keys and string keys from c.Keys, and hands
// any other key to c.Request.Context() only under that flag. With the flag
// off (gin's default) it returns false, even though the session is there.
//
// The module needs Go 1.25, as gin v1.12 does.
package ginsessions

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
)

// Middleware returns gin middleware that gives each request a session from
// m. Handlers after it find the session with sessions.Get(c.Request). The
// session is committed when the response headers go out: at the first byte
// of the body, at WriteHeaderNow, Flush or Hijack, or when the handlers
// return. A handler that panics commits nothing when gin.Recovery is
// registered before Middleware.
func Middleware(m *sessions.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		outer := c.Writer
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Request = r
			rw := &responseWriter{outer: outer, session: w, status: outer.Status()}
			c.Writer = rw
			// Restored by defer: a Recovery further out must write its 500
			// past the session's writer, or it would commit a panicking
			// request's changes.
			defer func() { c.Writer = outer }()
			c.Next()
			if !outer.Written() && rw.status != outer.Status() {
				// A status set without a body: hand it on unwritten, as gin
				// does, so that the session's commit still adds its headers.
				outer.WriteHeader(rw.status)
			}
		})).ServeHTTP(outer, c.Request)
	}
}

// responseWriter is a gin.ResponseWriter that writes through the session's
// writer. Like gin's own, it holds the status until the first write, so a
// handler may set a status, then change its session, then write. Sizes and
// the written state come from gin's writer underneath, which every byte
// passes through.
type responseWriter struct {
	outer   gin.ResponseWriter  // gin's writer for the connection
	session http.ResponseWriter // the session's writer, around outer
	status  int                 // the status to send, until it is sent
}

var _ gin.ResponseWriter = (*responseWriter)(nil)

// Header returns the response's header map.
func (w *responseWriter) Header() http.Header { return w.session.Header() }

// Unwrap returns the session's writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.session }

// WriteHeader sets the status that the first write sends; once the headers
// are out it changes nothing, as in gin.
func (w *responseWriter) WriteHeader(code int) {
	if code > 0 && !w.outer.Written() {
		w.status = code
	}
}

// WriteHeaderNow commits the session and sends the headers.
func (w *responseWriter) WriteHeaderNow() {
	if !w.outer.Written() {
		w.session.WriteHeader(w.status)
		w.outer.WriteHeaderNow()
	}
}

// Write sends the headers if they are not out yet, then writes b.
func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeaderNow()
	return w.session.Write(b)
}

// WriteString is Write for a string.
func (w *responseWriter) WriteString(s string) (int, error) {
	w.WriteHeaderNow()
	return io.WriteString(w.session, s)
}

// Status returns the status sent, or the one that will be.
func (w *responseWriter) Status() int {
	if w.outer.Written() {
		return w.outer.Status()
	}
	return w.status
}

// Size returns the number of body bytes written, or -1 before the headers.
func (w *responseWriter) Size() int { return w.outer.Size() }

// Written reports whether the headers are out.
func (w *responseWriter) Written() bool { return w.outer.Written() }

// Flush commits the session, sends the headers and what was written so far.
func (w *responseWriter) Flush() {
	w.WriteHeaderNow()
	_ = http.NewResponseController(w.session).Flush()
}

// Hijack commits the session and hands over the connection. As with any
// hijack, a cookie that the commit had to set cannot be sent, so change the
// session before an upgrade only when it already has its cookie.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.session).Hijack()
}

// CloseNotify returns gin's channel for the client going away; it does not
// touch the response, so it needs no commit.
func (w *responseWriter) CloseNotify() <-chan bool {
	return w.outer.CloseNotify()
}

// Pusher returns the connection's http.Pusher (HTTP/2 only), or nil. A push
// promise is not the response's headers and needs no commit.
func (w *responseWriter) Pusher() http.Pusher { return w.outer.Pusher() }
