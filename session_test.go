package sessions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return r
}

// run serves one request carrying the session id through m with f as the
// handler, and returns the recorded response and the session's ID after it.
func run(m *Manager, id string, f func(s *Session)) (*httptest.ResponseRecorder, string) {
	cookie := ""
	if id != "" {
		cookie = m.CookieName() + "=" + id
	}
	w := newRecorder()
	var s *Session
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s = Get(r)
		f(s)
	})).ServeHTTP(w, newRequest(cookie))
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge >= 0 {
			return w, c.Value
		}
	}
	return w, id
}

func TestValues(t *testing.T) {
	m := New(newTestMemoryStore(t))
	when := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	_, id := run(m, "", func(s *Session) {
		s.Set("str", "hello")
		s.Set("int", 42)
		s.Set("i64", int64(1)<<60)
		s.Set("f", 2.5)
		s.Set("bool", true)
		s.Set("time", when)
		s.Set("bytes", []byte{0, 1, 2})
		s.Set("flash", "saved")
		s.Set("struct", struct{ A int }{7})
		s.Set("gone", "x")
		s.Delete("gone")
	})
	if id == "" {
		t.Fatal("no session created")
	}
	run(m, id, func(s *Session) {
		checks := []struct {
			name string
			got  any
			want any
		}{
			{"GetString", s.GetString("str"), "hello"},
			{"GetInt", s.GetInt("int"), 42},
			{"GetInt64", s.GetInt64("i64"), int64(1) << 60},
			{"GetFloat64", s.GetFloat64("f"), 2.5},
			{"GetFloat64 of int", s.GetFloat64("int"), 42.0},
			{"GetBool", s.GetBool("bool"), true},
			{"GetTime", s.GetTime("time").Equal(when), true},
			{"GetBytes", s.GetBytes("bytes"), []byte{0, 1, 2}},
			{"Get", s.Get("str"), "hello"},
			{"Get number", s.Get("int"), 42.0},
			{"Get missing", s.Get("missing"), nil},
			{"GetString missing", s.GetString("missing"), ""},
			{"GetInt of string", s.GetInt("str"), 0},
			{"GetString of int", s.GetString("int"), ""},
			{"GetBool of string", s.GetBool("str"), false},
			{"GetInt of float", s.GetInt("f"), 0},
			{"GetTime of int", s.GetTime("int"), time.Time{}},
			{"Has", s.Has("str"), true},
			{"Has deleted", s.Has("gone"), false},
			{"Keys", s.Keys(), []string{"bool", "bytes", "f", "flash", "i64", "int", "str", "struct", "time"}},
			{"PopString", s.PopString("flash"), "saved"},
			{"Has after Pop", s.Has("flash"), false},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
			}
		}
		var dst struct{ A int }
		if err := s.Decode("struct", &dst); err != nil || dst.A != 7 {
			t.Errorf("Decode = %v, %+v", err, dst)
		}
		if err := s.Decode("missing", &dst); !errors.Is(err, ErrNoValue) {
			t.Errorf("Decode missing = %v, want ErrNoValue", err)
		}
		var n int
		if err := s.Decode("str", &n); err == nil {
			t.Error("Decode of a string into an int gave no error")
		}
	})
	run(m, id, func(s *Session) {
		if s.Has("flash") {
			t.Error("popped flash came back")
		}
		s.Clear()
		if len(s.Keys()) != 0 {
			t.Errorf("Keys after Clear = %v", s.Keys())
		}
		s.Set("after", "clear")
	})
	run(m, id, func(s *Session) {
		if got := s.Keys(); !reflect.DeepEqual(got, []string{"after"}) {
			t.Errorf("Keys after Clear and Set = %v", got)
		}
	})
}

