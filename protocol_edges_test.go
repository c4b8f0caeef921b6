package sessions

// Edge cases of the logout protocol found by trying to break it: each test
// failed on an earlier version of the protocol.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A login form with "log out my other devices" on an anonymous session:
// Login(u) + DestroyOthers(). u's older devices should end.
func TestLoginThenDestroyOthersFromAnonymous(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	old := loginAs(t, m, "alice") // alice's phone
	_, anon := run(m, "", func(s *Session) { s.Set("csrf", "t") })
	_, laptop := run(m, anon, func(s *Session) {
		s.Login("alice")
		s.DestroyOthers()
	})
	if laptop == anon || !live(t, st, laptop) {
		t.Fatal("login did not happen")
	}
	if live(t, st, old) {
		t.Error("Login(alice)+DestroyOthers from an anonymous session left alice's other device logged in (DestroyOthers silently dropped)")
	}
}

// Same without any cookie at all.
func TestLoginThenDestroyOthersWithoutCookie(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	old := loginAs(t, m, "alice")
	_, laptop := run(m, "", func(s *Session) {
		s.Login("alice")
		s.DestroyOthers()
	})
	if !live(t, st, laptop) {
		t.Fatal("login did not happen")
	}
	if live(t, st, old) {
		t.Error("Login(alice)+DestroyOthers with no cookie left alice's other device logged in")
	}
}

// A shared browser bound to victor; ursula logs in with "log out my
// other devices": victor's other devices are logged out, ursula's are not.
func TestLoginAsOtherThenDestroyOthersEndsTheNewUsersDevices(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	victorPhone := loginAs(t, m, "victor")
	kiosk := loginAs(t, m, "victor")
	ursulaPhone := loginAs(t, m, "ursula")
	var who string
	_, next := run(m, kiosk, func(s *Session) {
		s.Login("ursula")
		s.DestroyOthers()
		who = s.UserID()
	})
	t.Logf("UserID() in the handler: %q; new session live: %v", who, live(t, st, next))
	if !live(t, st, victorPhone) {
		t.Error("ursula's Login+DestroyOthers on a kiosk logged out VICTOR's phone (another user's session)")
	}
	if live(t, st, ursulaPhone) {
		t.Error("ursula's Login+DestroyOthers left ursula's own other device logged in")
	}
	_ = context.Background
}

// A session that expires between the request's read and its commit is
// logged out: its DestroyOthers ends none of the user's other sessions.
func TestDestroyOthersOnSessionExpiredAtCommit(t *testing.T) {
	clock := newTestClock()
	st := newTestMemoryStore(t)
	m := New(st, WithClock(clock.Now), WithLifetime(time.Hour))
	phone := loginAs(t, m, "alice")
	clock.Advance(30 * time.Minute)
	laptop := loginAs(t, m, "alice")
	clock.Advance(29 * time.Minute)
	_, next := run(m, phone, func(s *Session) {
		_ = s.UserID() // loaded live
		s.DestroyOthers()
		s.Set("flash", "other devices logged out")
		clock.Advance(2 * time.Minute) // phone passes its lifetime before commit
	})
	t.Logf("phone got new (anonymous) session: %v", next != phone)
	if !live(t, st, laptop) {
		t.Error("DestroyOthers from a session that expired before its commit (not confirmed live) ended the user's other session")
	}
}

// LostAckStore applies the write of a renewed record (Replace with the fresh
// mark) but reports a timeout, as a store whose reply was lost does (or a
// process that crashed between Renew's steps 3 and 4).
type lostAckStore struct {
	Store
	armed atomic.Bool
}

func (l *lostAckStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	err := l.Store.Write(ctx, id, ch, ttl)
	if err == nil && ch.Mode == ModeReplace && ch.Set[keyFresh] != nil && l.armed.CompareAndSwap(true, false) {
		return context.DeadlineExceeded
	}
	return err
}

// After a Renew whose new record was written but whose removal of the old
// one never ran, the devices page lists the real device (the old handle,
// which the browser holds), and its revoke button logs that device out.
func TestRevokeAfterInterruptedRenew(t *testing.T) {
	mem := newTestMemoryStore(t)
	st := &lostAckStore{Store: mem}
	m := New(st)
	dev := loginAs(t, m, "alice")
	st.armed.Store(true)
	w, after := run(m, dev, func(s *Session) { _ = s.UserID(); s.Renew() })
	t.Logf("renew status %d, cookie changed: %v", w.Code, after != dev)
	run(m, dev, func(s *Session) { _ = s.UserID() }) // the device goes on with its ID
	list, err := m.UserSessions(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		t.Logf("devices page lists %s… (real device %s…)", d.Handle[:8], handle(dev)[:8])
	}
	if len(list) != 1 {
		t.Fatalf("%d devices listed", len(list))
	}
	if err := m.DestroySession(context.Background(), "alice", list[0].Handle); err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if live(t, mem, dev) {
		t.Error("revoking the only device the devices page showed left the real device logged in")
	}
}

// FlakyReadStore fails the next Read of one key.
type flakyReadStore struct {
	Store
	mu   sync.Mutex
	fail string
}

