package sessions

import (
	"testing"
	"time"
)

// TestPerSessionLifetime: a remember-me session lives the Manager's 30 days
// while another, shortened to 12 hours, ends after 12 hours; both clocks
// are kept in the store, and the cookie's Max-Age follows (G8).
func TestPerSessionLifetime(t *testing.T) {
	forEachBuiltinStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		clock := newTestClock()
		m := New(newStore(t), WithLifetime(30*24*time.Hour), WithClock(clock.Now))
		_, long := run(m, "", func(s *Session) { s.Login("alice") })
		w, short := run(m, "", func(s *Session) { s.Login("alice"); s.SetLifetime(12 * time.Hour) })
		if c := w.Result().Cookies()[0]; c.MaxAge != 12*3600 {
			t.Fatalf("the short session's cookie has Max-Age %d, want 12h", c.MaxAge)
		}
		var expires time.Time
		run(m, short, func(s *Session) { expires = s.ExpiresAt() })
		if want := clock.Now().Add(12 * time.Hour); expires.Sub(want).Abs() > time.Second {
			t.Fatalf("ExpiresAt %v, want %v", expires, want)
		}
		clock.Advance(13 * time.Hour)
		user := func(id string) (u string) {
			run(m, id, func(s *Session) { u = s.UserID() })
			return u
		}
		if user(short) != "" || user(long) != "alice" {
			t.Fatalf("13 hours in: short session %q, long %q; want it ended and the other live", user(short), user(long))
		}
		// Renew keeps the session's own lifetime.
		_, short2 := run(m, "", func(s *Session) { s.Login("bob"); s.SetLifetime(time.Hour) })
		_, short2 = run(m, short2, func(s *Session) { s.Renew() })
		clock.Advance(61 * time.Minute)
		if user(short2) != "" {
			t.Fatal("a renewed session outlived its own lifetime")
		}
	})
}

// TestPerSessionIdleTimeout: a session's own idle timeout, shorter than the
// Manager's, ends it when it idles that long; the store's TTL follows it.
func TestPerSessionIdleTimeout(t *testing.T) {
	clock := newTestClock()
	st := newTestMemoryStore(t)
	m := New(st, WithIdleTimeout(24*time.Hour), WithLifetime(30*24*time.Hour), WithClock(clock.Now))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1"); s.SetIdleTimeout(30 * time.Minute) })
	get := func() (v string) {
		run(m, id, func(s *Session) { v = s.GetString("a") })
		return v
	}
	for i := 0; i < 4; i++ {
		clock.Advance(20 * time.Minute)
		if get() != "1" {
			t.Fatalf("the session idled 20 minutes of its 30 and ended (step %d)", i)
		}
	}
	clock.Advance(31 * time.Minute)
	if get() != "" {
		t.Fatal("the session outlived its own idle timeout")
	}
}