func TestPopVariants(t *testing.T) {
	m := New(newTestMemoryStore(t))
	when := time.Unix(1700000000, 0).UTC()
	_, id := run(m, "", func(s *Session) {
		for k, v := range map[string]any{"s": "x", "i": 1, "i64": int64(2), "f": 1.5, "b": true, "t": when, "y": []byte("z"), "a": "any"} {
			s.Set(k, v)
		}
	})
	run(m, id, func(s *Session) {
		got := []any{s.PopString("s"), s.PopInt("i"), s.PopInt64("i64"), s.PopFloat64("f"), s.PopBool("b"), s.PopTime("t").Equal(when), s.PopBytes("y"), s.Pop("a")}
		want := []any{"x", 1, int64(2), 1.5, true, true, []byte("z"), "any"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Pop values %#v, want %#v", got, want)
		}
	})
	run(m, id, func(s *Session) {
		if keys := s.Keys(); len(keys) != 0 {
			t.Errorf("keys left after popping all: %v", keys)
		}
	})
}

func TestReservedKeyPanics(t *testing.T) {
	m := New(newTestMemoryStore(t))
	for name, f := range map[string]func(s *Session){
		"Set":    func(s *Session) { s.Set("__created", 1) },
		"Delete": func(s *Session) { s.Delete(DeadlineKey) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "reserved") {
					t.Fatalf("%s of a reserved key: recover() = %v", name, r)
				}
			}()
			run(m, "", f)
		})
	}
}

func TestGetWithoutMiddlewarePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "Handler") {
			t.Fatalf("recover() = %v, want a message naming the middleware", r)
		}
	}()
	Get(newRequest(""))
}

func TestFromContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("FromContext found a session in a bare context")
	}
	m := New(newTestMemoryStore(t))
	run(m, "", func(s *Session) {})
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type otherKey struct{}
		ctx := context.WithValue(r.Context(), otherKey{}, 1)
		if s, ok := FromContext(ctx); !ok || s != Get(r) {
			t.Error("FromContext lost the session through a derived context")
		}
	})).ServeHTTP(newRecorder(), newRequest(""))
}

func TestEncodeFailure(t *testing.T) {
	st := &countingStore{Store: newTestMemoryStore(t)}
	logs := &logBuffer{}
	m := New(st, WithLogger(logs.logger()))
	w, _ := run(m, "", func(s *Session) { s.Set("ch", make(chan int)) })
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d for a value the codec cannot encode, want 500", w.Code)
	}
	if n := st.take(); n.writes != 0 {
		t.Fatal("a request with an unencodable value wrote to the store")
	}
	if !strings.Contains(logs.String(), "ch") {
		t.Fatalf("log does not name the key: %s", logs)
	}
}

// TestUnknownIDNotAdopted: a well-formed ID the store does not know is never
// adopted; the session written gets a fresh ID (G7).
func TestUnknownIDNotAdopted(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	unknown, _ := newID()
	_, id := run(m, unknown, func(s *Session) {
		if s.ID() != "" {
			t.Error("unknown ID reported as the session's ID")
		}
		s.Set("a", "1")
	})
	if id == unknown || id == "" {
		t.Fatalf("session ID after write %q: the unknown ID was adopted", id)
	}
	if ok, _ := has(context.Background(), st, handle(unknown)); ok {
		t.Fatal("the unknown ID was created in the store")
	}
}

func TestNewIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id, err := newID()
		if err != nil {
			t.Fatal(err)
		}
		if !validID(id) || seen[id] {
			t.Fatalf("ID %q invalid or repeated", id)
		}
		seen[id] = true
	}
}

// TestExpiry: idle and absolute expiry are enforced from the metadata in the
// store, with a fake clock (G8).
func TestExpiry(t *testing.T) {
	clock := newTestClock()
	st := newTestMemoryStore(t)
	m := New(st, WithIdleTimeout(30*time.Minute), WithLifetime(2*time.Hour), WithClock(clock.Now))
	_, id := run(m, "", func(s *Session) { s.Set("user", "alice") })
	user := func() string {
		var u string
		run(m, id, func(s *Session) { u = s.GetString("user") })
		return u
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{29 * time.Minute, "alice"}, // inside the idle timeout: touched
		{29 * time.Minute, "alice"}, // 58 minutes in, 29 since the touch
		{29 * time.Minute, "alice"},
		{29 * time.Minute, "alice"}, // 116 minutes in
		{5 * time.Minute, ""},       // 121 minutes: past the absolute lifetime
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if got := user(); got != s.want {
			t.Fatalf("step %d: user %q, want %q", i, got, s.want)
		}
	}

	_, id = run(m, "", func(s *Session) { s.Set("user", "bob") })
	clock.Advance(31 * time.Minute)
	if got := user(); got != "" {
		t.Fatalf("idle for 31 minutes: user %q, want none", got)
	}
	// The store's own clock has not moved, so its record is still there: a
	// request that reads first must not adopt it.
	_, newID := run(m, id, func(s *Session) { s.GetString("user"); s.Set("x", 1) })
	if newID == id {
		t.Fatal("an expired session's ID was written again")
	}
}