func (f *flakyReadStore) Read(ctx context.Context, id string) (Record, error) {
	f.mu.Lock()
	hit := id == f.fail
	if hit {
		f.fail = ""
	}
	f.mu.Unlock()
	if hit {
		return nil, errors.New("i/o timeout")
	}
	return f.Store.Read(ctx, id)
}

// A logout with an ID planted before the victim's Login, whose read fails
// (a store under load), does not end the login the victim has used.
func TestPlantedIDLogoutWithFailedRead(t *testing.T) {
	mem := newTestMemoryStore(t)
	st := &flakyReadStore{Store: mem}
	m := New(st)
	_, planted := run(m, "", func(s *Session) { s.Set("theme", "dark") })
	_, victim := run(m, planted, func(s *Session) { s.Login("victim") })
	run(m, victim, func(s *Session) { _ = s.UserID() }) // presented
	st.mu.Lock()
	st.fail = handle(planted)
	st.mu.Unlock()
	w, _ := run(m, planted, func(s *Session) { s.Destroy() })
	t.Logf("attacker's logout: status %d", w.Code)
	if !live(t, mem, victim) {
		t.Error("a logout with the planted ID whose read failed ended the victim's presented session")
	}
}

// Server B's clock is 90 s behind server A's. A session B created is live
// and served by B for its last 90 s, while A's clock finds it past its
// deadline: a Login on A keeps its index entry, so DestroyUser ends it.
func TestIndexPruneIgnoresClockSkew(t *testing.T) {
	st := newTestMemoryStore(t)
	const L = 2 * time.Minute
	a := New(st, WithLifetime(L))
	b := New(st, WithLifetime(L), WithClock(func() time.Time { return time.Now().Add(-90 * time.Second) }))
	bs := loginAs(t, b, "skew")
	time.Sleep(0) // real time: B's session has ~2 min left in the store
	// pretend 45 s passed: a session created 45 s ago on B. Use a third
	// server, A2, whose clock is A's + 45 s, to do the Login that prunes.
	a2 := New(st, WithLifetime(L), WithClock(func() time.Time { return time.Now().Add(45 * time.Second) }))
	loginAs(t, a2, "skew")
	if err := a.DestroyUser(context.Background(), "skew"); err != nil {
		t.Fatal(err)
	}
	if live(t, st, bs) {
		var who string
		run(b, bs, func(s *Session) { who = s.UserID() })
		t.Errorf("DestroyUser returned nil, and B's session is live; B serves it as %q (a Login on a server whose clock is ahead pruned its index entry)", who)
	}
}

// A panic of the event hook (or of a custom store) during DestroyUser, which
// ends sessions on goroutines of its own, reaches the caller, where net/http
// recovers it: the server survives.
func TestPanicInEndAllReachesTheCaller(t *testing.T) {
	m := New(newTestMemoryStore(t), WithEvents(func(_ context.Context, e Event) {
		if e.Kind == EventDestroyed {
			panic("event hook bug")
		}
	}))
	loginAs(t, m, "p")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = m.DestroyUser(r.Context(), "p")
	}))
	defer srv.Close()
	http.Get(srv.URL) // the handler panics: net/http recovers it (old code)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Log("the server survived the panic")
}

// One request renews twice (Renew, Commit, Renew: a Login that a
// middleware commits, then a step-up Renew), and its response is held back
// while the browser logs out with the old ID h: the second renewal ends
// too, so the delayed cookie names no session.
func TestTwoRenewalsInOneRequestEndWithTheOldID(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	h := loginAs(t, m, "alice")
	w, _ := run(m, h, func(s *Session) {
		s.Renew()
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		s.Renew()
	}) // response delayed
	var n2 string
	for _, c := range w.Result().Cookies() {
		t.Logf("delayed response: Set-Cookie %s…", c.Value[:8])
		n2 = c.Value // the browser keeps the last
	}
	run(m, h, func(s *Session) { s.Destroy() }) // logout with the old ID, answered first
	if n2 == h {
		t.Fatal("no renewal")
	}
	if live(t, st, n2) {
		var who string
		run(m, n2, func(s *Session) { who = s.UserID() })
		t.Errorf("after the logout with the old ID, the delayed response's cookie still names a live session of %q", who)
	}
}

// The new session that an anonymous session expired at commit starts keeps
// the request's RememberMe(false): no persistent cookie for a browser whose
// user unticked "keep me signed in".
func TestExpiredAtCommitKeepsRememberMe(t *testing.T) {
	clock := newTestClock()
	m := New(newTestMemoryStore(t), WithClock(clock.Now), WithLifetime(time.Hour)) // persistent by default
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	w, _ := run(m, id, func(s *Session) {
		_ = s.GetString("a")
		s.RememberMe(false)
		s.Set("b", "2")
		clock.Advance(time.Hour)
	})
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge > 0 {
			t.Errorf("RememberMe(false) in the request, session expired at commit: new session's cookie is persistent (Max-Age=%d)", c.MaxAge)
		}
	}
}
