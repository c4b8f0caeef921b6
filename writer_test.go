package sessions

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWriterPaths: the cookie of a session created before the first
// byte goes out with the final headers whatever way the response starts:
// an Early Hints 103 first, a ResponseController Flush, ReadFrom, or
// WriteHeader after Commit.
func TestWriterPaths(t *testing.T) {
	m := New(newTestMemoryStore(t), WithCookieSecure(false))
	mux := http.NewServeMux()
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		Get(r).Set("a", "1")
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/rcflush", func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/readfrom", func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		io.Copy(w, strings.NewReader("body"))
	})
	mux.HandleFunc("/commit", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		s.Set("a", "1")
		if err := s.Commit(); err != nil {
			t.Error(err)
		}
		s.Set("b", "2")
		w.WriteHeader(http.StatusNoContent)
		s.Set("c", "3") // after the headers: no cookie needed, still stored
	})
	srv := serve(t, m, mux)
	for _, p := range []string{"/hints", "/rcflush", "/readfrom", "/commit"} {
		res := send(t, http.MethodGet, srv.URL+p, m.CookieName(), "")
		id, _ := res.cookieID(m.CookieName())
		if id == "" {
			t.Errorf("%s: no cookie (%v)", p, res.setCookie)
			continue
		}
		if n := len(res.setCookie); n != 1 {
			t.Errorf("%s: %d Set-Cookie headers", p, n)
		}
		if p == "/commit" {
			rec, err := m.store.Read(context.Background(), handle(id))
			if err != nil || rec["b"] == nil || rec["c"] == nil {
				t.Errorf("/commit: stored %v, %v", rec, err)
			}
		}
	}
}

// TestHeaderTransportLateSetLifetime: with WithHeader no cookie is ever set, so a
// SetLifetime after the first byte needs none and is stored.
func TestHeaderTransportLateSetLifetime(t *testing.T) {
	var got error
	m := New(newTestMemoryStore(t), WithHeader("X-Session"),
		WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) { got = err }))
	w := newRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Get(r).Set("a", "1") })).ServeHTTP(w, newRequest(""))
	id := w.Header().Get("X-Session")
	if id == "" {
		t.Fatal("no ID in the header")
	}
	r := newRequest("")
	r.Header.Set("X-Session", id)
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("streaming"))
		s := Get(r)
		s.Set("b", "2")
		s.SetLifetime(time.Hour)
	})).ServeHTTP(newRecorder(), r)
	if got != nil {
		t.Errorf("late SetLifetime with the header transport failed: %v", got)
	}
}

// TestHugeStoredIdleIsCapped: a record whose __idle is huge (corrupt, or
// written under an older configuration) is capped at the Manager's idle
// timeout when read, so the session still idles out.
func TestHugeStoredIdleIsCapped(t *testing.T) {
	clock := newTestClock()
	st := newTestMemoryStore(t)
	m := New(st, WithClock(clock.Now), WithIdleTimeout(time.Hour), WithLifetime(48*time.Hour))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	if err := st.Write(context.Background(), handle(id), Change{Set: Record{keyIdle: []byte("9000000000000")}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour)
	var v string
	run(m, id, func(s *Session) { v = s.GetString("a") })
	if v != "" {
		t.Error("a session idle for 3h read as live under a 1h idle timeout (its record's __idle is not capped)")
	}
}
