package sessions

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrHeadersWritten is wrapped by the error given to the error handler when a
// commit failed after the response headers were sent: a store failure then, or
// a change that needed a cookie (a new session, a renewed ID, RememberMe),
// which cannot reach the browser any more and so was not stored.
var ErrHeadersWritten = errors.New("sessions: response headers already written")

// errCommitFailed is returned by writes to a response that the error handler
// took over after a failed commit.
var errCommitFailed = errors.New("sessions: the session could not be committed; the error handler wrote the response")

// lateError is the error of a change that needs a cookie, made after the
// response headers were sent.
func lateError(what string) error {
	return &afterHeadersError{what: what}
}

// afterHeadersError is a commit that failed after the headers were sent:
// either a change that needed a cookie (what), or a store failure (err).
type afterHeadersError struct {
	what string
	err  error
}

func (e *afterHeadersError) Error() string {
	if e.err == nil {
		return ErrHeadersWritten.Error() + ": " + e.what + " cannot reach the client, and was not stored"
	}
	return ErrHeadersWritten.Error() + ": " + strings.TrimPrefix(e.err.Error(), "sessions: ")
}

func (e *afterHeadersError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrHeadersWritten}
	}
	return []error{ErrHeadersWritten, e.err}
}

// Manager is the session middleware: it loads each request's session on
// first use and commits its changes before the response headers go out.
// Create one with New; it is safe for concurrent use.
type Manager struct {
	store Store
	cfg   config
	name  string // the cookie's name, with its prefix

	insecureOnce sync.Once // the warning about a Secure cookie over plain HTTP
	bypassOnce   sync.Once // the warning about a response written past the middleware
}

// New returns a Manager that keeps sessions in store.
//
// New panics if store is nil or an option is invalid (see each option for
// what it accepts): invalid options are programming errors, found when the
// program starts. Every constructor of the package follows that rule.
func New(store Store, opts ...Option) *Manager {
	if store == nil {
		panic("sessions.New: store is nil")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		panic("sessions.New: " + err.Error())
	}
	return &Manager{store: store, cfg: cfg, name: cfg.cookie.effectiveName()}
}

// CookieName returns the name of the session cookie, with the "__Host-"
// prefix when it applies.
func (m *Manager) CookieName() string { return m.name }

type contextKey struct{}

// sessionContext carries the request's Session in its context without a
// separate allocation.
type sessionContext struct {
	context.Context
	s *Session
}

func (c *sessionContext) Value(key any) any {
	if key == (contextKey{}) {
		return c.s
	}
	return c.Context.Value(key)
}

// requestState is everything the middleware needs for one request, in one
// allocation (BenchmarkMiddleware/untouched counts it).
type requestState struct {
	session Session
	ctx     sessionContext
	w       responseWriter
}

// Handler wraps next so that its requests carry a Session. It has the
// signature of chi's and alice's middleware.
//
// The response is streamed, never buffered: the session is committed when
// the handler first calls WriteHeader, Write, ReadFrom, Flush or Hijack, or
// when it returns, or when it calls Session.Commit. If the commit fails,
// the error handler responds instead of next. A handler that panics commits
// nothing.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{}
		s := &st.session
		s.m, s.ctx, s.w = m, r.Context(), &st.w
		id, res := m.readID(r)
		if res == cookieMalformed {
			m.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "session ID in the request is malformed: ignored")
		}
		s.cookieID = id
		st.ctx = sessionContext{Context: r.Context(), s: s}
		r = r.WithContext(&st.ctx)
		st.w = responseWriter{rw: w, r: r, s: s}
		next.ServeHTTP(&st.w, r)
		st.w.finish()
	})
}

// Get returns the request's Session. It panics if the request did not pass
// through a Manager's Handler; FromContext does not.
func Get(r *http.Request) *Session {
	s, ok := FromContext(r.Context())
	if !ok {
		panic("sessions.Get: no session in the request: wrap the handler with (*sessions.Manager).Handler")
	}
	return s
}

// FromContext returns the Session carried by ctx, a request's context under
// a Manager's Handler, and whether there is one.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(contextKey{}).(*Session)
	return s, ok && s != nil
}

