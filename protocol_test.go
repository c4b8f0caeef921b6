package sessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// loginAs returns the ID of a fresh session of user.
func loginAs(t *testing.T, m *Manager, user string) string {
	t.Helper()
	_, id := run(m, "", func(s *Session) { s.Login(user) })
	if id == "" {
		t.Fatal("Login set no cookie")
	}
	return id
}

func live(t *testing.T, st Store, id string) bool {
	t.Helper()
	ok, err := has(context.Background(), st, handle(id))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestDestroyOthersNeedsALiveSession: a request that read its session before
// that session was destroyed does not carry out DestroyOthers at commit:
// the sessions the user logged in with afterwards stay live. The store
// confirms the session is live (a touch) before the others end.
func TestDestroyOthersNeedsALiveSession(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	stolen := loginAs(t, m, "alice")
	var fresh string
	run(m, stolen, func(s *Session) {
		_ = s.UserID() // the request has read its session
		// Meanwhile: the account is locked down, and alice logs in again.
		if err := m.DestroyUser(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		fresh = loginAs(t, m, "alice")
		s.DestroyOthers()
	})
	if !live(t, st, fresh) {
		t.Error("a request on a destroyed session ended the session alice logged in with after DestroyUser")
	}
}

// corruptIndexStore reports every user index as corrupt, as a blob store
// does whose blob no longer decodes.
type corruptIndexStore struct{ Store }

func (c corruptIndexStore) Read(ctx context.Context, id string) (Record, error) {
	if strings.HasPrefix(id, "u:") {
		return nil, fmt.Errorf("blob does not decode: %w", ErrCorrupt)
	}
	return c.Store.Read(ctx, id)
}

// TestDestroyUserFailsOnCorruptIndex: when the user's index cannot be read
// (ErrCorrupt), DestroyUser reports the error instead of success.
func TestDestroyUserFailsOnCorruptIndex(t *testing.T) {
	mem := newTestMemoryStore(t)
	m := New(corruptIndexStore{mem})
	id := loginAs(t, m, "bob")
	err := m.DestroyUser(context.Background(), "bob")
	if err == nil && live(t, mem, id) {
		t.Error("DestroyUser returned nil, and bob's session is still live")
	}
}

// TestLoginAsOtherRacingDestroy: a Login as another user that races a
// Destroy of the session it logs in from is refused, as a Renew would be
// (G2): no session is left live.
func TestLoginAsOtherRacingDestroy(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	carol := loginAs(t, m, "carol")
	var next string
	w, _ := run(m, carol, func(s *Session) {
		_ = s.UserID()
		run(m, carol, func(s *Session) { s.Destroy() }) // the other tab logs out
		s.Login("dave")
		next = "pending"
	})
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge >= 0 {
			next = c.Value
		}
	}
	if next != "pending" && live(t, st, next) {
		t.Errorf("Login as another user that raced a Destroy of the same session left a live session (status %d)", w.Code)
	}
}

// TestPerSessionIdleTouchInterval: a session given its own idle timeout, with
// none on the Manager, is touched once per derived touch interval, not on
// every read (G4).
func TestPerSessionIdleTouchInterval(t *testing.T) {
	cs := &countingStore{Store: newTestMemoryStore(t)}
	m := New(cs)
	_, id := run(m, "", func(s *Session) {
		s.Set("a", "1")
		s.SetIdleTimeout(time.Hour)
	})
	cs.take()
	for i := 0; i < 3; i++ {
		run(m, id, func(s *Session) { _ = s.GetString("a") })
	}
	if n := cs.take(); n.writes != 0 {
		t.Errorf("3 read-only requests within a second made %d writes (touch interval %v)", n.writes, m.cfg.touchInterval)
	}
}

// TestDestroyedEventCarriesUser: the EventDestroyed of a Destroy carries the
// user of the session it ended.
func TestDestroyedEventCarriesUser(t *testing.T) {
	var got []Event
	m := New(newTestMemoryStore(t), WithEvents(func(_ context.Context, e Event) {
		if e.Kind == EventDestroyed {
			got = append(got, e)
		}
	}))
	id := loginAs(t, m, "erin")
	run(m, id, func(s *Session) {
		_ = s.UserID()
		s.Destroy()
	})
	if len(got) != 1 || got[0].UserID != "erin" {
		t.Errorf("EventDestroyed of erin's logout: %+v, want UserID erin", got)
	}
}

// TestRefusedErrorReadsOnce: the error Commit returns for a refused write
// has one "sessions:" and unwraps to ErrInvalidated.
func TestRefusedErrorReadsOnce(t *testing.T) {
	m := New(newTestMemoryStore(t))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	var err error
	run(m, id, func(s *Session) {
		_ = s.GetString("a")
		run(m, id, func(s *Session) { s.Destroy() })
		s.Set("a", "2")
		err = s.Commit()
	})
	if !errors.Is(err, ErrInvalidated) {
		t.Fatalf("Commit = %v, want ErrInvalidated", err)
	}
	if strings.Count(err.Error(), "sessions:") != 1 {
		t.Errorf("error message %q does not read once", err)
	}
}

// TestFixatedIDCannotEndLoggedInSession: an ID planted before Login is
// worthless after it (G2), and once the victim's browser has used the new
// ID, a logout with the planted one cannot end the victim's session. Until
// then it does: a browser that sends the old ID never got the new one (its
// response was lost), and the logout must stick. No clock decides it: the
// clock jumps a day between the steps and changes nothing.
func TestFixatedIDCannotEndLoggedInSession(t *testing.T) {
	for _, presented := range []bool{true, false} {
		clock := newTestClock()
		st := newTestMemoryStore(t)
		m := New(st, WithClock(clock.Now), WithLifetime(48*time.Hour))
		_, planted := run(m, "", func(s *Session) { s.Set("theme", "dark") }) // the attacker's session
		_, victim := run(m, planted, func(s *Session) { s.Login("victim") })
		if victim == planted || !live(t, st, victim) {
			t.Fatal("Login did not move the session")
		}
		clock.Advance(24 * time.Hour)
		if presented {
			run(m, victim, func(s *Session) { _ = s.UserID() })
		}
		run(m, planted, func(s *Session) { s.Destroy() })
		if got := live(t, st, victim); got != presented {
			t.Errorf("victim presented its new ID: %v; after a logout with the planted ID it is live: %v, want %v", presented, got, presented)
		}
	}
}

// TestIndexDoesNotGrowWithRenews: a Renew of a bound session removes the old
// handle from the index once the new record is written, so a user who stays
// logged in and renews keeps one entry per live session.
func TestIndexDoesNotGrowWithRenews(t *testing.T) {
	clock := newTestClock()
	cs := &countingStore{Store: newTestMemoryStore(t)}
	m := New(cs, WithClock(clock.Now), WithLifetime(24*time.Hour))
	id := loginAs(t, m, "frank")
	for i := 0; i < 10; i++ {
		clock.Advance(20 * time.Hour)
		_, id = run(m, id, func(s *Session) {
			_ = s.UserID()
			s.Renew()
		})
	}
	rec, err := cs.Read(context.Background(), userKey("frank"))
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for k := range rec {
		if validHandle(k) {
			entries++
		}
	}
	cs.take()
	if err := m.DestroyUser(context.Background(), "frank"); err != nil {
		t.Fatal(err)
	}
	n := cs.take()
	if entries > 2 {
		t.Errorf("after 10 Renews over 200 hours (lifetime 24h) the index of one live session holds %d entries; DestroyUser cost %+v", entries, n)
	}
}

// TestLoginAsOtherKeepsRememberMe: a login form that calls RememberMe(false)
// and then Login(u) on a browser still bound to another user gets the
// browser-session cookie it chose.
func TestLoginAsOtherKeepsRememberMe(t *testing.T) {
	m := New(newTestMemoryStore(t)) // persistent cookies by default
	v := loginAs(t, m, "victor")
	w, _ := run(m, v, func(s *Session) {
		s.RememberMe(false) // "keep me signed in" unticked
		s.Login("ursula")
	})
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge > 0 {
			t.Errorf("RememberMe(false) then Login as another user set a persistent cookie (Max-Age=%d)", c.MaxAge)
		}
	}
}

