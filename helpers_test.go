package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain keeps the default logger quiet: tests that check log records pass
// their own logger.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// StoreFactory names a Store that the HTTP guarantee tests run against.
type StoreFactory struct {
	Name string
	// New returns a fresh, isolated store and registers its own cleanup.
	New func(t *testing.T) Store
}

// AllTestStores lists every store the guarantee tests run on: the memory
// store and a blob store written against the plain Store contract. The
// stores of the nested modules (redisstore, the SQL stores) run the same
// suites in their own tests.
func AllTestStores() []StoreFactory {
	return []StoreFactory{
		{"memory", func(t *testing.T) Store { return newTestMemoryStore(t) }},
		{"blob", func(t *testing.T) Store { return newBlobStore() }},
	}
}

// newTestMemoryStore returns a MemoryStore that is closed when t ends.
func newTestMemoryStore(t testing.TB, opts ...MemoryOption) *MemoryStore {
	s := NewMemoryStore(opts...)
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachBuiltinStore runs f as a subtest against every store the package
// ships.
func forEachBuiltinStore(t *testing.T, f func(t *testing.T, newStore func(t *testing.T) Store)) {
	t.Helper()
	for _, sf := range AllTestStores() {
		if sf.Name != "blob" {
			t.Run(sf.Name, func(t *testing.T) { f(t, sf.New) })
		}
	}
}

// forEachStore runs f as a subtest against every store.
func forEachStore(t *testing.T, f func(t *testing.T, newStore func(t *testing.T) Store)) {
	t.Helper()
	for _, sf := range AllTestStores() {
		t.Run(sf.Name, func(t *testing.T) { f(t, sf.New) })
	}
}

// failingStore fails the calls named in fail.
type failingStore struct {
	Store
	failRead, failWrite, failRemove bool
}

var errStoreDown = errors.New("store down")

func (f *failingStore) Read(ctx context.Context, id string) (Record, error) {
	if f.failRead {
		return nil, errStoreDown
	}
	return f.Store.Read(ctx, id)
}

func (f *failingStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if f.failWrite {
		return errStoreDown
	}
	return f.Store.Write(ctx, id, ch, ttl)
}

func (f *failingStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if f.failRemove {
		return errStoreDown
	}
	return f.Store.Remove(ctx, id, ttl)
}

// countingStore counts the calls made to the Store it wraps.
type countingStore struct {
	Store
	reads, writes, removes atomic.Int64
	mu                     sync.Mutex
	changes                []Change
}

func (c *countingStore) Read(ctx context.Context, id string) (Record, error) {
	c.reads.Add(1)
	return c.Store.Read(ctx, id)
}

func (c *countingStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	c.writes.Add(1)
	c.mu.Lock()
	c.changes = append(c.changes, ch)
	c.mu.Unlock()
	return c.Store.Write(ctx, id, ch, ttl)
}

func (c *countingStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	c.removes.Add(1)
	return c.Store.Remove(ctx, id, ttl)
}

// has reports whether st holds a live record under key, as Read tells.
func has(ctx context.Context, st Store, key string) (bool, error) {
	_, err := st.Read(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

type counts struct{ reads, writes, removes int64 }

// take returns the counts since the last call and resets them.
func (c *countingStore) take() counts {
	c.mu.Lock()
	c.changes = nil
	c.mu.Unlock()
	return counts{c.reads.Swap(0), c.writes.Swap(0), c.removes.Swap(0)}
}

// testClock is a settable clock for WithClock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// logBuffer collects log records for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// client talks to a test server and carries one session cookie by hand (the
// default cookie is Secure, which net/http/cookiejar withholds on http).
type client struct {
	t    *testing.T
	url  string
	name string
	id   string
}

func newClient(t *testing.T, srv *httptest.Server, m *Manager) *client {
	return &client{t: t, url: srv.URL, name: m.CookieName()}
}

// result is what a request returned.
type result struct {
	status    int
	body      string
	setCookie []string
	cookies   []*http.Cookie
	header    http.Header
}

// cookieID returns the session ID the response set, "" if none, and
// whether the response deleted the cookie.
func (r result) cookieID(name string) (id string, deleted bool) {
	for _, c := range r.cookies {
		if c.Name != name {
			continue
		}
		if c.MaxAge < 0 {
			return "", true
		}
		return c.Value, false
	}
	return "", false
}

// do sends a request with the client's cookie and applies the response's
// cookie to the client, as a browser would.
func (c *client) do(method, path string) result {
	c.t.Helper()
	res := send(c.t, method, c.url+path, c.name, c.id)
	if id, deleted := res.cookieID(c.name); deleted {
		c.id = ""
	} else if id != "" {
		c.id = id
	}
	return res
}

func (c *client) get(path string) result { return c.do(http.MethodGet, path) }

// send makes one request carrying the cookie name=id (none when id is "").
// It is safe to call from any goroutine: failures are reported with Error.
func send(t *testing.T, method, url, name, id string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Error(err)
		return result{}
	}
	if id != "" {
		req.Header.Set("Cookie", name+"="+id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return result{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return result{status: resp.StatusCode, body: string(b), setCookie: resp.Header.Values("Set-Cookie"), cookies: resp.Cookies(), header: resp.Header}
}

// appHandler is the handler most HTTP tests use:
//
//	/login?user=U   sets "user" and renews the ID
//	/get?k=K        writes the string under K
//	/set?k=K&v=V    sets K to the string V, without reading
//	/rset?k=K&v=V   writes the string under K, then sets K to V
//	/logout         destroys the session
//	/none           never touches the session
func appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		s.Set("user", r.URL.Query().Get("user"))
		s.Renew()
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, Get(r).GetString(r.URL.Query().Get("k")))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/rset", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		k := r.URL.Query().Get("k")
		io.WriteString(w, s.GetString(k))
		s.Set(k, r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		Get(r).Destroy()
	})
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	return mux
}

// serve starts a test server running h under m.
func serve(t *testing.T, m *Manager, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(m.Handler(h))
	t.Cleanup(srv.Close)
	return srv
}

// readRecord reads the session with ID id straight from the store.
func readRecord(t *testing.T, st Store, id string) (Record, error) {
	t.Helper()
	return st.Read(context.Background(), handle(id))
}

// blobStore is a custom Store as an application would write one against the
// plain contract, keeping each record as one encoded blob: read, Apply,
// write back, under one lock. It has no capability beyond the contract, so
// the guarantees that hold on it hold on any store that passes sessionstest.
type blobStore struct {
	mu    sync.Mutex
	now   func() time.Time // expiry is judged by it
	blobs map[string]blobEntry
	tombs map[string]time.Time
}

type blobEntry struct {
	data    []byte // the record, JSON-encoded
	expires time.Time
}

func newBlobStore() *blobStore { return newBlobStoreAt(time.Now) }

// newBlobStoreAt returns a blob store that expires records and tombstones
// by the clock now, which a test may share with a Manager's WithClock.
func newBlobStoreAt(now func() time.Time) *blobStore {
	return &blobStore{now: now, blobs: make(map[string]blobEntry), tombs: make(map[string]time.Time)}
}

// load returns the live record under id. b.mu is held.
func (b *blobStore) load(id string) (Record, bool) {
	e, ok := b.blobs[id]
	if !ok || !b.now().Before(e.expires) {
		return nil, false
	}
	var pairs [][2][]byte
	if err := json.Unmarshal(e.data, &pairs); err != nil {
		return nil, false
	}
	rec := make(Record, len(pairs))
	for _, p := range pairs {
		rec[string(p[0])] = p[1]
	}
	return rec, true
}

// encodeBlob encodes r as a JSON list of [key, value] pairs, both base64:
// encoding/json would turn invalid UTF-8 in a map key into U+FFFD, so that
// two keys could read back as one.
func encodeBlob(r Record) ([]byte, error) {
	pairs := make([][2][]byte, 0, len(r))
	for k, v := range r {
		pairs = append(pairs, [2][]byte{[]byte(k), v})
	}
	return json.Marshal(pairs)
}

func (b *blobStore) Read(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, ok := b.load(id)
	if !ok {
		return nil, ErrNotFound
	}
	return rec, nil
}

func (b *blobStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if exp, ok := b.tombs[id]; ok && b.now().Before(exp) {
		return ErrInvalidated
	}
	rec, live := b.load(id)
	if !live && ch.Mode != ModeReplace && (ch.Mode != ModeUpsert || ch.IsTouch()) {
		return ErrNotFound
	}
	data, err := encodeBlob(ch.Apply(rec))
	if err != nil {
		return err
	}
	expires := b.now().Add(ttl)
	if old := b.blobs[id].expires; ch.Mode == ModeUpsert && !ch.IsTouch() && live && old.After(expires) {
		expires = old
	}
	b.blobs[id] = blobEntry{data: data, expires: expires}
	return nil
}

func (b *blobStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, live := b.load(id)
	delete(b.blobs, id)
	if exp := b.now().Add(ttl); exp.After(b.tombs[id]) {
		b.tombs[id] = exp
	}
	if !live {
		return ErrNotFound
	}
	return nil
}

func (b *blobStore) Exists(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.load(id)
	return ok, nil
}
