package redisstore

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// roundTripApp is the handler of the HTTP round-trip test:
//
//	/none      never touches the session
//	/read      reads a value
//	/set       reads nothing, sets a value
//	/read-set  reads a value, then sets one
//	/destroy   destroys without reading
//	/renew     renews (which reads)
func roundTripApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sessions.Get(r).GetString("k")) })
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Set("k", r.URL.Query().Get("v")) })
	mux.HandleFunc("/read-set", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Set("n", s.GetInt("n")+1)
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Destroy() })
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Renew() })
	return mux
}

// TestRoundTripsHTTP counts the Redis round trips of each kind of request
// through the middleware.
func TestRoundTripsHTTP(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		st := e.store()
		if err := st.LoadScripts(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock := newTestClock()
		m := sessions.New(st, sessions.WithIdleTimeout(30*time.Minute), sessions.WithTouchInterval(time.Minute),
			sessions.WithCookieSecure(false), sessions.WithClock(clock.Now),
			sessions.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if m.CookieName() != "session" {
			t.Fatalf("cookie name %q, want session", m.CookieName())
		}
		c := newClient(t, serve(t, m, roundTripApp()), m)
		step := func(path string, status, want int, what string) result {
			t.Helper()
			e.calls.take()
			res := c.get(path)
			got := e.calls.take()
			if res.status != status {
				t.Fatalf("%s: GET %s status %d, want %d", what, path, res.status, status)
			}
			if len(got) != want {
				t.Errorf("%s: GET %s made %d round trips %q, want %d", what, path, len(got), got, want)
			}
			for _, name := range got {
				if name != "evalsha" && name != "hgetall" {
					t.Errorf("%s: GET %s sent %q, want only EVALSHA and HGETALL", what, path, got)
					break
				}
			}
			t.Logf("%-40s %d round trips %q", what, len(got), got)
			return res
		}

		step("/none", 200, 0, "no cookie, session untouched")
		step("/read", 200, 0, "no cookie, read (nothing to read)")
		step("/set?v=a", 200, 1, "new session")
		if c.id == "" {
			t.Fatal("a new session set no cookie")
		}
		step("/none", 200, 0, "cookie, session untouched")
		if res := step("/read", 200, 1, "read-only, inside the touch interval"); res.body != "a" {
			t.Fatalf("read %q, want a", res.body)
		}
		step("/set?v=b", 200, 1, "modified existing session (blind set)")
		step("/read-set", 200, 2, "modified existing session (read, set)")
		clock.Advance(2 * time.Minute)
		step("/read", 200, 2, "read-only, touch interval passed")
		step("/read", 200, 1, "read-only, right after the touch")
		step("/renew", 200, 4, "renew (successor, new record, remove)")
		if res := step("/read", 200, 2, "first read after renew (presents the new ID)"); res.body != "b" {
			t.Fatalf("after renew read %q, want b", res.body)
		}
		step("/read", 200, 1, "second read after renew")
		old := c.id
		step("/destroy", 200, 2, "destroy without reading (Destroy reads)")
		if c.id != "" {
			t.Fatal("destroy did not delete the cookie")
		}
		c.id = old
		step("/read", 200, 1, "read of the destroyed ID")
		if res := step("/set?v=c", 200, 1, "blind set with the destroyed ID (refused)"); len(res.setCookie) != 0 {
			t.Fatalf("a refused write sent Set-Cookie %q", res.setCookie)
		}
		c.id = newSessionID(t)
		step("/set?v=c", 200, 2, "blind set with an unknown ID: new session")
		if c.id == "" {
			t.Fatal("no new session for an unknown ID")
		}
		step("/read-set", 200, 2, "modified existing session (read, set)")
		c.id = ""
		step("/set?v=d", 200, 1, "new session")
		step("/read", 200, 1, "read-only")
		c.id = "not-a-well-formed-id"
		step("/read", 200, 0, "malformed cookie")
	})
}