// TestManagerCallsHonourCancel: UserSessions, DestroySession and DestroyUser
// with a context already cancelled give its error and make no store call.
func TestManagerCallsHonourCancel(t *testing.T) {
	cs := &countingStore{Store: newTestMemoryStore(t)}
	m := New(cs)
	loginAs(t, m, "gina")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cs.take()
	list, err := m.UserSessions(ctx, "gina")
	if err == nil {
		t.Errorf("UserSessions on a cancelled context: nil error, %d sessions, store calls %+v", len(list), cs.take())
	}
}

// TestLoginAsOtherEmitsDestroyed: Login as another user ends the first user's
// session, and an EventDestroyed says so.
func TestLoginAsOtherEmitsDestroyed(t *testing.T) {
	var kinds []string
	m := New(newTestMemoryStore(t), WithEvents(func(_ context.Context, e Event) {
		if e.Kind != EventStoreCall {
			kinds = append(kinds, e.Kind.String()+":"+e.UserID)
		}
	}))
	v := loginAs(t, m, "hank")
	kinds = nil
	run(m, v, func(s *Session) { s.Login("ida") })
	for _, k := range kinds {
		if k == "destroyed:hank" {
			return
		}
	}
	t.Errorf("events of a Login as ida over hank's session: %v, want destroyed:hank among them", kinds)
}

// TestDestroyOthersSparesOwnRenewal: tab A asks to log out the other devices while
// tab B of the same browser renews the session: A's DestroyOthers is
// refused (its session is no longer live), and the session B renewed to,
// the browser's, stays.
func TestDestroyOthersSparesOwnRenewal(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	x := loginAs(t, m, "jane")
	var y string
	run(m, x, func(s *Session) {
		_ = s.UserID()
		_, y = run(m, x, func(s *Session) { _ = s.UserID(); s.Renew() }) // tab B
		s.DestroyOthers()
	})
	if y == x || !live(t, st, y) {
		t.Error("DestroyOthers of a session ended the session it was renewed to")
	}
}