// TestCookieExpiryFollowsLifetime: the cookie's Max-Age is the absolute
// lifetime when issued; a browser-session cookie has none.
func TestCookieExpiryFollowsLifetime(t *testing.T) {
	m := New(newTestMemoryStore(t), WithLifetime(time.Hour))
	w, id := run(m, "", func(s *Session) { s.Set("a", 1) })
	c := w.Result().Cookies()[0]
	if c.MaxAge != 3600 {
		t.Fatalf("Max-Age %d, want 3600", c.MaxAge)
	}
	w, _ = run(m, id, func(s *Session) { s.RememberMe(false) })
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].MaxAge != 0 || !cs[0].Expires.IsZero() || cs[0].Value != id {
		t.Fatalf("RememberMe(false) cookie %q, want a browser-session cookie for the same ID", w.Header().Values("Set-Cookie"))
	}
	w, id2 := run(m, id, func(s *Session) { s.Renew() })
	cs = w.Result().Cookies()
	if id2 == id || len(cs) != 1 || cs[0].MaxAge != 0 {
		t.Fatalf("after Renew the remember-me choice was lost: %q", w.Header().Values("Set-Cookie"))
	}
	m2 := New(newTestMemoryStore(t), WithCookiePersistent(false))
	w, _ = run(m2, "", func(s *Session) { s.Set("a", 1) })
	if c := w.Result().Cookies()[0]; c.MaxAge != 0 {
		t.Fatalf("WithCookiePersistent(false): Max-Age %d", c.MaxAge)
	}
}

// TestStoreFailures: every store failure gives the error handler's 500 and
// an Error log record; a failed read writes nothing (G9).
func TestStoreFailures(t *testing.T) {
	tookWrite := false
	cases := []struct {
		name  string
		store failingStore
		f     func(s *Session)
	}{
		{"read fails", failingStore{failRead: true}, func(s *Session) { s.GetString("a") }},
		{"read fails, then set", failingStore{failRead: true}, func(s *Session) {
			s.Set("a", "new")
			if s.Err() == nil || s.GetString("a") != "" {
				tookWrite = true
			}
		}},
		{"write fails", failingStore{failWrite: true}, func(s *Session) { s.Set("a", "new") }},
		{"remove fails", failingStore{failRemove: true}, func(s *Session) { s.Destroy() }},
		{"renew fails", failingStore{failRemove: true}, func(s *Session) { s.Renew() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := newTestMemoryStore(t)
			m0 := New(mem)
			_, id := run(m0, "", func(s *Session) { s.Set("a", "old") })
			c.store.Store = mem
			logs := &logBuffer{}
			m := New(&c.store, WithLogger(logs.logger()))
			w, _ := run(m, id, c.f)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", w.Code)
			}
			if tookWrite {
				t.Fatal("a session that could not be read took a write")
			}
			if len(w.Result().Cookies()) != 0 {
				t.Fatal("a failed commit set a cookie")
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "store down") {
				t.Fatalf("no error log record: %s", logs)
			}
			if readFailed := strings.Contains(logs.String(), `msg="session read failed"`); readFailed != c.store.failRead {
				t.Fatalf("a failure of the read logged as a read failure: %v, want %v: %s", readFailed, c.store.failRead, logs)
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
				t.Fatalf("%d error log records for one failure, want 1: %s", n, logs)
			}
			rec, err := mem.Read(context.Background(), handle(id))
			if err != nil || string(rec["a"]) != `"old"` {
				t.Fatalf("stored session after the failure: %q %v", rec, err)
			}
		})
	}
}

