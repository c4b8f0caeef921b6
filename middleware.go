package sessions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ErrHeadersWritten is wrapped by the error given to the error handler when a
// commit failed after the response headers were sent: a store failure then, or
// a change that needed a cookie (a new session, a renewed ID), which cannot
// reach the browser any more and so was not stored.
var ErrHeadersWritten = errors.New("sessions: response headers already written")

// errCommitFailed is returned by writes to a response that the error handler
// took over after a failed commit.
var errCommitFailed = errors.New("sessions: the session could not be committed; the error handler wrote the response")

// Manager is the session middleware: it loads each request's session on
// first use and commits its changes before the response headers go out.
// Create one with New; it is safe for concurrent use.
type Manager struct {
	store Store
	cfg   config
	name  string // the cookie's name, with its prefix
}

// New returns a Manager that keeps sessions in store.
//
// New panics if store is nil or an option is invalid: a lifetime shorter
// than the idle timeout, a touch interval not shorter than the idle timeout,
// a negative duration, a non-positive lifetime or commit timeout, a cookie
// name that is not a token, a path that does not start with "/", a
// "__Host-" name with a Domain, a Path other than "/" or without Secure, a
// "__Secure-" name without Secure, SameSite=None or Partitioned without
// Secure, a nil codec, error handler or clock. These are programming errors,
// found when the program starts.
func New(store Store, opts ...Option) *Manager {
	if store == nil {
		panic("sessions.New: store is nil")
	}
	cfg := newConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.touchSet {
		cfg.touchInterval = defaultTouchInterval(cfg.idleTimeout)
	}
	if err := cfg.validate(); err != nil {
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
// allocation.
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
// when it returns. If the commit fails, the error handler responds instead
// of next. A handler that panics commits nothing.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{}
		s := &st.session
		s.m, s.ctx = m, r.Context()
		id, res := readCookie(r.Header, m.name)
		if res == cookieMalformed {
			m.logger().LogAttrs(r.Context(), slog.LevelInfo, "session cookie is malformed: ignored")
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

func (m *Manager) logger() *slog.Logger {
	if m.cfg.logger != nil {
		return m.cfg.logger
	}
	return slog.Default()
}

func (m *Manager) log(ctx context.Context, level slog.Level, msg, id string) {
	m.logger().LogAttrs(ctx, level, msg, slog.String("session", idHash(id)))
}

// storeContext returns the context for a store call: not cancelled when the
// client hangs up, so that a handler that goes on after it still reads and
// commits its session, and bounded by the commit timeout.
func (m *Manager) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), m.cfg.commitTimeout)
}

// fail logs err and hands it to the error handler.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	m.logger().LogAttrs(r.Context(), slog.LevelError, "session commit failed",
		slog.String("session", idHash(s.cookieID)), slog.Any("error", err))
	m.cfg.errorHandler(w, r, err)
}

// ttl returns how long a record created at created may live from now: the
// idle timeout, cut short by what is left of the absolute lifetime.
func (m *Manager) ttl(created, now time.Time) time.Duration {
	left := created.Add(m.cfg.lifetime).Sub(now)
	if idle := m.cfg.idleTimeout; idle > 0 && idle < left {
		return idle
	}
	return left
}

// commit writes the session's changes to the store. It returns the
// Set-Cookie value for the response, or "" for none. late reports that the
// response headers are already out, so no cookie can be set.
func (s *Session) commit(late bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	if err := s.encodeErr; err != nil {
		s.encodeErr = nil
		s.pending = nil
		return "", err
	}
	if err := s.loadErr; err != nil {
		s.loadErr = nil
		return "", err
	}
	cookie := ""
	if id := s.destroyID; id != "" {
		s.destroyID = ""
		if _, err := m.remove(s.ctx, id); err != nil {
			return "", err
		}
		cookie = m.cfg.cookie.header(m.name, "", -1, m.cfg.now())
	}
	if !s.loaded {
		if len(s.pending) == 0 {
			return cookie, nil
		}
		return s.commitBlind(late)
	}
	switch {
	case s.renew && s.id != "":
		if late {
			s.renew = false
			return cookie, fmt.Errorf("sessions: renew: %w", ErrHeadersWritten)
		}
		return s.commitRenew()
	case s.id == "" && s.hasPendingValues():
		if late {
			s.pending = nil
			return cookie, fmt.Errorf("sessions: new session: %w", ErrHeadersWritten)
		}
		return s.commitNew(s.values())
	case s.id != "":
		return cookie, s.commitExisting(late, &cookie)
	}
	s.renew = false
	return cookie, nil
}

