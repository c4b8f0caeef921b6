package sessions

import (
	"net/http"
	"strings"
	"testing"
)

func TestReadHeader(t *testing.T) {
	id, _ := newID()
	for _, tt := range []struct {
		name   string
		header string
		values []string
		want   cookieResult
	}{
		{"absent", "X-Session", nil, cookieAbsent},
		{"plain", "X-Session", []string{id}, cookieValid},
		{"bearer", "Authorization", []string{"Bearer " + id}, cookieValid},
		{"bearer, any case", "Authorization", []string{"bearer " + id}, cookieValid},
		{"basic", "Authorization", []string{"Basic " + id}, cookieMalformed},
		{"bearer without scheme", "Authorization", []string{id}, cookieMalformed},
		{"not an ID", "X-Session", []string{"nope"}, cookieMalformed},
		{"two values", "X-Session", []string{id, id}, cookieMalformed},
		{"empty", "X-Session", []string{""}, cookieMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.values != nil {
				h[tt.header] = tt.values
			}
			got, res := readHeader(h, tt.header)
			if res != tt.want || (res == cookieValid) != (got == id) {
				t.Fatalf("readHeader = %q, %v; want result %v", got, res, tt.want)
			}
		})
	}
}

// FuzzReadHeader: any header value gives a clean outcome, never a panic,
// and an ID only when it is well-formed and in the value (G10).
func FuzzReadHeader(f *testing.F) {
	id, _ := newID()
	for _, s := range []string{"Bearer " + id, id, "Bearer  " + id, "Bearer", "\x00\xff", strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range []string{"Authorization", "X-Session"} {
			got, res := readHeader(http.Header{name: {v}}, name)
			if (res == cookieValid) != (got != "") || (got != "" && (!validID(got) || !strings.Contains(v, got))) {
				t.Fatalf("readHeader(%s: %q) = %q, %v", name, v, got, res)
			}
		}
	})
}

// TestHeaderTransport: with WithHeader the ID travels in the header both
// ways, no cookie is read or set, and the store calls per request are those
// of the cookie (G4, G7, G13).
func TestHeaderTransport(t *testing.T) {
	for _, name := range []string{"Authorization", "X-Session"} {
		t.Run(name, func(t *testing.T) { testHeaderTransport(t, name) })
	}
}

func testHeaderTransport(t *testing.T, name string) {
	st := &countingStore{Store: newTestMemoryStore(t)}
	m := New(st, WithHeader(name))
	srv := serve(t, m, appHandler())
	var id string
	do := func(path, carry string) (http.Header, counts) {
		t.Helper()
		st.take()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if carry != "" {
			req.Header.Set(name, m.cfg.headerValue(carry))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s set a cookie with WithHeader", path)
		}
		return resp.Header, st.take()
	}
	token := func(h http.Header) (string, bool) {
		v, ok := h[http.CanonicalHeaderKey(name)]
		if !ok {
			return "", false
		}
		return strings.TrimPrefix(v[0], "Bearer "), true
	}
	h, n := do("/set?k=a&v=1", "")
	id, _ = token(h)
	if !validID(id) || n != (counts{0, 1, 0}) || h.Get("Cache-Control") != "no-store" || h.Get("Vary") != name {
		t.Fatalf("new session: header %q, calls %+v, headers %v", id, n, h)
	}
	if h, n = do("/none", id); n != (counts{}) {
		t.Errorf("untouched: %+v store calls", n)
	} else if _, sent := token(h); sent {
		t.Error("an untouched session sent the header")
	}
	if _, n = do("/get?k=a", id); n != (counts{1, 0, 0}) {
		t.Errorf("read-only: %+v store calls, want one read", n)
	}
	unknown, _ := newID()
	if h, _ = do("/set?k=a&v=2", unknown); func() bool { got, _ := token(h); return got == unknown || got == "" }() {
		t.Error("an unknown ID was adopted, or no fresh one was given")
	}
	if h, n = do("/get?k=a", "garbage"); n != (counts{}) {
		t.Errorf("a malformed header cost %+v store calls", n)
	}
	h, _ = do("/logout", id)
	if got, sent := token(h); !sent || got != "" {
		t.Errorf("logout: header %q (sent %v), want it present and empty", got, sent)
	}
}
