package sessions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	ok, err := st.Exists(context.Background(), handle(id))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestReviewDestroyOthersFromDeadSession: a request that read its session
// before that session was destroyed still carries out DestroyOthers at
// commit, ending sessions of the user that were logged in after the
// destroy (here: after DestroyUser). A destroyed ID keeps the power to log
// the user out everywhere.
func TestReviewDestroyOthersFromDeadSession(t *testing.T) {
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

// TestReviewDestroyUserCorruptIndexFailsOpen: when the user's index cannot
// be read (ErrCorrupt), DestroyUser returns nil and ends nothing: the
// caller is told the user was logged out everywhere while every session
// stays live.
func TestReviewDestroyUserCorruptIndexFailsOpen(t *testing.T) {
	mem := newTestMemoryStore(t)
	m := New(corruptIndexStore{mem})
	id := loginAs(t, m, "bob")
	err := m.DestroyUser(context.Background(), "bob")
	if err == nil && live(t, mem, id) {
		t.Error("DestroyUser returned nil, and bob's session is still live")
	}
}

// TestReviewLoginAsOtherRacingDestroy: G2 says a Login and a Destroy of the
// same session that race end the session, whichever commits first. A Login
// as another user that commits after the Destroy still leaves a live
// session (the Login on an unbound session is refused in the same race).
func TestReviewLoginAsOtherRacingDestroy(t *testing.T) {
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

// TestReviewPerSessionIdleTouchesEveryRequest: with no Manager idle timeout
// the touch interval is 0, so a session given its own idle timeout by
// SetIdleTimeout writes to the store on every read-only request (G4: at
// most once per touch interval, documented as a minute).
func TestReviewPerSessionIdleTouchesEveryRequest(t *testing.T) {
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

// TestReviewDestroyedEventLacksUser: the EventDestroyed of a Destroy never
// carries the user (Destroy resets the metadata before the commit emits).
func TestReviewDestroyedEventLacksUser(t *testing.T) {
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

// TestReviewRefusedErrorStutters: the error Commit returns for a refused
// write reads "sessions: ... sessions: ...".
func TestReviewRefusedErrorStutters(t *testing.T) {
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

// slowWriteStore makes every Write take a while, so that a Commit on one
// goroutine is still running when the handler writes its response.
type slowWriteStore struct{ Store }

func (s slowWriteStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	time.Sleep(100 * time.Millisecond)
	return s.Store.Write(ctx, id, ch, ttl)
}

// TestReviewCommitRacesResponse: Session is documented as safe for use by
// several goroutines of one request, but Commit reads the response
// writer's state and adds to its header map without a lock, so a Commit on
// a worker goroutine races the handler's first Write (run with -race).
func TestReviewCommitRacesResponse(t *testing.T) {
	m := New(slowWriteStore{newTestMemoryStore(t)})
	srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Set("a", "1")
			_ = s.Commit()
		}()
		time.Sleep(20 * time.Millisecond) // no happens-before edge, on purpose
		w.Write([]byte("hello"))
		<-done
	}))
	send(t, http.MethodGet, srv.URL, m.CookieName(), "")
}

// TestReviewFixatedIDEndsLoggedInSession: an ID planted before Login
// (session fixation) is worthless for access after the Login, as G2 wants,
// but its holder can still end the victim's logged-in session, long after
// the Login committed, by sending a logout with it: Destroy follows the
// successor record for the whole tombstone lifetime.
func TestReviewFixatedIDEndsLoggedInSession(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	_, planted := run(m, "", func(s *Session) { s.Set("theme", "dark") }) // the attacker's session
	_, victim := run(m, planted, func(s *Session) { s.Login("victim") })
	if victim == planted || !live(t, st, victim) {
		t.Fatal("Login did not move the session")
	}
	time.Sleep(10 * time.Millisecond) // well after the Login committed
	run(m, planted, func(s *Session) { s.Destroy() })
	if !live(t, st, victim) {
		t.Error("a logout with the pre-login (planted) ID ended the victim's logged-in session")
	}
}

// TestReviewIndexGrowsWithRenews: Renew adds the new handle to the user's
// index and never removes the old one; only a Login prunes, and only
// entries past their deadline. A user who stays logged in and renews keeps
// every renewed-away handle in the index for longer than a lifetime, and
// DestroyUser pays a Remove and a Read for each.
func TestReviewIndexGrowsWithRenews(t *testing.T) {
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

// TestReviewLoginAsOtherDropsRememberMe: a login form that calls
// RememberMe(false) and then Login(u) on a browser still bound to another
// user gets the Manager's default (a persistent cookie), not its choice:
// the choice made by this request is dropped with the other user's
// metadata.
func TestReviewLoginAsOtherDropsRememberMe(t *testing.T) {
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

// TestReviewUnknownIDLogoutLeavesTombstones: a logout carrying a
// well-formed ID that no store knows (any client can mint one) leaves a
// tombstone that lasts the whole lifetime, so unauthenticated logouts grow
// the store without bound. An unknown ID can never be written (new IDs are
// fresh), so its tombstone protects nothing.
func TestReviewUnknownIDLogoutLeavesTombstones(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	for i := 0; i < 1000; i++ {
		forged, _ := newID()
		run(m, forged, func(s *Session) { s.Destroy() })
	}
	if n := MemoryStoreEntries(st); n > 0 {
		t.Errorf("1000 logouts with forged IDs left %d entries in the store for a lifetime", n)
	}
}

// TestReviewManagerCallsIgnoreCancel: UserSessions, DestroySession and
// DestroyUser are called with the caller's context, yet a cancelled one
// still makes every store call and returns nil: the Manager strips the
// cancellation (context.WithoutCancel) that only the commit path needs.
func TestReviewManagerCallsIgnoreCancel(t *testing.T) {
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

// TestReviewLoginAsOtherEmitsNoDestroyed: Login as another user ends the
// first user's session "as Destroy", but no EventDestroyed tells an audit
// log that the first user's session ended.
func TestReviewLoginAsOtherEmitsNoDestroyed(t *testing.T) {
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

// TestReviewDestroyOthersEndsOwnRenewal: tab A asks to log out the other
// devices while tab B of the same browser renews the session. A's commit
// runs DestroyOthers for the old ID, which is no longer live, and ends the
// session B renewed to: the browser is logged out of the device it kept.
func TestReviewDestroyOthersEndsOwnRenewal(t *testing.T) {
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
