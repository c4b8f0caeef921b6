package sessionsotel_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	sessionsotel "github.com/sessionkit/sessions/examples/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// hang bounds every wait: reaching it means a hang, not a slow machine.
const hang = 10 * time.Second

// fixture is a Manager whose events feed a meter read by a ManualReader,
// served over real HTTP.
type fixture struct {
	t       *testing.T
	reader  *sdkmetric.ManualReader
	store   *failingStore
	srv     *httptest.Server
	name    string
	offset  atomic.Int64 // added to the Manager's clock, in nanoseconds
	loaded  chan struct{}
	release chan struct{}
	once    sync.Once
}

func newFixture(t *testing.T, opts ...sessions.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, reader: sdkmetric.NewManualReader(),
		loaded: make(chan struct{}, 1), release: make(chan struct{})}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	events, err := sessionsotel.Events(provider.Meter("github.com/sessionkit/sessions"))
	if err != nil {
		t.Fatal(err)
	}
	mem := sessions.NewMemoryStore()
	t.Cleanup(func() { mem.Close() })
	f.store = &failingStore{Store: mem}
	clock := func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }
	quiet := sessions.WithLogger(slog.New(slog.DiscardHandler)) // the failures are the point
	opts = append([]sessions.Option{sessions.WithEvents(events), sessions.WithClock(clock), quiet}, opts...)
	m := sessions.New(f.store, opts...)
	f.name = m.CookieName()
	f.srv = httptest.NewServer(m.Handler(f.routes()))
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.open) // before srv.Close: no handler is left waiting
	return f
}

// routes: /set stores a value, /read reads it, /login, /renew and /logout
// do what they say, /slow reads, waits for the test, then writes.
func (f *fixture) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Set("n", "1") })
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) { _ = sessions.Get(r).GetString("n") })
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Login("alice") })
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Renew() })
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Destroy() })
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		_ = s.GetString("n")
		f.loaded <- struct{}{}
		select {
		case <-f.release:
		case <-time.After(hang):
		}
		s.Set("n", "2")
	})
	return mux
}

func (f *fixture) open() { f.once.Do(func() { close(f.release) }) }

// tab is one browser tab, keeping the session cookie by hand: the cookie is
// Secure and a cookie jar sends none over plain HTTP.
type tab struct {
	f      *fixture
	cookie string
}

// do sends a request with the tab's cookie, takes the response's cookie and
// returns the status.
func (b *tab) do(method, path string) int {
	req, err := http.NewRequest(method, b.f.srv.URL+path, nil)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: b.f.name, Value: b.cookie})
	}
	resp, err := (&http.Client{Timeout: hang}).Do(req)
	if err != nil {
		b.f.t.Error(err) // Error, not Fatal: do runs on other goroutines too
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == b.f.name {
			b.cookie = c.Value
		}
	}
	return resp.StatusCode
}

// collect reads the meter: per instrument, the value of each series by its
// attributes ("event=login", "op=read,outcome=ok"); for the histogram, the
// number of calls.
func (f *fixture) collect() map[string]map[string]int64 {
	f.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		f.t.Fatal(err)
	}
	got := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			series := map[string]int64{}
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					series[attrs(p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					series[attrs(p.Attributes)] += int64(p.Count)
				}
			default:
				f.t.Fatalf("%s: unexpected data %T", mt.Name, mt.Data)
			}
			got[mt.Name] = series
		}
	}
	return got
}

func attrs(set attribute.Set) string {
	var kv []string
	for _, a := range set.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// failingStore fails reads or writes on demand, as a store that is down.
type failingStore struct {
	sessions.Store
	failRead, failWrite atomic.Bool
}

var errStoreDown = errors.New("store down")

func (s *failingStore) Read(ctx context.Context, id string) (sessions.Record, error) {
	if s.failRead.Load() {
		return nil, errStoreDown
	}
	return s.Store.Read(ctx, id)
}

func (s *failingStore) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	if s.failWrite.Load() {
		return errStoreDown
	}
	return s.Store.Write(ctx, id, ch, ttl)
}

