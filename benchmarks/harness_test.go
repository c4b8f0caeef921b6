package benchmarks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions/benchmarks/internal/kit"
)

// discardWriter is the cheapest complete ResponseWriter: a header map, the
// status, and a body that is thrown away unless capture is set. Every
// library's whole request path runs on it, commit included: each handler
// writes a body, which makes the middlewares commit before it.
type discardWriter struct {
	h       http.Header
	code    int
	capture bool
	body    []byte
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.capture {
		w.body = append(w.body, b...)
	}
	return len(b), nil
}

// client is one benchmark goroutine: a request that it serves over and
// over, and the counts of what the responses held.
type client struct {
	base      *http.Request // carries the Cookie header
	req       http.Request  // a fresh copy of base for each request
	w         discardWriter
	errs      int64
	setCookie int64
	lastCode  int
}

// cookieHeader is the Cookie header of a browser that holds session ID id,
// and one other cookie.
func cookieHeader(id string) string {
	return "theme=dark; " + kit.CookieName + "=" + id
}

// newClient returns a client whose requests arrive over HTTPS, as the
// Secure cookies of every library need.
func newClient(cookie string) *client {
	r, err := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	if err != nil {
		panic(err)
	}
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return &client{base: r, w: discardWriter{h: make(http.Header, 4)}}
}

// setCookieHeader replaces the request's Cookie header in place.
func (c *client) setCookieHeader(v string) { c.base.Header["Cookie"][0] = v }

// do serves one request. Copying the request each time undoes what a
// library did to it (gorilla/sessions stores its registry into *r).
func (c *client) do(h http.Handler) {
	c.req = *c.base
	clear(c.w.h)
	c.w.code = 0
	c.w.body = c.w.body[:0]
	h.ServeHTTP(&c.w, &c.req)
	if c.w.code == 0 {
		c.w.code = http.StatusOK
	}
	if c.w.code != http.StatusOK {
		c.errs++
		c.lastCode = c.w.code
	}
	if len(c.w.h["Set-Cookie"]) > 0 {
		c.setCookie++
	}
}

// seed creates n sessions through h (the library's Seed handler) with
// workers goroutines, and returns the Cookie header of each.
func seed(b *testing.B, h http.Handler, n, workers int) []string {
	out := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient("")
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c.do(h)
				id := kit.SessionCookie(c.w.h)
				if c.errs > 0 || id == "" {
					failed.Store(fmt.Sprintf("seeding a session failed: status %d, Set-Cookie %q", c.w.code, c.w.h["Set-Cookie"]))
					return
				}
				out[i] = cookieHeader(id)
			}
		}()
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		b.Fatal(msg)
	}
	return out
}

// dump returns the values of the session that cookie names, read through
// the library's own read path.
func dump(b *testing.B, lib *kit.Lib, cookie string) map[string]string {
	c := newClient(cookie)
	c.w.capture = true
	c.do(lib.Handler(kit.Dump))
	if c.errs > 0 {
		b.Fatalf("%s: dump: status %d", lib.Label(), c.lastCode)
	}
	return kit.ParseDump(string(c.w.body))
}

// cookieMode is what the requests of a scenario carry.
type cookieMode int

const (
	noCookie    cookieMode = iota
	sharedLive             // a live session, the same for every request of a goroutine
	freshLive              // a live session of its own for every request (Destroy, Renew)
	floorCookie            // the cookie of floorID, which no library issued
)

// floorID is the session ID in the requests of the floors that read a
// session's record.
const floorID = "floor-session-id-0123456789abcdefghijklmnop"

// scenario is one kind of request.
type scenario struct {
	name   string
	op     kit.Op
	cookie cookieMode
}

var scenarios = []scenario{
	{"NoCookieUntouched", kit.Untouched, noCookie},
	{"CookieUntouched", kit.Untouched, sharedLive},
	{"CookieRead", kit.Read, sharedLive},
	{"CookieWrite", kit.Write, sharedLive},
	{"CookieReadWrite", kit.ReadWrite, sharedLive},
	{"NewSessionWrite", kit.New, noCookie},
	{"Destroy", kit.Destroy, freshLive},
	{"Renew", kit.Renew, freshLive},
}

