package sessions

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// discardWriter is the cheapest ResponseWriter: the benchmarks measure the
// middleware, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchScenario is one kind of request: the handler, and whether each request
// needs a fresh live session (Destroy and Renew use theirs up).
type benchScenario struct {
	name      string
	cookie    bool
	fresh     bool
	handler   func(w http.ResponseWriter, r *http.Request)
	wantSetCk bool
}

var benchScenarios = []benchScenario{
	{"NoCookieUntouched", false, false, func(w http.ResponseWriter, r *http.Request) { Get(r) }, false},
	{"CookieUntouched", true, false, func(w http.ResponseWriter, r *http.Request) { Get(r) }, false},
	{"CookieRead", true, false, func(w http.ResponseWriter, r *http.Request) { Get(r).GetString("user") }, false},
	{"CookieWrite", true, false, func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("n", time.Now().UnixNano())
	}, false},
	{"NewSessionWrite", false, false, func(w http.ResponseWriter, r *http.Request) { Get(r).Set("user", "alice") }, true},
	{"Destroy", true, true, func(w http.ResponseWriter, r *http.Request) { Get(r).Destroy() }, true},
	{"Renew", true, true, func(w http.ResponseWriter, r *http.Request) { Get(r).Renew() }, true},
}

// benchSession stores a typical small session and returns its ID.
func benchSession(b *testing.B, st Store, now time.Time) string {
	id, _ := newID()
	ms := formatMillis(now)
	err := st.Write(context.Background(), handle(id), Change{Mode: ModeReplace, Set: Record{
		"user": []byte(`"alice"`), "role": []byte(`"admin"`), "n": []byte("1"),
		keyCreated: ms, keyTouched: ms,
	}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func newBenchRequest(m *Manager, id string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	r.Header.Set("Cookie", "theme=dark; "+m.CookieName()+"="+id)
	if id == "" {
		r.Header.Del("Cookie")
	}
	return r
}

// BenchmarkMiddleware measures one request through the middleware on the
// memory store, per scenario, serially and in parallel. BenchmarkBare is the
// floor: the same handler without the middleware.
func BenchmarkMiddleware(b *testing.B) {
	for _, sc := range benchScenarios {
		b.Run(sc.name, func(b *testing.B) { benchMiddleware(b, sc, false) })
		b.Run(sc.name+"/parallel", func(b *testing.B) { benchMiddleware(b, sc, true) })
	}
}

func benchMiddleware(b *testing.B, sc benchScenario, parallel bool) {
	st := newTestMemoryStore(b)
	defer st.Close()
	m := New(st, WithIdleTimeout(time.Hour), WithTouchInterval(time.Minute))
	h := m.Handler(http.HandlerFunc(sc.handler))
	now := time.Now()
	var ids []string
	var next atomic.Int64
	shared := ""
	if sc.cookie && !sc.fresh {
		shared = benchSession(b, st, now)
	}
	if sc.fresh {
		ids = make([]string, b.N)
		for i := range ids {
			ids[i] = benchSession(b, st, now)
		}
	}
	id := func() string {
		if sc.fresh {
			return ids[next.Add(1)-1]
		}
		return shared
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		w := &discardWriter{h: http.Header{}}
		r := newBenchRequest(m, shared)
		for i := 0; i < b.N; i++ {
			if sc.fresh {
				r = newBenchRequest(m, id())
			}
			clear(w.h)
			h.ServeHTTP(w, r)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := newBenchRequest(m, shared)
		for pb.Next() {
			if sc.fresh {
				r = newBenchRequest(m, id())
			}
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkBare is the bare handler that the middleware benchmarks compare
// with: it only builds the request's context as a handler would.
func BenchmarkBare(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	w := &discardWriter{h: http.Header{}}
	r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, r)
	}
}

// TestUntouchedAllocations holds the line that benchmarks show: a request
// that never uses its session allocates only the session handle and the
// request copy that carries it.
func TestUntouchedAllocations(t *testing.T) {
	st := newTestMemoryStore(t)
	defer st.Close()
	m := New(st)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Get(r) }))
	id, _ := newID()
	for _, r := range []*http.Request{newBenchRequest(m, ""), newBenchRequest(m, id)} {
		w := &discardWriter{h: http.Header{}}
		if n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); n > 2 {
			t.Errorf("untouched request allocates %v times, want at most 2", n)
		}
	}
}
