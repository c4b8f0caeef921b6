package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
	"github.com/sessionkit/sessions/redisstore"
)

// chromium is the browser the tests drive: Debian's package.
const chromium = "/usr/bin/chromium"

// testTimeout bounds each test, so that a hung browser fails the test
// instead of the run. It is an upper bound on a hang, not a performance
// claim.
const testTimeout = 90 * time.Second

// waitTimeout bounds each wait on a DOM condition.
const waitTimeout = 30 * time.Second

// pollInterval is how often a poll in a page checks its condition: a timer,
// because requestAnimationFrame does not run in a tab in the background.
const pollInterval = 50 * time.Millisecond

// inCI reports whether the tests run in CI, where a missing browser or
// Redis fails a test instead of skipping it.
func inCI() bool { return os.Getenv("CI") == "true" }

// need skips the test locally, and fails it in CI, when what is missing.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if inCI() {
		t.Fatalf("%s (CI=true: failing instead of skipping)", what)
	}
	t.Skip(what)
}

// eachStore runs test on the memory store and on a real Redis.
func eachStore(t *testing.T, test func(t *testing.T, store sessions.Store)) {
	t.Run("memory", func(t *testing.T) {
		store := sessions.NewMemoryStore()
		t.Cleanup(func() { store.Close() })
		test(t, store)
	})
	t.Run("redis", func(t *testing.T) { test(t, redisStore(t)) })
}

// redisStore is a Redis store on REDIS_ADDR, under a key prefix of its own.
func redisStore(t *testing.T) sessions.Store {
	addr := os.Getenv("REDIS_ADDR")
	need(t, addr != "", "REDIS_ADDR is not set: no Redis to test against")
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	store := redisstore.New(client, redisstore.WithKeyPrefix("e2e:"+randomHex(8)+":"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.LoadScripts(ctx); err != nil {
		t.Fatalf("Redis at %s: %v", addr, err)
	}
	return store
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// demo is the demo application served on a real listener.
type demo struct {
	url   string // http://localhost:port, where Chromium takes __Host- cookies
	store sessions.Store
	m     *sessions.Manager
	gate  *gate
}

// startDemo serves the demo on store until the test ends. cfg.Reached is
// the demo's gate.
func startDemo(t *testing.T, store sessions.Store, cfg demoapp.Config) *demo {
	d := &demo{store: store, m: sessions.New(store), gate: newGate()}
	cfg.Reached = d.gate.reached
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: demoapp.Routes(d.m, cfg), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		d.gate.releaseAll()
		srv.Close()
	})
	d.url = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return d
}

// live reports whether the store holds a live session under handle.
func (d *demo) live(t *testing.T, handle string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := d.store.Read(ctx, handle)
	if err != nil && !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Read: %v", err)
	}
	return err == nil
}

// userSessions is the number of live sessions of user.
func (d *demo) userSessions(t *testing.T, user string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := d.m.UserSessions(ctx, user)
	if err != nil {
		t.Fatalf("UserSessions: %v", err)
	}
	return len(list)
}

// gate holds a request of the demo at a step (see demoapp.Config.Reached)
// until the test lets it go on, so that a test can force the order of two
// requests without sleeping.
type gate struct {
	mu    sync.Mutex
	holds map[string]*hold
}

// hold is one armed step: reached is closed when a request gets there, and
// the request waits until release is closed.
type hold struct {
	reached, release chan struct{}
	once             sync.Once
}

func newGate() *gate { return &gate{holds: map[string]*hold{}} }

// arm holds the next request that reaches step.
func (g *gate) arm(step string) *hold {
	h := &hold{reached: make(chan struct{}), release: make(chan struct{})}
	g.mu.Lock()
	g.holds[step] = h
	g.mu.Unlock()
	return h
}

func (g *gate) reached(ctx context.Context, step string) {
	g.mu.Lock()
	h := g.holds[step]
	delete(g.holds, step)
	g.mu.Unlock()
	if h == nil {
		return
	}
	close(h.reached)
	select {
	case <-h.release:
	case <-ctx.Done():
	}
}

func (g *gate) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range g.holds {
		h.letGo()
	}
}

// wait waits until a request is held at the step.
func (h *hold) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.reached:
	case <-time.After(waitTimeout):
		t.Fatal("no request reached the held step")
	}
}

// letGo lets the held request go on.
func (h *hold) letGo() { h.once.Do(func() { close(h.release) }) }

// newBrowser starts a fresh Chromium (its own profile) and returns the
// context of its first tab. Tabs made from it with newTab share its
// cookies, as two tabs of one browser do.
func newBrowser(t *testing.T) context.Context {
	_, err := os.Stat(chromium)
	need(t, err == nil, chromium+" is missing: apt-get install chromium")
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	}
	timeout, cancelTimeout := context.WithTimeout(context.Background(), testTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx
}

// newTab opens another tab in the browser of ctx, sharing its cookies.
func newTab(t *testing.T, ctx context.Context) context.Context {
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// do runs steps in tab, failing the test on an error.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatal(err)
	}
}

// run runs one action in tab and returns its value.
func run[T any](t *testing.T, tab context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sessionCookie is the browser's session cookie for the demo, or nil.
func sessionCookie(t *testing.T, tab context.Context, d *demo) *network.Cookie {
	t.Helper()
	get := func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{d.url + "/"}})
		return res.Cookies, err
	}
	for _, c := range run(t, tab, get) {
		if c.Name == d.m.CookieName() {
			return c
		}
	}
	return nil
}

// handleOf is the handle of the session a cookie carries: the hex SHA-256
// of its ID.
func handleOf(c *network.Cookie) string {
	sum := sha256.Sum256([]byte(c.Value))
	return hex.EncodeToString(sum[:])
}