// floorScenario is the request of the floors: no session library, so no
// cookie either.
var floorScenario = scenario{"Floor", kit.Untouched, noCookie}

// sharedSessions is how many sessions the goroutines of a parallel
// benchmark spread over.
const sharedSessions = 64

// redisEnv is the Redis that the Redis benchmarks use: REDIS_ADDR, or
// miniredis when it is unset.
type redisEnv struct {
	label   string // "server" or "miniredis", in every benchmark name
	client  *redis.Client
	stats   *redis.Client // no counting hook: reads INFO on a real server
	counter *kit.Counter
	prefix  string
	mini    *miniredis.Miniredis
	err     error
}

var (
	redisOnce sync.Once
	theRedis  redisEnv
)

// redisPoolSize leaves room for the goroutines of a parallel Redis
// benchmark (redisParallelism per GOMAXPROCS).
func redisPoolSize() int { return max(32, 2*redisParallelism*runtime.GOMAXPROCS(0)) }

// redisParallelism is the b.SetParallelism of the parallel Redis
// benchmarks: a Redis request mostly waits, so a server has many in flight
// per core.
const redisParallelism = 8

func getRedis(b *testing.B) *redisEnv {
	redisOnce.Do(func() {
		e := &theRedis
		addr := os.Getenv("REDIS_ADDR")
		e.label = "server"
		if addr == "" {
			m, err := miniredis.Run()
			if err != nil {
				e.err = err
				return
			}
			e.mini, e.label, addr = m, "miniredis", m.Addr()
		}
		e.client, e.counter = kit.NewRedisClient(addr, redisPoolSize())
		if e.mini == nil {
			e.stats = redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		}
		e.prefix = fmt.Sprintf("sessionkit-bench:%d:", os.Getpid())
		e.err = e.client.Ping(context.Background()).Err()
	})
	if theRedis.err != nil {
		b.Fatalf("redis: %v", theRedis.err)
	}
	return &theRedis
}

// warm opens as many pooled connections as the benchmark will use, so that
// no dial (and no connection set-up command) falls inside the timing.
func (e *redisEnv) warm(b *testing.B, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.client.Ping(context.Background()).Err()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theRedis.client != nil {
		if n, err := kit.DeleteKeys(context.Background(), theRedis.client, theRedis.prefix); err != nil {
			fmt.Fprintf(os.Stderr, "benchmarks: deleting the benchmark keys (%s*): %v\n", theRedis.prefix, err)
		} else if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "benchmarks: deleted %d benchmark keys\n", n)
		}
		theRedis.client.Close()
		if theRedis.stats != nil {
			theRedis.stats.Close()
		}
	}
	if theRedis.mini != nil {
		theRedis.mini.Close()
	}
	os.Exit(code)
}

// benchCase is one library in one scenario.
type benchCase struct {
	lib         *kit.Lib
	sc          scenario
	redis       *redisEnv // nil on the memory store
	parallelism int       // for b.SetParallelism
}

