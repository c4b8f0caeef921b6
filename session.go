package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNoValue is returned by Session.Decode when the session holds no value
// under the key.
var ErrNoValue = errors.New("sessions: no value under key")

// Keys that start with reservedPrefix hold the Manager's metadata.
const (
	reservedPrefix = "__"
	keyCreated     = "__created"  // start of the absolute lifetime (creation or last Renew), Unix ms
	keyTouched     = "__touched"  // last write, Unix ms
	keyPersist     = "__persist"  // "1" persistent cookie, "0" browser-session cookie
	keyDeadline    = DeadlineKey  // end of the absolute lifetime, Unix ms
	keyUser        = "__user"     // the user the session is bound to
	keyLogin       = "__login"    // when the session was logged in, Unix ms
	keyLabel       = "__label"    // the application's name for the device
	keyLifetime    = "__lifetime" // the session's own absolute lifetime, ms, when shorter than the Manager's
	keyIdle        = "__idle"     // the session's own idle timeout, ms, when it differs from the Manager's
	keyFresh       = "__fresh"    // the handle a Renew moved the session from, until a request carrying its ID presents it
)

// Session is the session of one request. Get it with Get or FromContext.
//
// A Session is loaded lazily: the first call that needs a value reads the
// store, once; a request that never uses its session costs no store call,
// and one that only calls Set and Delete costs one write and no read.
// Changes are kept in the Session and written by the Manager in one store
// call when the response starts, before its headers go out, or when the
// handler returns (or earlier, with Commit). Only the keys the request
// changed are written, so concurrent requests that change different keys
// all persist.
//
// A Session is safe for use by several goroutines of one request, except
// Commit, which sets response headers and so, like the ResponseWriter, must
// not run concurrently with writes to the response.
type Session struct {
	mu  sync.Mutex
	m   *Manager
	ctx context.Context // the request's context, for the store calls
	w   *responseWriter // the response, for Commit

	cookieID string // a well-formed ID from the request, or ""
	state    loadState
	readErr  error // why the session could not be read (state == loadFailed)

	id   string // the ID of the live stored session, or "" for a new one
	rec  Record // the record as read or last written; never modified
	meta meta
	ch   changes
}

// loadState tells whether the session was read from the store.
type loadState uint8

const (
	loadPending  loadState = iota // not read yet
	loadDone                      // read, or known to be new
	loadFailed                    // the read failed: the session is empty and read-only
	loadReported                  // failed, and the failure went to the error handler
)

// meta is the Manager's metadata of a live session, parsed from its record.
type meta struct {
	created  time.Time // start of the absolute lifetime
	touched  time.Time
	login    time.Time
	persist  bool
	user     string
	lifetime time.Duration // the session's absolute lifetime
	idle     time.Duration // the session's idle timeout, 0 for none
}

// load reads the session from the store once. s.mu must be held.
func (s *Session) load() {
	if s.state != loadPending {
		return
	}
	s.state = loadDone
	if s.cookieID == "" {
		s.startNew()
		return
	}
	m := s.m
	rec, err := m.read(s.ctx, s.cookieID)
	switch {
	case errors.Is(err, ErrNotFound):
		m.log(s.ctx, slog.LevelDebug, "session not found: a new session starts", s.cookieID)
	case errors.Is(err, ErrCorrupt):
		m.log(s.ctx, slog.LevelWarn, "session record is corrupt: a new session starts", s.cookieID)
	case err != nil:
		s.state, s.readErr = loadFailed, fmt.Errorf("sessions: read: %w", err)
		s.ch = changes{end: s.ch.end}
	default:
		s.adopt(rec)
		return
	}
	s.startNew()
}