// TestBadCookies: malformed and oversized cookies cost no store call and no
// error; the request gets an empty session (G10).
func TestBadCookies(t *testing.T) {
	valid, _ := newID()
	cases := map[string]string{
		"empty":           "",
		"short":           "abc",
		"one char long":   valid + "A",
		"one char short":  valid[:42],
		"bad character":   valid[:20] + "!" + valid[21:],
		"padding":         valid[:42] + "=",
		"stray bits":      valid[:42] + "B",
		"oversized":       strings.Repeat("A", 64<<10),
		"binary":          "\x00\x01\xff" + valid[3:],
		"spaces":          " " + valid[1:],
		"unicode":         valid[:41] + "é",
		"quote":           `"` + valid,
		"semicolon split": valid[:20] + ";" + valid[21:],
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			st := &countingStore{Store: newTestMemoryStore(t)}
			logs := &logBuffer{}
			m := New(st, WithLogger(logs.logger()))
			w := newRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if s := Get(r); s.GetString("a") != "" || s.ID() != "" {
					t.Error("a bad cookie gave a non-empty session")
				}
			})).ServeHTTP(w, newRequest(m.CookieName()+"="+value))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			if n := st.take(); n != (counts{}) {
				t.Fatalf("store calls %+v for a bad cookie", n)
			}
			if value != "" && name != "semicolon split" && !strings.Contains(logs.String(), "malformed") {
				t.Fatalf("malformed cookie not logged: %q", logs)
			}
		})
	}
}

// TestCorruptRecord: a record with broken metadata is a new session and a
// log record; a value that does not decode affects only its key.
func TestCorruptRecord(t *testing.T) {
	st := newTestMemoryStore(t)
	logs := &logBuffer{}
	m := New(st, WithLogger(logs.logger()))
	ctx := context.Background()
	bad, _ := newID()
	st.Write(ctx, handle(bad), Change{Mode: ModeReplace, Set: Record{"user": []byte(`"mallory"`), keyCreated: []byte("soon")}}, time.Hour)
	_, id := run(m, bad, func(s *Session) {
		if s.GetString("user") != "" {
			t.Error("corrupt record adopted")
		}
		s.Set("a", "1")
	})
	if id == bad {
		t.Fatal("corrupt record's ID reused")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "corrupt") {
		t.Fatalf("corrupt record not logged: %s", logs)
	}

	_, id = run(m, "", func(s *Session) { s.Set("good", "yes"); s.Set("broken", "x") })
	rec, _ := st.Read(ctx, handle(id))
	set := Record{"broken": []byte("{not json")}
	_ = rec
	st.Write(ctx, handle(id), Change{Set: set}, time.Hour)
	w, _ := run(m, id, func(s *Session) {
		if s.GetString("broken") != "" || s.Get("broken") != nil {
			t.Error("undecodable value did not read as absent")
		}
		if s.GetString("good") != "yes" {
			t.Error("an undecodable value spoiled another key")
		}
		var v string
		if err := s.Decode("broken", &v); err == nil {
			t.Error("Decode of an undecodable value gave no error")
		}
	})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
}