// log writes a record that names the session with ID id by a prefix of its
// handle.
func (m *Manager) log(ctx context.Context, level slog.Level, msg, id string) {
	m.cfg.logger.LogAttrs(ctx, level, msg, slog.String("session", idHash(id)))
}

// logError writes an error record; a nil err writes none.
func (m *Manager) logError(ctx context.Context, msg, id string, err error) {
	if err == nil {
		return
	}
	m.cfg.logger.LogAttrs(ctx, slog.LevelError, msg, slog.String("session", idHash(id)), slog.Any("error", err))
}

// storeContext returns the context for a store call: not cancelled when the
// client hangs up, so that a handler that goes on after it still reads and
// commits its session, and bounded by the commit timeout.
func (m *Manager) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), m.cfg.commitTimeout)
}

// read reads the session with ID id from the store.
func (m *Manager) read(ctx context.Context, id string) (Record, error) {
	return m.readKey(ctx, handle(id))
}

// readKey reads the record under a store key.
func (m *Manager) readKey(ctx context.Context, key string) (Record, error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	start := m.startCall()
	rec, err := m.store.Read(sctx, key)
	m.endCall(ctx, "read", key, start, err)
	return rec, err
}

// write applies ch to the record under a store key.
func (m *Manager) write(ctx context.Context, key string, ch Change, ttl time.Duration) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	start := m.startCall()
	err := m.store.Write(sctx, key, ch, ttl)
	m.endCall(ctx, "write", key, start, err)
	return err
}

// fail logs err and hands it to the error handler.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	msg := "session commit failed"
	if s.state == loadReported {
		msg = "session read failed"
	}
	m.logError(r.Context(), msg, s.cookieID, err)
	m.cfg.errorHandler(w, r, err)
}

// writerState tells how far the response has got.
type writerState uint8

const (
	headersPending writerState = iota // nothing sent yet: the commit may still set a cookie
	headersSent                       // the headers are out
	hijacked                          // the handler took over the connection
	failed                            // a commit failed and the error handler wrote the response
)

// responseWriter commits the session before the response headers go out. It
// passes everything else through: the body is never buffered.
type responseWriter struct {
	rw     http.ResponseWriter
	r      *http.Request
	s      *Session
	state  writerState
	issued issue // the last ID (or end) the response tells the client
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
)

// Header returns the response's header map.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }

// begin commits the session if the headers are still to be sent, and
// reports whether the handler's response may go on.
func (w *responseWriter) begin() error {
	if w.state == headersPending {
		w.state = headersSent
		if !w.commitHeaders() {
			w.state = failed
		}
	}
	if w.state == failed {
		return errCommitFailed
	}
	return nil
}

// WriteHeader commits the session, then sends the headers. Informational
// (1xx) headers other than 101 leave the commit for the final ones.
func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if w.state == headersPending || w.state == headersSent {
			w.rw.WriteHeader(code)
		}
		return
	}
	if w.state == headersPending && w.begin() != nil {
		return
	}
	if w.state == headersSent {
		w.rw.WriteHeader(code)
	}
}

// Write commits the session before the first byte, then writes b.
func (w *responseWriter) Write(b []byte) (int, error) {
	if w.state == headersPending {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.begin(); err != nil {
		return 0, err
	}
	return w.rw.Write(b)
}

// ReadFrom commits the session, then copies src to the response, using the
// wrapped writer's ReadFrom (sendfile) when it has one.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.state == headersPending {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.begin(); err != nil {
		return 0, err
	}
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.rw}, src)
}

// writerOnly hides every method but Write, so that io.Copy does not loop
// back into ReadFrom.
type writerOnly struct{ io.Writer }

// Flush commits the session and sends what was written so far.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController: it returns the error.
func (w *responseWriter) FlushError() error {
	if w.state == headersPending {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.begin(); err != nil {
		return err
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack commits the session and hands over the connection. A cookie that
// the commit had to set cannot be sent on a hijacked connection: set
// session values before the upgrade only on a session that already has its
// cookie.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if err := w.begin(); err != nil {
		return nil, nil, err
	}
	conn, rw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.state = hijacked
	}
	return conn, rw, err
}

