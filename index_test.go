package sessions

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestIndexCostsAfterManyLogouts: the store calls of a Login, UserSessions
// and DestroyUser depend on the user's live sessions, not on how many
// sessions the user logged out of before.
func TestIndexCostsAfterManyLogouts(t *testing.T) {
	cs := &countingStore{Store: newTestMemoryStore(t)}
	m := New(cs)
	calls := func(f func()) int64 {
		cs.take()
		f()
		n := cs.take()
		return n.reads + n.writes + n.removes
	}
	costs := func(user string) string {
		login := calls(func() { loginAs(t, m, user) })
		list := calls(func() { m.UserSessions(context.Background(), user) })
		destroy := calls(func() { m.DestroyUser(context.Background(), user) })
		return fmt.Sprintf("Login %d, UserSessions %d, DestroyUser %d", login, list, destroy)
	}
	for _, u := range []string{"fresh", "busy"} {
		loginAs(t, m, u)
		loginAs(t, m, u)
	}
	for i := 0; i < 300; i++ {
		id := loginAs(t, m, "busy")
		_, id = run(m, id, func(s *Session) { _ = s.UserID(); s.Renew() })
		run(m, id, func(s *Session) { s.Destroy() })
	}
	want, got := costs("fresh"), costs("busy")
	t.Logf("with 2 live sessions: %s; after 300 login/renew/logout cycles: %s", want, got)
	if got != want {
		t.Errorf("store calls after 300 login/renew/logout cycles: %s, want those of a user who never logged out: %s", got, want)
	}
}

// TestExpiredAtCommitKeepsValues: a session that the Manager's clock finds
// past its lifetime at commit (its clock a second ahead of the store's) does
// not lose the values the request set: they start a new session.
func TestExpiredAtCommitKeepsValues(t *testing.T) {
	clock := newTestClock()
	m := New(newTestMemoryStore(t), WithClock(clock.Now), WithLifetime(time.Hour))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	var next string
	w, _ := run(m, id, func(s *Session) {
		_ = s.GetString("a")
		clock.Advance(time.Hour)
		s.Set("cart", "book")
	})
	for _, c := range w.Result().Cookies() {
		next = c.Value
	}
	if next == "" || next == id {
		t.Fatalf("a write to a session that expired during the request sent cookie %q, want a new session", next)
	}
	run(m, next, func(s *Session) {
		if got := s.GetString("cart"); got != "book" {
			t.Errorf("the new session holds cart %q, want the value the request set", got)
		}
	})
}