// TestCookieAttributes checks the cookie and headers of G11.
func TestCookieAttributes(t *testing.T) {
	m := New(newTestMemoryStore(t))
	w, id := run(m, "", func(s *Session) { s.Set("a", 1) })
	h := w.Header()
	line := h.Get("Set-Cookie")
	for _, want := range []string{"__Host-session=" + id, "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=86400", "Expires="} {
		if !strings.Contains(line, want) {
			t.Errorf("Set-Cookie %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "Domain") {
		t.Errorf("Set-Cookie %q has a Domain", line)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Vary") != "Cookie" {
		t.Errorf("Cache-Control %q, Vary %q", h.Get("Cache-Control"), h.Get("Vary"))
	}

	w, _ = run(m, id, func(s *Session) { s.Destroy() })
	line = w.Header().Get("Set-Cookie")
	if !strings.Contains(line, "__Host-session=;") || !strings.Contains(line, "Max-Age=0") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("logout Set-Cookie %q, Cache-Control %q", line, w.Header().Get("Cache-Control"))
	}

	w, _ = run(m, "", func(s *Session) { s.GetString("a") })
	if len(w.Header().Values("Set-Cookie")) != 0 || w.Header().Get("Cache-Control") != "" {
		t.Error("a request that wrote nothing got a cookie or cache headers")
	}

	custom := New(newTestMemoryStore(t), WithCookieName("sid"), WithCookieDomain("example.com"), WithCookieSameSite(http.SameSiteStrictMode), WithCookiePartitioned(true), WithCookiePath("/app"))
	w, _ = run(custom, "", func(s *Session) { s.Set("a", 1) })
	line = w.Header().Get("Set-Cookie")
	for _, want := range []string{"sid=", "Domain=example.com", "Path=/app", "SameSite=Strict", "Partitioned", "Secure"} {
		if !strings.Contains(line, want) {
			t.Errorf("custom Set-Cookie %q lacks %q", line, want)
		}
	}
	plain := New(newTestMemoryStore(t), WithCookieSecure(false), WithCookieHTTPOnly(false))
	if plain.CookieName() != "session" {
		t.Errorf("insecure cookie name %q, want session", plain.CookieName())
	}
}

// TestNoRawIDInLogs: whatever is logged names a session by a hash only.
func TestNoRawIDInLogs(t *testing.T) {
	logs := &logBuffer{}
	st := &failingStore{Store: newTestMemoryStore(t)}
	m := New(st, WithLogger(logs.logger()))
	const secret = "csrf-token-Zq3v9"
	_, id := run(m, "", func(s *Session) { s.Set("a", "1"); s.Set("b", "1"); s.Set("csrf", secret) })
	st.Store.Write(context.Background(), handle(id), Change{Set: Record{"b": []byte("{")}}, time.Hour)
	run(m, id, func(s *Session) { s.GetString("b"); s.GetTime("csrf"); s.GetInt("csrf") })
	st.failWrite = true
	run(m, id, func(s *Session) { s.Set("a", "2") })
	st.failWrite = false
	run(m, id, func(s *Session) { s.Destroy() })
	run(m, id, func(s *Session) { s.Set("a", "3") })
	out := logs.String()
	if !strings.Contains(out, idHash(id)) {
		t.Fatalf("logs do not name the session by its hash: %s", out)
	}
	if strings.Contains(out, id) {
		t.Fatalf("raw session ID in the logs: %s", out)
	}
	if strings.Contains(out, secret) {
		t.Fatalf("a stored value in the logs: %s", out)
	}
	if !strings.Contains(out, "does not decode") {
		t.Fatalf("a value that does not decode was not logged: %s", out)
	}
}

// TestNewRejectsBadOptions: invalid combinations panic at New with a clear
// message.
func TestNewRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"lifetime shorter than idle", []Option{WithIdleTimeout(2 * time.Hour), WithLifetime(time.Hour)}, "shorter than the idle timeout"},
		{"__Host- with Domain", []Option{WithCookieName("__Host-s"), WithCookieDomain("example.com")}, "__Host-"},
		{"__Host- without Secure", []Option{WithCookieName("__Host-s"), WithCookieSecure(false)}, "__Host-"},
		{"__Secure- without Secure", []Option{WithCookieName("__Secure-s"), WithCookieSecure(false)}, "__Secure-"},
		{"SameSite=None without Secure", []Option{WithCookieSameSite(http.SameSiteNoneMode), WithCookieSecure(false)}, "SameSite=None"},
		{"Partitioned without Secure", []Option{WithCookiePartitioned(true), WithCookieSecure(false)}, "Partitioned"},
		{"touch interval not shorter than idle", []Option{WithIdleTimeout(time.Minute), WithTouchInterval(time.Minute)}, "touch interval"},
		{"zero lifetime", []Option{WithLifetime(0)}, "lifetime"},
		{"bad cookie name", []Option{WithCookieName("a b")}, "cookie name"},
		{"empty cookie name", []Option{WithCookieName("")}, "cookie name"},
		{"relative path", []Option{WithCookiePath("app")}, "path"},
		{"zero commit timeout", []Option{WithCommitTimeout(0)}, "commit timeout"},
		{"nil codec", []Option{WithCodec(nil)}, "codec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "sessions.New: ") || !strings.Contains(msg, c.want) {
					t.Fatalf("recover() = %v, want a panic mentioning %q", r, c.want)
				}
			}()
			New(newTestMemoryStore(t), c.opts...)
		})
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New(nil) did not panic")
		}
	}()
	New(nil)
}