// commitHeaders commits before the headers go out and adds the cookie
// headers. It reports false when the commit failed and the error handler
// wrote the response. What was committed stays committed: the error
// response drops the handler's headers but still carries the session's new
// ID (or its end), set by this commit or an earlier Session.Commit, so that
// a failure after a Login never leaves a live session no one holds.
func (w *responseWriter) commitHeaders() bool {
	cookie, err := w.s.commit(beforeHeaders)
	if err != nil && !errors.Is(err, ErrInvalidated) {
		h := w.rw.Header()
		for k := range h {
			delete(h, k)
		}
		if cookie.set {
			w.issued = cookie
		}
		w.setCookie(w.issued)
		w.s.m.fail(w.rw, w.r, w.s, err)
		return false
	}
	w.setCookie(cookie)
	return true
}

// setCookie adds the Set-Cookie header (or the session header), and the
// headers that keep caches from storing it.
func (w *responseWriter) setCookie(iss issue) {
	if !iss.set {
		return
	}
	w.issued = iss
	h, cfg := w.rw.Header(), &w.s.m.cfg
	h.Set("Cache-Control", "no-store")
	if cfg.header != "" {
		h.Set(cfg.header, iss.value)
		h.Add("Vary", cfg.header)
		return
	}
	h.Add("Set-Cookie", iss.value)
	h.Add("Vary", "Cookie")
	if cfg.cookie.secure && plainHTTP(w.r) {
		w.s.m.insecureOnce.Do(func() {
			cfg.logger.LogAttrs(w.r.Context(), slog.LevelWarn,
				"a Secure session cookie was sent over plain HTTP to a host that is not localhost: browsers drop it, so sessions will not stick; serve HTTPS (or mark it with X-Forwarded-Proto behind a proxy), or use WithCookieSecure(false) for local development",
				slog.String("host", w.r.Host))
		})
	}
}

// plainHTTP reports whether r came over plain HTTP to a host other than
// localhost, where browsers drop a Secure cookie. A request a proxy marks
// as HTTPS (X-Forwarded-Proto or Forwarded) counts as HTTPS.
func plainHTTP(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") ||
		strings.Contains(strings.ToLower(r.Header.Get("Forwarded")), "proto=https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// commitNow is Session.Commit: it commits what the request changed so far.
func (w *responseWriter) commitNow() error {
	if w.state != headersPending {
		_, err := w.s.commit(afterHeaders)
		return lateFailure(err)
	}
	cookie, err := w.s.commit(beforeHeaders)
	w.setCookie(cookie)
	return err
}

// finish commits what the handler left when it returned.
func (w *responseWriter) finish() {
	switch w.state {
	case headersPending:
		w.begin()
		w.warnIfLost()
	case headersSent, hijacked:
		_, err := w.s.commit(afterHeaders)
		if err = lateFailure(err); err != nil && !errors.Is(err, ErrInvalidated) {
			w.s.m.fail(w.rw, w.r, w.s, err)
		}
	}
}

// warnIfLost logs, once per Manager, a cookie that the commit set on a
// response that had already gone out through a writer other than the
// session's: a framework's writer (gin's, negroni's) that says it has
// written while the session's writer saw nothing. That is an adapter that
// hands the handlers the session's request but not its writer, and the
// browser never gets the cookie.
func (w *responseWriter) warnIfLost() {
	written, ok := w.rw.(interface{ Written() bool })
	if !w.issued.set || !ok || !written.Written() {
		return
	}
	w.s.m.bypassOnce.Do(func() {
		w.s.m.cfg.logger.LogAttrs(w.r.Context(), slog.LevelWarn,
			"a session cookie was lost: the response was written past the session middleware, before the commit; the handlers must write through the ResponseWriter that Handler passes them (for gin, use github.com/sessionkit/sessions/ginsessions)")
	})
}

// lateFailure marks err, from a commit after the headers were sent, with
// ErrHeadersWritten.
func lateFailure(err error) error {
	if err == nil || errors.Is(err, ErrHeadersWritten) || errors.Is(err, ErrInvalidated) {
		return err
	}
	return &afterHeadersError{err: err}
}
