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
	keyCreated     = "__created"  // creation (or last Renew) time, Unix milliseconds
	keyTouched     = "__touched"  // last write, Unix milliseconds
	keyPersist     = "__persist"  // "1" persistent cookie, "0" browser-session cookie
	keyDeadline    = "__deadline" // end of the absolute lifetime, Unix milliseconds
)

// Session is the session of one request. Get it with Get or FromContext.
//
// A Session is loaded lazily: the first call that needs a value reads the
// store, once; a request that never uses its session costs no store call,
// and one that only calls Set and Delete costs one write and no read.
// Changes are kept in the Session and written by the Manager in one store
// call when the response starts, before its headers go out, or when the
// handler returns. Only the keys the request changed are written, so
// concurrent requests that change different keys all persist.
//
// A Session is safe for use by several goroutines of one request.
type Session struct {
	mu  sync.Mutex
	m   *Manager
	ctx context.Context // the request's context, for the read

	cookieID string // a well-formed ID from the request's cookie, or ""
	loaded   bool
	loadErr  error

	id      string // the ID of the live stored session, or "" for a new one
	rec     Record // the record as read or last written; never modified
	created time.Time
	touched time.Time
	persist bool

	pending        map[string][]byte // changes since the last commit; nil deletes
	cleared        bool              // the next write replaces the record
	renew          bool
	persistChanged bool
	destroyID      string // the ID to remove at the next commit
	encodeErr      error
}

// load reads the session from the store once. s.mu must be held.
func (s *Session) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	if s.cookieID == "" {
		s.startNew()
		return
	}
	m := s.m
	ctx, cancel := m.storeContext(s.ctx)
	rec, err := m.store.Read(ctx, handle(s.cookieID))
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		m.log(s.ctx, slog.LevelDebug, "session not found: a new session starts", s.cookieID)
		s.startNew()
		return
	case err != nil:
		s.loadErr = fmt.Errorf("sessions: read: %w", err)
		s.startNew()
		s.pending = nil
		return
	}
	created, ok1 := parseMillis(rec[keyCreated])
	touched, ok2 := parseMillis(rec[keyTouched])
	if !ok1 || !ok2 {
		m.log(s.ctx, slog.LevelWarn, "session record is corrupt (metadata missing or unreadable): a new session starts", s.cookieID)
		s.startNew()
		return
	}
	now := m.cfg.now()
	deadline := created.Add(m.cfg.lifetime)
	if d, ok := parseMillis(rec[keyDeadline]); ok && d.Before(deadline) {
		deadline = d
	}
	if !now.Before(deadline) ||
		(m.cfg.idleTimeout > 0 && !now.Before(touched.Add(m.cfg.idleTimeout))) {
		// The store still has it (its clock or its expiry differs from
		// ours): tombstone it, so that no write-only request, which does
		// not read, can write to it again.
		m.log(s.ctx, slog.LevelDebug, "session expired: a new session starts", s.cookieID)
		if _, err := m.remove(s.ctx, s.cookieID); err != nil {
			m.logger().LogAttrs(s.ctx, slog.LevelWarn, "removing an expired session failed",
				slog.String("session", idHash(s.cookieID)), slog.Any("error", err))
		}
		s.startNew()
		return
	}
	s.id, s.rec, s.created, s.touched = s.cookieID, rec, created, touched
	s.persist = m.cfg.cookie.persist
	if p, ok := rec[keyPersist]; ok {
		s.persist = string(p) == "1"
	}
}

// startNew makes s an empty session with no ID yet.
func (s *Session) startNew() {
	s.id, s.rec = "", nil
	s.created, s.touched = time.Time{}, time.Time{}
	s.persist = s.m.cfg.cookie.persist
}

// lookup returns the encoded value under key. s.mu must be held.
func (s *Session) lookup(key string) ([]byte, bool) {
	if v, ok := s.pending[key]; ok {
		return v, v != nil
	}
	if s.cleared || strings.HasPrefix(key, reservedPrefix) {
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

func (s *Session) markPending(key string, v []byte) {
	if s.pending == nil {
		s.pending = make(map[string][]byte, 4)
	}
	s.pending[key] = v
}

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
// is gone (then a new session with a fresh ID gets the values). Once the
// session was read, setting the value the key held when it was read changes
// nothing: the request's commit does not write that key, so a concurrent
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
		if s.encodeErr == nil {
			s.encodeErr = fmt.Errorf("sessions: encode value of key %q: %w", key, err)
		}
		return
	}
	if cur, ok := s.lookup(key); ok && s.loaded && bytes.Equal(cur, b) {
		return
	}
	s.markPending(key, b)
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
	if !s.loaded {
		s.markPending(key, nil)
		return
	}
	if _, ok := s.lookup(key); !ok {
		return
	}
	if _, stored := s.rec[key]; stored && !s.cleared {
		s.markPending(key, nil)
	} else {
		delete(s.pending, key)
	}
}

// writable reports whether the session may take a change: it could be read,
// or it was not read yet. A session without a cookie is "read" at no cost.
// s.mu must be held.
func (s *Session) writable() bool {
	if s.cookieID == "" {
		s.load()
	}
	return s.loadErr == nil
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
	keys := make([]string, 0, len(s.rec)+len(s.pending))
	if !s.cleared {
		for k := range s.rec {
			if _, changed := s.pending[k]; !changed && !strings.HasPrefix(k, reservedPrefix) {
				keys = append(keys, k)
			}
		}
	}
	for k, v := range s.pending {
		if v != nil && !strings.HasPrefix(k, reservedPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Clear removes every value. The session keeps its ID; the store's record
// is replaced as a whole when the response starts, so keys that concurrent
// requests wrote are removed too.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.loadErr != nil {
		return
	}
	for k := range s.pending {
		if strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		delete(s.pending, k)
	}
	if s.id != "" {
		s.cleared = true
	}
}

// ID returns the session's ID, or "" while the session has none: a new
// session gets its ID when it is first written. The ID is the cookie's
// value: treat it as a secret.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.id
}

// Err returns the error that kept the session from being read, or nil. A
// session that could not be read is empty and read-only for the request:
// nothing is written at commit, so no stored data is overwritten, and the
// error goes to the error handler when the response starts.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.loadErr
}

// RememberMe chooses, for this session only, between a persistent cookie
// (true) and a browser-session cookie (false); the choice is stored with
// the session and survives Renew. A change re-sends the cookie. Without a
// call the session follows WithPersistentCookie.
func (s *Session) RememberMe(persistent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.loadErr != nil || s.persist == persistent {
		return
	}
	s.persist = persistent
	s.persistChanged = true
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
		s.m.logger().LogAttrs(s.ctx, slog.LevelWarn, "session value does not decode",
			slog.String("session", idHash(s.cookieID)), slog.String("key", key), slog.Any("error", err))
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
