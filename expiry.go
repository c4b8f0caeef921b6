package sessions

import (
	"strconv"
	"time"
)

// A session ends at the first of two clocks, both kept in its record on the
// server (G8): its absolute lifetime, counted from its creation or last
// Renew, and its idle timeout, counted from its last write or touch. The
// Manager's WithLifetime and WithIdleTimeout set them for every session;
// SetLifetime and SetIdleTimeout change them for one.

// SetLifetime sets this session's absolute lifetime, counted from its
// creation (or last Renew), as for WithLifetime but for this session only:
// for instance a 30-day remember-me session beside 12-hour others. It is
// capped at the Manager's WithLifetime, which is therefore the longest any
// session lives; blind writes rely on that. The choice is stored with the
// session and survives Renew and Login. A persistent cookie's Max-Age
// follows it, so after the response headers were sent it fails with
// ErrHeadersWritten. SetLifetime panics if d is not positive.
func (s *Session) SetLifetime(d time.Duration) {
	if d <= 0 {
		panic("sessions: SetLifetime with a lifetime that is not positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state != loadDone {
		return
	}
	s.meta.lifetime = min(d, s.m.cfg.lifetime)
	s.ch.set(keyLifetime, formatDuration(s.meta.lifetime))
	if s.id != "" {
		s.ch.set(keyDeadline, formatMillis(s.meta.deadline()))
	}
	s.ch.cookie = s.ch.cookie || (s.meta.persist && s.m.cfg.header == "")
}

// SetIdleTimeout sets this session's idle timeout, as for WithIdleTimeout but
// for this session only. When the Manager has an idle timeout, d is capped
// at it. The choice is stored with the session, survives Renew and Login,
// and takes effect with this request's commit. SetIdleTimeout panics if d
// is not positive.
func (s *Session) SetIdleTimeout(d time.Duration) {
	if d <= 0 {
		panic("sessions: SetIdleTimeout with a timeout that is not positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state != loadDone {
		return
	}
	if max := s.m.cfg.idleTimeout; max > 0 {
		d = min(d, max)
	}
	s.meta.idle = d
	s.ch.set(keyIdle, formatDuration(d))
}

// ExpiresAt returns when the session ends if no request uses it meanwhile:
// the end of its absolute lifetime, or sooner, of its idle timeout. It is
// the zero time for a session that has no ID yet.
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.id == "" {
		return time.Time{}
	}
	end := s.meta.deadline()
	if idle := s.meta.idle; idle > 0 && s.meta.touched.Add(idle).Before(end) {
		end = s.meta.touched.Add(idle)
	}
	return end
}

// newMeta returns the metadata of a new session under c.
func (c *config) newMeta() meta {
	return meta{persist: c.cookie.persist, lifetime: c.lifetime, idle: c.idleTimeout}
}

// deadline returns the end of the session's absolute lifetime.
func (md meta) deadline() time.Time { return md.created.Add(md.lifetime) }

// ttl returns how long the session may live from now: its idle timeout,
// cut short by what is left of its absolute lifetime.
func (md meta) ttl(now time.Time) time.Duration {
	left := md.deadline().Sub(now)
	if md.idle > 0 && md.idle < left {
		return md.idle
	}
	return left
}

// expired reports whether the session rec, with metadata md, has passed its
// absolute lifetime or its idle timeout at now, by the Manager's clock.
func (md meta) expired(rec Record, now time.Time) bool {
	deadline := md.deadline()
	if d, ok := parseMillis(rec[keyDeadline]); ok && d.Before(deadline) {
		deadline = d
	}
	return !now.Before(deadline) || (md.idle > 0 && !now.Before(md.touched.Add(md.idle)))
}

// parseDuration reads a duration written by formatDuration, capped at max
// (so a huge stored value can neither overflow nor outlast the Manager's
// own bound).
func parseDuration(b []byte, max time.Duration) (time.Duration, bool) {
	t, ok := parseMillis(b)
	if !ok {
		return 0, false
	}
	if ms := t.UnixMilli(); ms < max.Milliseconds() {
		return time.Duration(ms) * time.Millisecond, true
	}
	return max, true
}

// formatDuration writes d as decimal milliseconds.
func formatDuration(d time.Duration) []byte {
	return strconv.AppendInt(nil, d.Milliseconds(), 10)
}