// run measures c serially or with b.RunParallel, and reports cmds/op (Redis
// commands per request), rtt/op (Redis round trips per request: a pipeline
// or transaction is one), on a real Redis redis-us/op and redis-cpu-us/op
// (see redisStats.report), and setcookie/op (the share of responses that
// set a cookie).
func run(b *testing.B, c benchCase, parallel bool) {
	h := c.lib.Handler(c.sc.op)
	if h == nil {
		b.Skipf("%s cannot %s", c.lib.Label(), c.sc.op)
	}
	seedWorkers := runtime.GOMAXPROCS(0)
	if c.redis != nil {
		seedWorkers = redisPoolSize() / 2
	}
	var shared, fresh []string
	switch c.sc.cookie {
	case sharedLive:
		n := 1
		if parallel {
			n = sharedSessions
		}
		shared = seed(b, c.lib.Handler(kit.Seed), n, seedWorkers)
	case freshLive:
		fresh = seed(b, c.lib.Handler(kit.Seed), b.N, seedWorkers)
	}
	goroutines := 1
	if parallel {
		b.SetParallelism(c.parallelism)
		goroutines = c.parallelism * runtime.GOMAXPROCS(0)
	}
	if c.redis != nil {
		c.redis.warm(b, goroutines+1)
	}

	var (
		mu                 sync.Mutex
		errs, setCookie    int64
		lastCode           int
		nextShared, nextID atomic.Int64
		lastCookie         string // set by the last response of a serial run
	)
	newClientFor := func() *client {
		switch c.sc.cookie {
		case sharedLive:
			return newClient(shared[int(nextShared.Add(1)-1)%len(shared)])
		case freshLive:
			return newClient(cookieHeader("placeholder"))
		case floorCookie:
			return newClient(cookieHeader(floorID))
		}
		return newClient("")
	}
	collect := func(cl *client) {
		mu.Lock()
		errs += cl.errs
		setCookie += cl.setCookie
		if cl.lastCode != 0 {
			lastCode = cl.lastCode
		}
		mu.Unlock()
	}

	var (
		cmds0, trips0 int64
		stats0        redisStats
	)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	if c.redis != nil {
		cmds0, trips0 = c.redis.counter.Load(), c.redis.counter.Trips()
		c.redis.counter.ResetNames()
		if c.redis.stats != nil {
			b.StopTimer()
			stats0 = readRedisStats(b, c.redis.stats)
			b.StartTimer()
		}
	}
	if !parallel {
		cl := newClientFor()
		for i := 0; i < b.N; i++ {
			if fresh != nil {
				cl.setCookieHeader(fresh[i])
			}
			cl.do(h)
		}
		collect(cl)
		lastCookie = kit.SessionCookie(cl.w.h)
	} else {
		b.RunParallel(func(pb *testing.PB) {
			cl := newClientFor()
			for pb.Next() {
				if fresh != nil {
					cl.setCookieHeader(fresh[nextID.Add(1)-1])
				}
				cl.do(h)
			}
			collect(cl)
		})
	}
	b.StopTimer()
	b.ReportMetric((processCPU()-cpu0)*1e6/float64(b.N), "cpu-us/op")
	if c.redis != nil {
		b.ReportMetric(float64(c.redis.counter.Load()-cmds0)/float64(b.N), "cmds/op")
		b.ReportMetric(float64(c.redis.counter.Trips()-trips0)/float64(b.N), "rtt/op")
		if c.redis.stats != nil {
			readRedisStats(b, c.redis.stats).report(b, stats0, c.redis.counter.Names())
		}
	}
	b.ReportMetric(float64(setCookie)/float64(b.N), "setcookie/op")
	if errs > 0 {
		b.Fatalf("%s %s: %d of %d requests failed (last status %d)", c.lib.Label(), c.sc.name, errs, b.N, lastCode)
	}
	if !parallel {
		verify(b, c, shared, fresh, lastCookie)
	}
}

// verify checks, after a serial run, that the library did what the
// scenario asks, through its own read path: the last write is there, and a
// destroyed or renewed ID reads as no session. last is the session cookie
// that the last response set, if any.
func verify(b *testing.B, c benchCase, shared, fresh []string, last string) {
	cookie := func() string { return shared[0] }
	if c.lib.Store == "cookie" {
		// A client-side session lives in the cookie of the last response.
		// Every request of the run sent the first cookie, so each
		// ReadWrite read n = 1 again: only Write can be checked.
		if c.sc.op != kit.Write {
			return
		}
		cookie = func() string { return cookieHeader(last) }
	}
	switch c.sc.op {
	case kit.Write:
		if got, want := dump(b, c.lib, cookie())["n"], fmt.Sprint(kit.LastValue()); got != want {
			b.Fatalf("%s: after %d writes n = %q, want %q", c.lib.Label(), b.N, got, want)
		}
	case kit.ReadWrite:
		if got, want := dump(b, c.lib, cookie())["n"], fmt.Sprint(1+b.N); got != want {
			b.Fatalf("%s: after %d increments n = %q, want %q", c.lib.Label(), b.N, got, want)
		}
	case kit.Destroy, kit.Renew:
		if vals := dump(b, c.lib, fresh[0]); len(vals) != 0 {
			b.Fatalf("%s: the old ID still reads %v after %s", c.lib.Label(), vals, c.sc.op)
		}
	}
}