// adopt makes rec, read under the cookie's ID, the session, unless its
// metadata is unreadable or it has expired by the Manager's clock.
func (s *Session) adopt(rec Record) {
	m := s.m
	md, ok := parseMeta(rec, &m.cfg)
	if !ok {
		m.log(s.ctx, slog.LevelWarn, "session record is corrupt (metadata missing or unreadable): a new session starts", s.cookieID)
		s.startNew()
		return
	}
	if md.expired(rec, m.cfg.now()) {
		// The store still has it (its clock or its expiry differs from
		// ours): tombstone it, so that no write-only request, which does
		// not read, can write to it again.
		m.log(s.ctx, slog.LevelDebug, "session expired: a new session starts", s.cookieID)
		m.emit(s.ctx, Event{Kind: EventExpired, Handle: handle(s.cookieID), UserID: md.user})
		if _, err := m.remove(s.ctx, handle(s.cookieID)); err != nil {
			m.logError(s.ctx, "removing an expired session failed", s.cookieID, err)
		}
		s.startNew()
		return
	}
	s.id, s.rec, s.meta = s.cookieID, rec, md
}

// parseMeta reads the Manager's metadata from rec; what rec does not hold
// is cfg's.
func parseMeta(rec Record, cfg *config) (meta, bool) {
	created, ok1 := parseMillis(rec[keyCreated])
	touched, ok2 := parseMillis(rec[keyTouched])
	md := cfg.newMeta()
	md.created, md.touched, md.user = created, touched, string(rec[keyUser])
	md.login, _ = parseMillis(rec[keyLogin])
	if p, ok := rec[keyPersist]; ok {
		md.persist = string(p) == "1"
	}
	if d, ok := parseDuration(rec[keyLifetime], cfg.lifetime); ok {
		md.lifetime = d
	}
	maxIdle := md.lifetime
	if cfg.idleTimeout > 0 {
		maxIdle = min(maxIdle, cfg.idleTimeout)
	}
	if d, ok := parseDuration(rec[keyIdle], maxIdle); ok {
		md.idle = d
	}
	return md, ok1 && ok2
}

// startNew makes s an empty session with no ID yet.
func (s *Session) startNew() {
	s.id, s.rec = "", nil
	s.meta = s.m.cfg.newMeta()
}

// lookup returns the encoded value under key. s.mu must be held.
func (s *Session) lookup(key string) ([]byte, bool) {
	if v, ok := s.ch.values[key]; ok {
		return v, v != nil
	}
	if s.ch.cleared || strings.HasPrefix(key, reservedPrefix) {
		return nil, false
	}
	v, ok := s.rec[key]
	return v, ok
}

// raw loads the session and returns the encoded value under key.
func (s *Session) raw(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.lookup(key)
}

// encodeError is a value the codec could not encode. Its message names the
// key and the codec error's type, never its text, which may quote the value.
type encodeError struct {
	key string
	err error
}

func (e *encodeError) Error() string {
	return fmt.Sprintf("sessions: the value of key %q cannot be encoded (%T)", e.key, e.err)
}

func (e *encodeError) Unwrap() error { return e.err }

// Get returns the value under key as the codec decodes it into an
// interface value (with JSONCodec, numbers come back as float64), or nil
// when there is none. The typed getters and Decode return a value in its
// own type.
func (s *Session) Get(key string) any {
	var v any
	if s.decodeOrLog(key, &v) {
		return v
	}
	return nil
}