// TestEvents drives every kind of event over HTTP and checks what reached
// the meter.
func TestEvents(t *testing.T) {
	f := newFixture(t, sessions.WithIdleTimeout(time.Hour))
	tab1 := &tab{f: f}
	tab1.do("POST", "/set")
	tab1.do("POST", "/login")
	tab1.do("POST", "/renew")
	tab2 := &tab{f: f, cookie: tab1.cookie}

	// tab 2 reads, tab 1 logs out, tab 2 writes: refused.
	slow := make(chan int, 1)
	go func() { slow <- tab2.do("POST", "/slow") }()
	select {
	case <-f.loaded:
	case <-time.After(hang):
		t.Fatal("/slow never read the session")
	}
	tab1.do("POST", "/logout")
	f.open()
	select {
	case <-slow:
	case <-time.After(hang):
		t.Fatal("/slow never answered")
	}

	idle := &tab{f: f}
	idle.do("POST", "/set")
	f.offset.Store(int64(2 * time.Hour))
	idle.do("GET", "/read")

	got := f.collect()
	wantEvents := map[string]int64{
		"event=created": 2, "event=login": 1, "event=renewed": 1,
		"event=destroyed": 1, "event=refused": 1, "event=expired": 1,
	}
	if !maps.Equal(got[sessionsotel.EventsName], wantEvents) {
		t.Errorf("%s = %v, want %v", sessionsotel.EventsName, got[sessionsotel.EventsName], wantEvents)
	}
	for _, op := range []string{"read", "write", "remove"} {
		if got[sessionsotel.StoreDurationName]["op="+op+",outcome=ok"] == 0 {
			t.Errorf("%s has no %s calls: %v", sessionsotel.StoreDurationName, op, got[sessionsotel.StoreDurationName])
		}
	}
	for series := range got[sessionsotel.StoreDurationName] {
		if strings.Contains(series, "outcome=error") {
			t.Errorf("%s has failed calls with no store failing: %v", sessionsotel.StoreDurationName, series)
		}
	}
	if n := len(got[sessionsotel.StoreErrorsName]); n != 0 {
		t.Errorf("%s = %v with no store failing", sessionsotel.StoreErrorsName, got[sessionsotel.StoreErrorsName])
	}
	checkAttributes(t, got)
}

// TestStoreErrors: failed reads and writes are counted per op, and their
// durations are recorded with outcome error.
func TestStoreErrors(t *testing.T) {
	f := newFixture(t)
	b := &tab{f: f}
	b.do("POST", "/set")
	f.store.failWrite.Store(true)
	if code := b.do("POST", "/set"); code != http.StatusInternalServerError {
		t.Errorf("a failed write answered %d, want 500", code)
	}
	f.store.failWrite.Store(false)
	f.store.failRead.Store(true)
	b.do("GET", "/read")
	f.store.failRead.Store(false)

	got := f.collect()
	wantErrors := map[string]int64{"op=read": 1, "op=write": 1}
	if !maps.Equal(got[sessionsotel.StoreErrorsName], wantErrors) {
		t.Errorf("%s = %v, want %v", sessionsotel.StoreErrorsName, got[sessionsotel.StoreErrorsName], wantErrors)
	}
	d := got[sessionsotel.StoreDurationName]
	if d["op=read,outcome=error"] != 1 || d["op=write,outcome=error"] != 1 {
		t.Errorf("%s = %v, want one failed read and one failed write", sessionsotel.StoreDurationName, d)
	}
	checkAttributes(t, got)
}

// allowed lists every attribute value a series may have: a fixed set, so
// no handle or user ID can slip in.
var allowed = map[string][]string{
	"event":   {"created", "login", "renewed", "destroyed", "refused", "expired"},
	"op":      {"read", "write", "remove"},
	"outcome": {"ok", "error"},
}

// checkAttributes fails if any series has an attribute or a value outside
// allowed.
func checkAttributes(t *testing.T, got map[string]map[string]int64) {
	t.Helper()
	for name, series := range got {
		for s := range series {
			for _, kv := range strings.Split(s, ",") {
				key, value, _ := strings.Cut(kv, "=")
				if !slices.Contains(allowed[key], value) {
					t.Errorf("%s has a series with %s=%q: %s", name, key, value, s)
				}
			}
		}
	}
}

// TestNoAllocations: the function handed to WithEvents allocates nothing of
// its own, measured on a meter that does nothing, and nothing on the SDK's
// meter once each series exists.
func TestNoAllocations(t *testing.T) {
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	meters := map[string]metric.Meter{"noop": noop.NewMeterProvider().Meter("x"), "sdk": provider.Meter("x")}
	evs := []sessions.Event{
		{Kind: sessions.EventLogin, Handle: strings.Repeat("a", 64), UserID: "alice"},
		{Kind: sessions.EventStoreCall, Op: "read", Duration: time.Millisecond},
		{Kind: sessions.EventStoreCall, Op: "write", Duration: time.Millisecond, Err: errStoreDown},
	}
	for name, meter := range meters {
		events, err := sessionsotel.Events(meter)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, e := range evs {
			events(ctx, e) // the SDK allocates a series on first use
			if n := testing.AllocsPerRun(100, func() { events(ctx, e) }); n != 0 {
				t.Errorf("%s meter: %v allocations per %s event, want 0", name, n, e.Kind)
			}
		}
	}
}
