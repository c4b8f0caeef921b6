// Package frameworks holds nothing but this overview: the session middleware
// in three routers, each a small app with a test over real HTTP that logs
// in, reads a protected page, writes a counter, logs out, and logs out from
// another tab while a slow request waits to write.
//
//   - chiapp: r.Use(m.Handler), nothing else.
//   - ginapp: ginsessions.Middleware(m) in the chain, from the module
//     github.com/sessionkit/sessions/ginsessions, or -wrap for
//     m.Handler(engine). The plain adapter that only sets c.Request loses
//     cookies; that module's documentation says why, and its tests show it.
//   - echoapp: e.Use(echo.WrapMiddleware(m.Handler)), or -wrap for
//     m.Handler(e).
//
// Finding the session in a handler:
//
//	chi, net/http  sessions.Get(r)
//	gin            sessions.Get(c.Request), or FromContext(c.Request.Context())
//	               sessions.FromContext(c) only with engine.ContextWithFallback = true
//	echo v4        sessions.Get(c.Request()), or FromContext(c.Request().Context());
//	               an echo.Context is not a context.Context
//
// Run the tests with: cd examples/frameworks && go test ./...
package frameworks