// Set stores value under key. It is written to the store when the response
// starts. Set panics if key starts with "__", which is reserved for the
// Manager's metadata. If the codec cannot encode value, nothing is stored
// and the request's commit fails with the encoding error.
//
// Set does not read the session: a request that only writes costs one store
// call, a write of the changed keys that the store refuses if the session
// is gone. If it expired, a new session with a fresh ID gets the values; if
// it was destroyed or renewed, they are dropped, as the logout demands. Once the
// session was read, a key whose final value is the one it held when it was
// read is not written, however often it was set in between, so a concurrent
// request's write to it stands.
func (s *Session) Set(key string, value any) {
	checkKey(key)
	b, err := s.m.cfg.codec.Encode(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.writable() {
		return
	}
	if err != nil {
		if s.ch.err == nil {
			s.ch.err = &encodeError{key: key, err: err}
		}
		return
	}
	if cur, ok := s.lookup(key); ok && s.state != loadPending && bytes.Equal(cur, b) {
		return
	}
	s.ch.set(key, b)
}

// Delete removes the value under key, if any. Like Set, it does not read the
// session, and it panics on a reserved key. Once the session was read,
// deleting a key it did not hold changes nothing.
func (s *Session) Delete(key string) {
	checkKey(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.writable() {
		return
	}
	if s.state == loadPending {
		s.ch.set(key, nil)
		return
	}
	if _, ok := s.lookup(key); !ok {
		return
	}
	if _, stored := s.rec[key]; stored && !s.ch.cleared {
		s.ch.set(key, nil)
	} else {
		delete(s.ch.values, key)
	}
}

// writable reports whether the session may take a change: it could be read,
// or it was not read yet. A session without a cookie is "read" at no cost.
// s.mu must be held.
func (s *Session) writable() bool {
	if s.cookieID == "" {
		s.load()
	}
	return s.state == loadPending || s.state == loadDone
}

// Has reports whether the session holds a value under key.
func (s *Session) Has(key string) bool {
	_, ok := s.raw(key)
	return ok
}

// Keys returns the keys of the session's values, sorted. The Manager's
// metadata keys are never listed.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	keys := make([]string, 0, len(s.rec)+len(s.ch.values))
	if !s.ch.cleared {
		for k := range s.rec {
			if _, changed := s.ch.values[k]; !changed && !strings.HasPrefix(k, reservedPrefix) {
				keys = append(keys, k)
			}
		}
	}
	for k, v := range s.ch.values {
		if v != nil && !strings.HasPrefix(k, reservedPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Clear removes every value. The session keeps its ID and its user: at
// commit, every key the session held when this request read it is deleted,
// in one write of the changed keys, so a key that a concurrent request
// wrote after this request's read is kept (G3). If the session ended before
// the commit, Clear never brings it back: the values set after Clear start a
// new session with a fresh ID.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state != loadDone {
		return
	}
	for k := range s.ch.values {
		if !strings.HasPrefix(k, reservedPrefix) {
			delete(s.ch.values, k)
		}
	}
	if s.id != "" {
		s.ch.cleared = true
	}
}

// ID returns the session's ID, or "" while the session has none: a new
// session gets its ID when it is first written. The ID is the cookie's
// value: treat it as a secret, and use Handle to name the session.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.id
}

// Commit writes the session's changes to the store now, before the handler
// writes its response, so that the handler can tell the user the truth. It
// returns nil, an error wrapping ErrInvalidated when the write was refused
// because the session ended meanwhile (destroyed, renewed or expired by
// another request), or the store's error. A failed Commit drops the changes
// it could not write, and goes to the caller rather than to the error
// handler. Changes made after Commit are committed again when the response
// starts; one made after the response headers were sent that needs a cookie
// fails with ErrHeadersWritten.
func (s *Session) Commit() error { return s.w.commitNow() }

// Err returns the error that kept the session from being read, or nil. A
// session that could not be read is empty and read-only for the request:
// nothing is written at commit, so no stored data is overwritten, and the
// error goes to the error handler when the response starts.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.readErr
}

// RememberMe chooses, for this session only, between a persistent cookie
// (true) and a browser-session cookie (false); the choice is stored with
// the session and survives Renew. A change re-sends the cookie, so after
// the response headers were sent it fails like every late change that
// needs a cookie: the error handler gets ErrHeadersWritten. Without a call
// the session follows WithCookiePersistent.
func (s *Session) RememberMe(persistent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state != loadDone || s.meta.persist == persistent {
		return
	}
	s.meta.persist = persistent
	s.ch.set(keyPersist, persistValue(persistent))
	s.ch.cookie = s.m.cfg.header == ""
}

// Decode decodes the value under key into dst, a pointer. It returns
// ErrNoValue when there is no value, the read error when the session could
// not be read, and the codec's error when the value does not decode into
// dst.
func (s *Session) Decode(key string, dst any) error {
	b, ok := s.raw(key)
	if !ok {
		if err := s.Err(); err != nil {
			return err
		}
		return ErrNoValue
	}
	if err := s.m.cfg.codec.Decode(b, dst); err != nil {
		return fmt.Errorf("sessions: decode value of key %q: %w", key, err)
	}
	return nil
}

