package sessions

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// removeRecorder records the ttl of every Remove made through it, by store
// key.
type removeRecorder struct {
	Store
	mu   sync.Mutex
	ttls map[string][]time.Duration
}

func (r *removeRecorder) Remove(ctx context.Context, id string, ttl time.Duration) error {
	r.mu.Lock()
	r.ttls[id] = append(r.ttls[id], ttl)
	r.mu.Unlock()
	return r.Store.Remove(ctx, id, ttl)
}

// startSession runs f on a new session and returns the ID the response
// gave it, and when that response's cookie expires.
func startSession(t *testing.T, m *Manager, f func(s *Session)) (string, time.Time) {
	t.Helper()
	w, id := run(m, "", f)
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge > 0 {
			return id, m.cfg.now().Add(time.Duration(c.MaxAge) * time.Second)
		}
	}
	t.Fatal("the new session got no persistent cookie")
	return "", time.Time{}
}

// idEndings are the ways an ID ends while its cookie lives on: each returns
// the ended ID and when the cookie that carried it expires.
var idEndings = []struct {
	name string
	end  func(t *testing.T, m *Manager) (string, time.Time)
}{
	{"Destroy", func(t *testing.T, m *Manager) (string, time.Time) {
		id, exp := startSession(t, m, func(s *Session) { s.Set("a", 1) })
		run(m, id, func(s *Session) { s.Destroy() })
		return id, exp
	}},
	{"Renew", func(t *testing.T, m *Manager) (string, time.Time) {
		id, exp := startSession(t, m, func(s *Session) { s.Set("a", 1) })
		run(m, id, func(s *Session) { s.Renew() })
		return id, exp
	}},
	{"Login", func(t *testing.T, m *Manager) (string, time.Time) {
		id, exp := startSession(t, m, func(s *Session) { s.Set("a", 1) })
		run(m, id, func(s *Session) { s.Login("alice") })
		return id, exp
	}},
	{"DestroyUser", func(t *testing.T, m *Manager) (string, time.Time) {
		id, exp := startSession(t, m, func(s *Session) { s.Login("bob") })
		if err := m.DestroyUser(context.Background(), "bob"); err != nil {
			t.Fatal(err)
		}
		return id, exp
	}},
	{"DestroySession", func(t *testing.T, m *Manager) (string, time.Time) {
		id, exp := startSession(t, m, func(s *Session) { s.Login("carol") })
		if err := m.DestroySession(context.Background(), "carol", handle(id)); err != nil {
			t.Fatal(err)
		}
		return id, exp
	}},
	{"DestroyOthers", func(t *testing.T, m *Manager) (string, time.Time) {
		other, exp := startSession(t, m, func(s *Session) { s.Login("dave") })
		this, _ := startSession(t, m, func(s *Session) { s.Login("dave") })
		run(m, this, func(s *Session) { s.DestroyOthers() })
		return other, exp
	}},
}

// TestTombstoneOutlivesTheCookie: the tombstone of an ended ID lasts the
// absolute lifetime, as long as any cookie for that ID may still be sent
// (G1, G2, G12). Every Remove is given the lifetime as its ttl, and a
// second before the lifetime has passed since the ID ended, by the
// Manager's clock and the store's alike, the store still refuses every
// write of the ID and a request that carries it is refused too. A shorter
// tombstone would let a stolen or stale cookie, still within its Max-Age,
// write its ID back once the tombstone had gone.
func TestTombstoneOutlivesTheCookie(t *testing.T) {
	const (
		lifetime = 24 * time.Hour
		step     = time.Second // the cookie's Max-Age counts whole seconds
	)
	for _, e := range idEndings {
		t.Run(e.name, func(t *testing.T) {
			// The store expires tombstones by the Manager's clock, which
			// the test moves (the memory store expires by the real
			// monotonic clock, which it cannot).
			clock := newTestClock()
			rec := &removeRecorder{Store: newBlobStoreAt(clock.Now), ttls: map[string][]time.Duration{}}
			m := New(rec, WithLifetime(lifetime), WithClock(clock.Now))
			ended, cookieExpires := e.end(t, m)
			expectRemoveTTLs(t, rec, handle(ended), lifetime)

			clock.Advance(lifetime - step)
			if !clock.Now().Before(cookieExpires) {
				t.Fatalf("the cookie of the ended ID expired at %v, before the boundary checked: the test no longer checks a live cookie", cookieExpires)
			}
			w, _ := run(m, ended, func(s *Session) { s.Set("after", "the end") })
			if got := w.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("a request carrying the ended ID %v after it ended set %q: its write must be refused and its values dropped, not start a session", lifetime-step, got)
			}
			expectWritesRefused(t, rec, handle(ended), lifetime-step)
		})
	}
}

// expectRemoveTTLs checks that the ended ID was removed, and that every
// Remove was given the absolute lifetime.
func expectRemoveTTLs(t *testing.T, rec *removeRecorder, ended string, lifetime time.Duration) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ttls[ended]) == 0 {
		t.Fatalf("the ended ID was never removed from the store (Removes: %v)", rec.ttls)
	}
	for key, ttls := range rec.ttls {
		for _, ttl := range ttls {
			if ttl != lifetime {
				t.Errorf("Remove(%.14s…) was given a ttl of %v, want the absolute lifetime %v: a cookie for the ID may be sent that long", key, ttl, lifetime)
			}
		}
	}
}

// expectWritesRefused checks that the store refuses every kind of Write
// under the ended ID's handle.
func expectWritesRefused(t *testing.T, st Store, ended string, after time.Duration) {
	t.Helper()
	for _, w := range []struct {
		kind string
		ch   Change
	}{
		// A Write the tombstone failed to refuse may create the record: the
		// one that needs a live record comes first.
		{"a delta Write", Change{Set: Record{"user": []byte(`"mallory"`)}}},
		{"a Write with Create", Change{Mode: ModeUpsert, Set: Record{"user": []byte(`"mallory"`)}}},
		{"a Write with Replace", Change{Mode: ModeReplace, Set: Record{"user": []byte(`"mallory"`)}}},
	} {
		if err := st.Write(context.Background(), ended, w.ch, time.Hour); !errors.Is(err, ErrInvalidated) {
			t.Errorf("%s of the ended ID %v after it ended gave %v, want ErrInvalidated: its tombstone must last the absolute lifetime", w.kind, after, err)
		}
	}
}
