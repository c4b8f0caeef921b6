package sessions

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDestroyAlwaysHappens: a Destroy followed by a value the codec cannot
// encode still ends the session; the encode error goes to the error handler.
func TestDestroyAlwaysHappens(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	_, id := run(m, "", func(s *Session) { s.Set("user", "alice") })
	w, _ := run(m, id, func(s *Session) {
		s.Destroy()
		s.Set("bad", math.NaN())
	})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500 for the encode error", w.Code)
	}
	if ok, _ := has(context.Background(), st, handle(id)); ok {
		t.Fatal("the session is live after Destroy followed by an unencodable Set")
	}
}

// TestUnchangedKeyNotWritten: a key set to another value and back is not
// written, so a concurrent change of that key stands.
func TestUnchangedKeyNotWritten(t *testing.T) {
	st := &countingStore{Store: newTestMemoryStore(t)}
	m := New(st)
	_, id := run(m, "", func(s *Session) { s.Set("role", "admin") })
	st.take()
	run(m, id, func(s *Session) {
		_ = s.GetString("role")
		// Another request demotes the user meanwhile.
		if err := st.Store.Write(context.Background(), handle(id), Change{Set: Record{"role": []byte(`"user"`)}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		s.Set("role", "guest")
		s.Set("role", "admin")
	})
	if n := st.take(); n.writes != 0 {
		t.Errorf("a key set back to the value read was written (%d writes)", n.writes)
	}
	rec, _ := readRecord(t, st, id)
	if string(rec["role"]) != `"user"` {
		t.Fatalf("role = %s, want the concurrent demotion to stand", rec["role"])
	}
}

// TestLateRememberMeFails: RememberMe after the first byte cannot re-send
// the cookie, so it fails to the error handler like every late change that
// needs one.
func TestLateRememberMeFails(t *testing.T) {
	var got error
	m := New(newTestMemoryStore(t), WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) { got = err }))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body"))
		Get(r).RememberMe(false)
	})).ServeHTTP(newRecorder(), newRequest(m.CookieName()+"="+id))
	if !errors.Is(got, ErrHeadersWritten) {
		t.Fatalf("late RememberMe gave %v to the error handler, want ErrHeadersWritten", got)
	}
	if msg := got.Error(); strings.Count(msg, "sessions:") != 1 {
		t.Errorf("error message %q does not read once", msg)
	}
}

// TestClearNeverRecreates: a Clear whose session expired while the request
// ran does not bring the old ID back; its values start a new session.
func TestClearNeverRecreates(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	_, id := run(m, "", func(s *Session) { s.Set("user", "alice") })
	w, newID := run(m, id, func(s *Session) {
		_ = s.GetString("user")
		// The record expires (or is evicted) while the request runs.
		if err := st.Write(context.Background(), handle(id), Change{}, -time.Second); err != nil {
			t.Fatal(err)
		}
		s.Clear()
		s.Set("theme", "dark")
	})
	if ok, _ := has(context.Background(), st, handle(id)); ok {
		t.Fatal("Clear recreated a session that was gone")
	}
	if newID == id || newID == "" {
		t.Fatalf("Clear of a gone session: cookie %q, want a fresh ID", w.Header().Values("Set-Cookie"))
	}
	rec, err := readRecord(t, st, newID)
	if err != nil || string(rec["theme"]) != `"dark"` || rec["user"] != nil {
		t.Fatalf("the new session holds %q (%v), want only the values set after Clear", rec, err)
	}
}

// TestCommitReportsTheOutcome: Commit returns nil, ErrInvalidated when the
// session ended meanwhile, or the store's error.
func TestCommitReportsTheOutcome(t *testing.T) {
	st := &failingStore{Store: newTestMemoryStore(t)}
	m := New(st)
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	var errs []error
	commit := func(s *Session) { errs = append(errs, s.Commit()) }
	run(m, id, func(s *Session) { s.Set("a", "2"); commit(s) })
	run(m, id, func(s *Session) {
		_ = s.GetString("a")
		if err := st.Store.Remove(context.Background(), handle(id), time.Hour); err != nil {
			t.Fatal(err)
		}
		s.Set("a", "3")
		commit(s)
	})
	_, id2 := run(m, "", func(s *Session) { s.Set("a", "1") })
	st.failWrite = true
	run(m, id2, func(s *Session) { s.Set("a", "2"); commit(s) })
	if errs[0] != nil || !errors.Is(errs[1], ErrInvalidated) || !errors.Is(errs[2], errStoreDown) {
		t.Fatalf("Commit gave %v, want nil, ErrInvalidated, the store's error", errs)
	}
}

// TestUserCosts counts the store calls of the user API: a request that does
// not Login or Destroy pays nothing extra, Login costs at most two more
// calls than Renew, and DestroyUser is in proportion to the sessions.
func TestUserCosts(t *testing.T) {
	st := &countingStore{Store: newTestMemoryStore(t)}
	m := New(st)
	var ids []string
	for i := 0; i < 3; i++ {
		_, id := run(m, "", func(s *Session) { s.Login("alice") })
		ids = append(ids, id)
	}
	_, anon := run(m, "", func(s *Session) { s.Set("a", "1") })
	st.take()
	calls := func(f func()) int64 {
		f()
		n := st.take()
		return n.reads + n.writes + n.removes
	}
	read := calls(func() { run(m, ids[0], func(s *Session) { _ = s.GetString("a") }) })
	renew := calls(func() { _, anon = run(m, anon, func(s *Session) { s.Renew() }) })
	login := calls(func() { run(m, anon, func(s *Session) { s.Login("bob") }) })
	destroyUser := calls(func() {
		if err := m.DestroyUser(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("store calls: read %d, renew %d, login %d, DestroyUser of 3 sessions %d", read, renew, login, destroyUser)
	if read != 1 || login > renew+2 || destroyUser != 1+3+1 {
		t.Errorf("store calls: read %d (want 1), login %d (want <= renew %d + 2), DestroyUser %d (want 5)", read, login, renew, destroyUser)
	}
}