// TestSessionMemoryUsage reports what a small session costs in Redis: three
// user keys and the Manager's metadata.
func TestSessionMemoryUsage(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		if e.kind == kindMini {
			return // miniredis has no MEMORY USAGE: the real servers report it
		}
		st := e.store()
		m := sessions.New(st, sessions.WithCookieSecure(false))
		srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessions.Get(r)
			s.Set("user_id", 12345)
			s.Set("name", "Alice Example")
			s.Set("csrf", "q3ZbYj2bD5kU0y7mX1wNfA")
		}))
		c := newClient(t, srv, m)
		c.get("/")
		if c.id == "" {
			t.Fatal("no session")
		}
		ctx := context.Background()
		key := e.key(handleOf(c.id))
		fields, err := e.client.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.client.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, handleOf(c.id), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		nt, err := e.client.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("session hash with %d fields %v: MEMORY USAGE %d bytes; tombstone: %d bytes", len(fields), fields, n, nt)
	})
}

// TestPerSessionLifetime: the record's TTL follows the session's own
// lifetime, shorter than the Manager's.
func TestPerSessionLifetime(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		m := sessions.New(e.store(), sessions.WithLifetime(24*time.Hour))
		_, id := run(m, "", func(s *sessions.Session) { s.Set("a", "1"); s.SetLifetime(time.Minute) })
		ttl, err := e.client.PTTL(context.Background(), e.key(handleOf(id))).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Fatalf("record TTL %v (%v), want at most the session's own minute", ttl, err)
		}
	})
}

// TestIndexOutlivesLongerSessions: servers with different lifetimes (a
// rolling deploy) share one store; the index written by the server with
// the shorter lifetime must not expire before a session of the other, or a
// log out everywhere would miss it. Redis expires the keys by its own
// clock, which miniredis lets the test advance.
func TestIndexOutlivesLongerSessions(t *testing.T) {
	e := newEnv(t, kindMini)
	st := e.store()
	clock := newTestClock()
	long := sessions.New(st, sessions.WithClock(clock.Now), sessions.WithLifetime(30*24*time.Hour))
	short := sessions.New(st, sessions.WithClock(clock.Now), sessions.WithLifetime(time.Hour))
	kept := loginAs(t, long, "grace")
	loginAs(t, short, "grace")
	clock.Advance(2 * time.Hour)
	e.mini.FastForward(2 * time.Hour)
	if err := long.DestroyUser(context.Background(), "grace"); err != nil {
		t.Fatal(err)
	}
	if live(t, st, kept) {
		t.Error("a session of the longer lifetime outlived its user's index: DestroyUser missed it")
	}
}

// TestKeyOfAnotherTypeThroughManager: a key of another type where a
// session's record belongs reads as no session, so a request that reads
// gets an empty session and its writes start a new one under a fresh ID.
// A request that writes without reading first gets the error handler's
// response, and an error log record that names the key. The key is left
// as it was throughout.
func TestKeyOfAnotherTypeThroughManager(t *testing.T) {
	e := newEnv(t, kindMini)
	var logs logBuffer
	m := sessions.New(e.store(), sessions.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	id := newSessionID(t)
	key := e.key(handleOf(id))
	ctx := context.Background()
	if err := e.client.Set(ctx, key, "not a hash", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if w, _ := run(m, id, func(s *sessions.Session) { _ = s.GetString("a") }); w.Code != http.StatusOK {
		t.Fatalf("a read with a key of the wrong type: status %d, want 200", w.Code)
	}
	w, got := run(m, id, func(s *sessions.Session) { _ = s.GetString("a"); s.Set("a", "1") })
	if w.Code != http.StatusOK || got == id || got == "" {
		t.Fatalf("a read and a write with a key of the wrong type: status %d, ID adopted: %v, want 200 and a new session", w.Code, got == id)
	}
	w, got = run(m, id, func(s *sessions.Session) { s.Set("a", "1") })
	if w.Code != http.StatusInternalServerError || got != id {
		t.Fatalf("a write without a read to a key of the wrong type: status %d, new ID: %v, want 500 and no new session", w.Code, got != id)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), key) {
		t.Errorf("the refused write logged no error naming %s:\n%s", key, logs.String())
	}
	if v, err := e.client.Get(ctx, key).Result(); err != nil || v != "not a hash" {
		t.Fatalf("the key holds %q (%v), want the string left as it was", v, err)
	}
}