// decodeOrLog decodes the value under key into dst and reports whether it
// did; a value that does not decode is logged and reads as absent.
func (s *Session) decodeOrLog(key string, dst any) bool {
	b, ok := s.raw(key)
	if !ok {
		return false
	}
	if err := s.m.cfg.codec.Decode(b, dst); err != nil {
		// The codec's message may quote the value: log only its type.
		s.m.cfg.logger.LogAttrs(s.ctx, slog.LevelWarn, "session value does not decode",
			slog.String("session", idHash(s.cookieID)), slog.String("key", key),
			slog.String("into", fmt.Sprintf("%T", dst)), slog.String("error_type", fmt.Sprintf("%T", err)))
		return false
	}
	return true
}

func getAs[T any](s *Session, key string) T {
	var v T
	if !s.decodeOrLog(key, &v) {
		var zero T
		return zero
	}
	return v
}

// GetString returns the string under key, or "" when there is none or it
// is not a string.
func (s *Session) GetString(key string) string { return getAs[string](s, key) }

// GetInt returns the int under key, or 0 when there is none or it is not an
// integer.
func (s *Session) GetInt(key string) int { return getAs[int](s, key) }

// GetInt64 returns the int64 under key, or 0 when there is none or it is
// not an integer.
func (s *Session) GetInt64(key string) int64 { return getAs[int64](s, key) }

// GetFloat64 returns the number under key, or 0 when there is none or it is
// not a number.
func (s *Session) GetFloat64(key string) float64 { return getAs[float64](s, key) }

// GetBool returns the bool under key, or false when there is none or it is
// not a bool.
func (s *Session) GetBool(key string) bool { return getAs[bool](s, key) }

// GetTime returns the time under key, or the zero time when there is none
// or it is not a time.
func (s *Session) GetTime(key string) time.Time { return getAs[time.Time](s, key) }

// GetBytes returns the byte slice under key, or nil when there is none or
// it is not a byte slice.
func (s *Session) GetBytes(key string) []byte { return getAs[[]byte](s, key) }

func popAs[T any](s *Session, key string) T {
	v := getAs[T](s, key)
	s.Delete(key)
	return v
}

// Pop returns the value under key, as Get does, and deletes it: a flash
// message.
func (s *Session) Pop(key string) any {
	v := s.Get(key)
	s.Delete(key)
	return v
}

// PopString returns the string under key, as GetString does, and deletes
// the key.
func (s *Session) PopString(key string) string { return popAs[string](s, key) }

// PopInt returns the int under key, as GetInt does, and deletes the key.
func (s *Session) PopInt(key string) int { return popAs[int](s, key) }

// PopInt64 returns the int64 under key, as GetInt64 does, and deletes the
// key.
func (s *Session) PopInt64(key string) int64 { return popAs[int64](s, key) }

// PopFloat64 returns the number under key, as GetFloat64 does, and deletes
// the key.
func (s *Session) PopFloat64(key string) float64 { return popAs[float64](s, key) }

// PopBool returns the bool under key, as GetBool does, and deletes the key.
func (s *Session) PopBool(key string) bool { return popAs[bool](s, key) }

// PopTime returns the time under key, as GetTime does, and deletes the key.
func (s *Session) PopTime(key string) time.Time { return popAs[time.Time](s, key) }

// PopBytes returns the byte slice under key, as GetBytes does, and deletes
// the key.
func (s *Session) PopBytes(key string) []byte { return popAs[[]byte](s, key) }

func checkKey(key string) {
	if strings.HasPrefix(key, reservedPrefix) {
		panic("sessions: key " + strconv.Quote(key) + " is reserved: keys starting with \"__\" hold the session's metadata")
	}
}

func formatMillis(t time.Time) []byte {
	return strconv.AppendInt(nil, t.UnixMilli(), 10)
}

// parseMillis parses metadata written by formatMillis: positive decimal Unix
// milliseconds. It does not allocate.
func parseMillis(b []byte) (time.Time, bool) {
	if len(b) == 0 || len(b) > 15 {
		return time.Time{}, false
	}
	var ms int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		ms = ms*10 + int64(c-'0')
	}
	if ms == 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