// TestDestroySticksWhatever: Destroy tombstones the browser's ID even when
// the read failed or a value could not be encoded earlier in the request.
func TestDestroySticksWhatever(t *testing.T) {
	cases := map[string]func(s *Session){
		"after a failed read": func(s *Session) { s.GetString("a"); s.Destroy() },
		"after an unencodable value": func(s *Session) {
			s.Set("ch", make(chan int))
			s.Destroy()
		},
		"without a read": func(s *Session) { s.Destroy() },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			mem := newTestMemoryStore(t)
			_, id := run(New(mem), "", func(s *Session) { s.Set("a", "1") })
			st := &failingStore{Store: mem, failRead: name == "after a failed read"}
			w, _ := run(New(st), id, f)
			if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
				t.Fatalf("status %d, Set-Cookie %q: want 200 and a deleting cookie", w.Code, w.Header().Get("Set-Cookie"))
			}
			if ok, _ := has(context.Background(), mem, handle(id)); ok {
				t.Fatal("the session survived Destroy")
			}
		})
	}
}

// TestExpiredRecordIsRemoved: a record the store still serves but whose
// lifetime has passed by the Manager's clock is tombstoned on read, so a
// later write-only request cannot write to it.
func TestExpiredRecordIsRemoved(t *testing.T) {
	clock := newTestClock()
	st := newTestMemoryStore(t)
	m := New(st, WithLifetime(time.Hour), WithClock(clock.Now))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	clock.Advance(2 * time.Hour)
	run(m, id, func(s *Session) { s.GetString("a") })
	if ok, _ := has(context.Background(), st, handle(id)); ok {
		t.Fatal("expired record still stored after a read found it expired")
	}
	run(m, id, func(s *Session) { s.Set("b", "2") })
	if ok, _ := has(context.Background(), st, handle(id)); ok {
		t.Fatal("a write-only request wrote to the expired session")
	}
}

// TestFailedCommitReplacesHeaders: the error handler's response does not
// carry the headers the handler had set for its own response.
func TestFailedCommitReplacesHeaders(t *testing.T) {
	st := &failingStore{Store: newTestMemoryStore(t), failWrite: true}
	m := New(st)
	w := newRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	})).ServeHTTP(w, newRequest(""))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Location") != "" {
		t.Fatalf("status %d, Location %q: want a plain 500", w.Code, w.Header().Get("Location"))
	}
}

// TestSecureCookieOverPlainHTTPWarnsOnce: a Secure cookie sent in reply to
// plain HTTP for a host that is not localhost is dropped by browsers; the
// Manager says so in one warning, not one per request, and not for
// localhost, HTTPS, or a proxy that marks the request as HTTPS.
func TestSecureCookieOverPlainHTTPWarnsOnce(t *testing.T) {
	logs := &logBuffer{}
	m := New(newTestMemoryStore(t), WithLogger(logs.logger()))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Get(r).Set("a", 1) }))
	serveAs := func(host string, header ...string) {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		h.ServeHTTP(newRecorder(), r)
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1", "[::1]:80", "app.localhost"} {
		serveAs(host)
	}
	serveAs("myapp.test", "X-Forwarded-Proto", "https")
	if strings.Contains(logs.String(), "plain HTTP") {
		t.Fatalf("warned for localhost or a proxied HTTPS request: %s", logs)
	}
	serveAs("myapp.test")
	serveAs("myapp.test")
	if n := strings.Count(logs.String(), "plain HTTP"); n != 1 {
		t.Fatalf("%d warnings about a Secure cookie over plain HTTP, want 1: %s", n, logs)
	}
}