// hasPendingValues reports whether the request set any value.
func (s *Session) hasPendingValues() bool {
	for _, v := range s.pending {
		if v != nil {
			return true
		}
	}
	return false
}

// values returns the session's values with the request's changes applied,
// without metadata.
func (s *Session) values() map[string][]byte {
	out := make(map[string][]byte, len(s.rec)+len(s.pending)+3)
	if !s.cleared {
		for k, v := range s.rec {
			if len(k) < len(reservedPrefix) || k[:len(reservedPrefix)] != reservedPrefix {
				out[k] = v
			}
		}
	}
	for k, v := range s.pending {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// commitNew stores set, the values of a session without an ID, under a fresh
// ID with fresh metadata.
func (s *Session) commitNew(set map[string][]byte) (string, error) {
	m := s.m
	id, err := newID()
	if err != nil {
		return "", fmt.Errorf("sessions: new ID: %w", err)
	}
	now := m.cfg.now()
	set[keyCreated] = formatMillis(now)
	set[keyTouched] = set[keyCreated]
	set[keyDeadline] = formatMillis(now.Add(m.cfg.lifetime))
	if s.persist != m.cfg.cookie.persist || s.persistChanged {
		set[keyPersist] = persistValue(s.persist)
	}
	ctx, cancel := m.storeContext(s.ctx)
	defer cancel()
	if err := m.store.Write(ctx, handle(id), Change{Replace: true, Set: set}, m.ttl(now, now)); err != nil {
		return "", fmt.Errorf("sessions: write new session: %w", err)
	}
	s.id, s.rec, s.created, s.touched = id, set, now, now
	s.pending, s.cleared, s.renew, s.persistChanged = nil, false, false, false
	return s.cookieHeader(now), nil
}

// commitBlind writes the changes of a request that never read its session
// under the cookie's ID, in one store call. The store refuses it if the
// session is gone; then the values start a new session, if the cookie can
// still be set. The ttl is the idle timeout (or the lifetime): the record's
// deadline metadata, written when the session was created, keeps the built-in
// stores from extending it past the absolute lifetime, and every read checks
// that lifetime again.
func (s *Session) commitBlind(late bool) (string, error) {
	m := s.m
	now := m.cfg.now()
	ch := Change{Set: make(map[string][]byte, len(s.pending)+1)}
	for k, v := range s.pending {
		if v == nil {
			ch.Delete = append(ch.Delete, k)
		} else {
			ch.Set[k] = v
		}
	}
	ch.Set[keyTouched] = formatMillis(now)
	ttl := m.cfg.lifetime
	if m.cfg.idleTimeout > 0 {
		ttl = m.cfg.idleTimeout
	}
	ctx, cancel := m.storeContext(s.ctx)
	err := m.store.Write(ctx, handle(s.cookieID), ch, ttl)
	cancel()
	switch {
	case err == nil:
		s.pending = nil
		return "", nil
	case errors.Is(err, ErrInvalidated):
		m.refused(s.ctx, s.cookieID, err)
		s.loaded = true
		s.startNew()
		s.pending = nil
		return "", nil
	case errors.Is(err, ErrNotFound):
		m.log(s.ctx, slog.LevelDebug, "session not found: a new session starts", s.cookieID)
		s.loaded = true
		s.startNew()
		if late {
			s.pending = nil
			return "", fmt.Errorf("sessions: new session: %w", ErrHeadersWritten)
		}
		if !s.hasPendingValues() {
			s.pending = nil
			return "", nil
		}
		return s.commitNew(s.values())
	}
	return "", fmt.Errorf("sessions: write: %w", err)
}

// commitRenew moves the session to a fresh ID. The old ID is removed first:
// if it was no longer live, a concurrent request destroyed or renewed it,
// and nothing is carried over.
func (s *Session) commitRenew() (string, error) {
	m := s.m
	old := s.id
	set := s.values()
	live, err := m.remove(s.ctx, old)
	if err != nil {
		return "", err
	}
	if !live {
		m.refused(s.ctx, old, ErrInvalidated)
		s.startNew()
		s.pending, s.cleared, s.renew, s.persistChanged = nil, false, false, false
		return "", nil
	}
	return s.commitNew(set)
}

// commitExisting writes the request's changes to a live session, or touches
// it when the touch interval has passed. cookie is set when the cookie must
// be sent again.
func (s *Session) commitExisting(late bool, cookie *string) error {
	m := s.m
	now := m.cfg.now()
	changed := len(s.pending) > 0 || s.cleared || s.persistChanged
	if !changed && (m.cfg.idleTimeout == 0 || now.Sub(s.touched) < m.cfg.touchInterval) {
		return nil
	}
	ttl := m.ttl(s.created, now)
	if ttl <= 0 {
		m.refused(s.ctx, s.id, ErrNotFound)
		s.pending, s.cleared, s.persistChanged = nil, false, false
		return nil
	}
	var ch Change
	if s.cleared {
		ch = Change{Replace: true, Set: s.values()}
		ch.Set[keyCreated] = formatMillis(s.created)
		ch.Set[keyDeadline] = formatMillis(s.created.Add(m.cfg.lifetime))
		if s.persist != m.cfg.cookie.persist {
			ch.Set[keyPersist] = persistValue(s.persist)
		}
	} else {
		ch.Set = make(map[string][]byte, len(s.pending)+2)
		for k, v := range s.pending {
			if v == nil {
				ch.Delete = append(ch.Delete, k)
			} else {
				ch.Set[k] = v
			}
		}
		if s.persistChanged {
			ch.Set[keyPersist] = persistValue(s.persist)
		}
	}
	ch.Set[keyTouched] = formatMillis(now)
	ctx, cancel := m.storeContext(s.ctx)
	defer cancel()
	err := m.store.Write(ctx, handle(s.id), ch, ttl)
	persistChanged := s.persistChanged
	s.pending, s.cleared, s.persistChanged = nil, false, false
	switch {
	case errors.Is(err, ErrInvalidated), errors.Is(err, ErrNotFound):
		m.refused(s.ctx, s.id, err)
		s.startNew()
		*cookie = ""
		return nil
	case err != nil:
		return fmt.Errorf("sessions: write: %w", err)
	}
	s.rec, s.touched = ch.Apply(s.rec), now
	if persistChanged && !late {
		*cookie = s.cookieHeader(now)
	}
	return nil
}

// cookieHeader returns the Set-Cookie value that carries the session's ID.
func (s *Session) cookieHeader(now time.Time) string {
	m := s.m
	var maxAge time.Duration
	if s.persist {
		maxAge = s.created.Add(m.cfg.lifetime).Sub(now)
	}
	return m.cfg.cookie.header(m.name, s.id, maxAge, now)
}

func persistValue(on bool) []byte {
	if on {
		return []byte("1")
	}
	return []byte("0")
}

// responseWriter commits the session before the response headers go out. It
// passes everything else through: the body is never buffered.
type responseWriter struct {
	rw          http.ResponseWriter
	r           *http.Request
	s           *Session
	wroteHeader bool // the headers are out (or the connection was hijacked)
	failed      bool // the error handler wrote the response
}

// Header returns the response's header map.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader commits the session, then sends the headers.
func (w *responseWriter) WriteHeader(code int) {
	if w.failed {
		return
	}
	if !w.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		if !w.commitHeaders() {
			return
		}
	}
	w.rw.WriteHeader(code)
}

// commitHeaders commits before the headers go out and adds the cookie
// headers. It reports false when the commit failed and the error handler
// wrote the response.
func (w *responseWriter) commitHeaders() bool {
	w.wroteHeader = true
	cookie, err := w.s.commit(false)
	if err != nil {
		w.failed = true
		h := w.rw.Header()
		for k := range h {
			delete(h, k)
		}
		w.s.m.fail(w.rw, w.r, w.s, err)
		return false
	}
	if cookie != "" {
		h := w.rw.Header()
		h.Add("Set-Cookie", cookie)
		h.Set("Cache-Control", "no-store")
		h.Add("Vary", "Cookie")
	}
	return true
}

// Write commits the session before the first byte, then writes b.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, errCommitFailed
	}
	return w.rw.Write(b)
}

// ReadFrom commits the session, then copies src to the response, using the
// wrapped writer's ReadFrom (sendfile) when it has one.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, errCommitFailed
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
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return errCommitFailed
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack commits the session and hands over the connection. A cookie that
// the commit had to set cannot be sent on a hijacked connection: set
// session values before the upgrade only on a session that already has its
// cookie.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.failed {
		return nil, nil, errCommitFailed
	}
	if !w.wroteHeader && !w.commitHeaders() {
		return nil, nil, errCommitFailed
	}
	return http.NewResponseController(w.rw).Hijack()
}

// finish commits what the handler left when it returned.
func (w *responseWriter) finish() {
	if w.failed {
		return
	}
	if !w.wroteHeader {
		w.commitHeaders()
		return
	}
	if _, err := w.s.commit(true); err != nil {
		if !errors.Is(err, ErrHeadersWritten) {
			err = fmt.Errorf("%w: %w", ErrHeadersWritten, err)
		}
		w.s.m.fail(w.rw, w.r, w.s, err)
	}
}
