// Command load is a load test of the session libraries side by side: for
// each library it starts a real HTTP server on 127.0.0.1, drives it from
// many concurrent keep-alive clients for a fixed time with a mix of reads
// and writes over many sessions, and prints requests/s, p50/p99 latency and
// the error count. At the end it checks, through each library's own read
// path, that every write a client saw succeed is still in the store.
//
// Run it from the benchmarks directory (a module of its own):
//
//	cd benchmarks && go run ./cmd/load -store redis -duration 20s
//	cd benchmarks && go run ./cmd/load -store postgres -dsn postgres://127.0.0.1:5432/test
//
// -store is redis, memory, postgres, mysql or sqlite. On the SQL stores it
// compares this library with scs's store for the same database, each on
// tables of its own that it drops at the end (MySQL: a database of its
// own); -dsn defaults to $SESSIONS_PG_DSN or $SESSIONS_MYSQL_DSN, and
// SQLite runs on a temporary file.
//
// It only ever listens on and connects to loopback addresses and the Redis
// or database given, stops by itself after the duration (and at most
// -max-requests requests) per library, and deletes what it wrote.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions/benchmarks/internal/kit"
)

type config struct {
	store       string
	redisAddr   string
	dsn         string
	duration    time.Duration
	clients     int
	sessions    int
	writeRatio  float64
	libs        []string
	maxRequests int64
	prefix      string
}

func main() {
	defaultAddr := os.Getenv("REDIS_ADDR")
	if defaultAddr == "" {
		defaultAddr = "127.0.0.1:6379"
	}
	var cfg config
	var libs string
	flag.StringVar(&cfg.store, "store", "redis", "where sessions live: redis, memory, postgres, mysql or sqlite")
	flag.StringVar(&cfg.dsn, "dsn", "", "database to use with -store postgres or mysql (default $SESSIONS_PG_DSN or $SESSIONS_MYSQL_DSN)")
	flag.StringVar(&cfg.redisAddr, "redis", defaultAddr, "Redis address (default $REDIS_ADDR, else 127.0.0.1:6379)")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to drive each library")
	flag.IntVar(&cfg.clients, "clients", 64, "concurrent keep-alive clients")
	flag.IntVar(&cfg.sessions, "sessions", 1000, "sessions the clients spread their requests over")
	flag.Float64Var(&cfg.writeRatio, "writes", 0.10, "share of requests that write (each sets a new key)")
	flag.StringVar(&libs, "libs", "ours,scs,gorilla", "libraries to test, in order")
	flag.Int64Var(&cfg.maxRequests, "max-requests", 5_000_000, "most requests per library, whatever the duration")
	flag.StringVar(&cfg.prefix, "prefix", fmt.Sprintf("sessionkit-load:%d:", os.Getpid()), "prefix of every Redis key written")
	flag.Parse()
	cfg.libs = strings.Split(libs, ",")
	if cfg.dsn == "" {
		cfg.dsn = os.Getenv(map[string]string{"postgres": "SESSIONS_PG_DSN", "mysql": "SESSIONS_MYSQL_DSN"}[cfg.store])
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}

	// A hard bound on the whole run, whatever happens to the servers.
	limit := time.Duration(len(cfg.libs))*(cfg.duration+2*time.Minute) + time.Minute
	time.AfterFunc(limit, func() {
		fmt.Fprintf(os.Stderr, "load: still running after %v: giving up\n", limit)
		os.Exit(3)
	})

	fmt.Println(cfg.header())
	fmt.Println()
	fmt.Println("| library | store | requests | req/s | p50 | p99 | errors | writes acked | writes lost | store round trips/req |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	failed := false
	var notes []string
	for _, name := range cfg.libs {
		res, err := runLib(&cfg, name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: %s: %v\n", name, err)
			failed = true
			continue
		}
		if res.skip != "" {
			notes = append(notes, res.skip)
			continue
		}
		fmt.Println(res.row())
		if res.errors > 0 || (name == "ours" && res.lost > 0) {
			failed = true
		}
		if res.firstErr != "" {
			notes = append(notes, fmt.Sprintf("%s: first error: %s", name, res.firstErr))
		}
	}
	for _, n := range notes {
		fmt.Println()
		fmt.Println(n)
	}
	if failed {
		os.Exit(1)
	}
}

func (c *config) check() error {
	switch {
	case !slices.Contains([]string{"redis", "memory", "postgres", "mysql", "sqlite"}, c.store):
		return fmt.Errorf("-store %q: want redis, memory, postgres, mysql or sqlite", c.store)
	case (c.store == "postgres" || c.store == "mysql") && c.dsn == "":
		return fmt.Errorf("-store %s needs -dsn (or $SESSIONS_PG_DSN / $SESSIONS_MYSQL_DSN)", c.store)
	case c.duration <= 0 || c.duration > time.Hour:
		return fmt.Errorf("-duration %v: want more than 0 and at most 1h", c.duration)
	case c.clients < 1 || c.clients > 4096:
		return fmt.Errorf("-clients %d: want 1 to 4096", c.clients)
	case c.sessions < 1 || c.sessions > 1_000_000:
		return fmt.Errorf("-sessions %d: want 1 to 1000000", c.sessions)
	case c.writeRatio < 0 || c.writeRatio > 1:
		return fmt.Errorf("-writes %v: want 0 to 1", c.writeRatio)
	case c.maxRequests < 1:
		return fmt.Errorf("-max-requests %d: want at least 1", c.maxRequests)
	}
	for _, l := range c.libs {
		if l != "ours" && l != "scs" && l != "gorilla" {
			return fmt.Errorf("-libs: unknown library %q (want ours, scs, gorilla)", l)
		}
	}
	return nil
}

func (c *config) header() string {
	where := "in-process memory stores"
	switch c.store {
	case "postgres", "mysql", "sqlite":
		where = c.store + ", tables of their own for each library"
	case "redis":
		where = "Redis at " + c.redisAddr
		if v := redisVersion(c.redisAddr); v != "" {
			where += " (Redis " + v + ")"
		}
	}
	return fmt.Sprintf("Load test: %s; store round trips are Redis round trips, or SQL statements and the statements prepared for them; %d keep-alive clients over %d sessions, %.0f%% writes (each a new key), %v per library; server and clients in one process, GOMAXPROCS=%d, %s.",
		where, c.clients, c.sessions, 100*c.writeRatio, c.duration, runtime.GOMAXPROCS(0), runtime.Version())
}

func redisVersion(addr string) string {
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return ""
}

type result struct {
	lib, store  string
	requests    int64
	elapsed     time.Duration
	p50, p99    time.Duration
	errors      int64
	firstErr    string
	acked, lost int
	cmds        int64 // store round trips during the load phase, -1 for a memory store
	skip        string
}

func (r *result) row() string {
	cmds := "–"
	if r.cmds >= 0 {
		cmds = fmt.Sprintf("%.2f", float64(r.cmds)/float64(r.requests))
	}
	return fmt.Sprintf("| %s | %s | %d | %.0f | %s | %s | %d | %d | %d | %s |",
		r.lib, r.store, r.requests, float64(r.requests)/r.elapsed.Seconds(),
		fmtDur(r.p50), fmtDur(r.p99), r.errors, r.acked, r.lost, cmds)
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

// newLib sets up the library on the configured store. trips, when not nil,
// counts the store's round trips.
func newLib(ctx context.Context, cfg *config, name string) (lib *kit.Lib, trips func() int64, cleanup func(), skip string, err error) {
	switch cfg.store {
	case "postgres", "mysql", "sqlite":
		return newSQLLib(ctx, cfg, name)
	case "memory":
		switch name {
		case "ours":
			lib = kit.OursMemory()
		case "scs":
			lib = kit.SCSMemory()
		case "gorilla":
			return nil, nil, nil, "gorilla: skipped on -store memory: gorilla/sessions has no server-side memory store (its CookieStore keeps the session in the cookie, so there is no store to check writes against).", nil
		}
		return lib, nil, lib.Close, "", nil
	}
	client, counter := kit.NewRedisClient(cfg.redisAddr, cfg.clients+16)
	trips = counter.Trips
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, nil, "", fmt.Errorf("redis at %s: %w", cfg.redisAddr, err)
	}
	prefix := cfg.prefix + name + ":"
	switch name {
	case "ours":
		lib, err = kit.OursRedis(ctx, client, prefix)
		if err != nil {
			client.Close()
			return nil, nil, nil, "", err
		}
	case "scs":
		lib = kit.SCSRedis(client, prefix)
	case "gorilla":
		lib = kit.GorillaRedis(client, prefix)
	}
	cleanup = func() {
		lib.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := kit.DeleteKeys(ctx, client, prefix); err != nil {
			fmt.Fprintf(os.Stderr, "load: deleting the keys %s*: %v\n", prefix, err)
		}
		client.Close()
	}
	return lib, trips, cleanup, "", nil
}

// newSQLLib sets up the library on a database of the configured kind, with
// tables of its own.
func newSQLLib(ctx context.Context, cfg *config, name string) (*kit.Lib, func() int64, func(), string, error) {
	if name == "gorilla" {
		return nil, nil, nil, "gorilla: skipped on -store " + cfg.store + ": gorilla/sessions ships no SQL store of its own.", nil
	}
	tag := fmt.Sprintf("sessionkit_load_%d_%s", os.Getpid(), name)
	env, err := kit.OpenSQL(ctx, cfg.store, cfg.dsn, tag, cfg.clients+16)
	if err != nil {
		return nil, nil, nil, "", err
	}
	lib, err := env.Lib(name)(ctx)
	if err != nil {
		env.Close()
		return nil, nil, nil, "", err
	}
	env.Counter.Gate(lib)
	cleanup := func() {
		lib.Close()
		if err := env.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "load: cleaning up %s: %v\n", cfg.store, err)
		}
	}
	// A statement prepared while a request is in flight is a round trip of
	// its own (scs's MySQL store prepares every statement it runs).
	trips := func() int64 { return env.Counter.Stmts() + env.Counter.Preps() }
	return lib, trips, cleanup, "", nil
}

// jar holds the current cookie of each session, as a browser would: a
// response that sets a new one replaces it.
type jar []atomic.Pointer[string]

func (j jar) get(i int) string { return *j[i].Load() }

func (j jar) set(i int, v string) { j[i].Store(&v) }

type ack struct {
	session int
	key     string
	value   string
}

type worker struct {
	lat      []time.Duration
	acks     []ack
	errors   int64
	firstErr string
}

func (w *worker) fail(format string, args ...any) {
	w.errors++
	if w.firstErr == "" {
		w.firstErr = fmt.Sprintf(format, args...)
	}
}

func runLib(cfg *config, name string) (*result, error) {
	ctx := context.Background()
	lib, trips, cleanup, skip, err := newLib(ctx, cfg, name)
	if err != nil {
		return nil, err
	}
	if skip != "" {
		return &result{skip: skip}, nil
	}
	defer cleanup()

	mux := http.NewServeMux()
	mux.Handle("/seed", lib.Handler(kit.Seed))
	mux.Handle("/read", lib.Handler(kit.Read))
	mux.Handle("/write", lib.Handler(kit.SetKV))
	mux.Handle("/dump", lib.Handler(kit.Dump))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	tr := &http.Transport{
		MaxIdleConns:        2 * cfg.clients,
		MaxIdleConnsPerHost: 2 * cfg.clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		DialContext:         loopbackOnly,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// The sessions, created through the library.
	cookies := make(jar, cfg.sessions)
	if err := parallelFor(cfg.sessions, cfg.clients, func(i int) error {
		resp, body, err := get(hc, base+"/seed", "")
		if err != nil {
			return err
		}
		c := kit.SessionCookie(resp.Header)
		if resp.StatusCode != http.StatusOK || c == "" {
			return fmt.Errorf("seeding a session: status %d, body %q, no session cookie", resp.StatusCode, body)
		}
		cookies.set(i, c)
		return nil
	}); err != nil {
		return nil, err
	}

	// The load.
	workers := make([]*worker, cfg.clients)
	var issued atomic.Int64
	var cmds0 int64 = -1
	if trips != nil {
		cmds0 = trips()
	}
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for wi := range workers {
		w := &worker{lat: make([]time.Duration, 0, 4096)}
		workers[wi] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), uint64(start.UnixNano())))
			seq := 0
			for time.Now().Before(deadline) && issued.Add(1) <= cfg.maxRequests {
				s := rng.IntN(cfg.sessions)
				cookie := cookies.get(s)
				write := rng.Float64() < cfg.writeRatio
				u := base + "/read"
				var k, v string
				if write {
					seq++
					k = fmt.Sprintf("c%d-%d", wi, seq)
					v = fmt.Sprintf("%x", rng.Uint64())
					u = base + "/write?k=" + url.QueryEscape(k) + "&v=" + url.QueryEscape(v)
				}
				t0 := time.Now()
				resp, body, err := get(hc, u, cookie)
				w.lat = append(w.lat, time.Since(t0))
				switch {
				case err != nil:
					w.fail("%v", err)
					continue
				case resp.StatusCode != http.StatusOK:
					w.fail("status %d: %q", resp.StatusCode, body)
					continue
				case write && body != "ok":
					w.fail("write answered %q", body)
					continue
				case !write && body != "alice":
					w.fail("read of session %d answered %q, want alice: the session was lost", s, body)
					continue
				}
				if c := kit.SessionCookie(resp.Header); c != "" && c != cookie {
					cookies.set(s, c)
				}
				if write {
					w.acks = append(w.acks, ack{s, k, v})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := &result{lib: name, store: lib.Store, elapsed: elapsed, cmds: -1}
	if trips != nil {
		res.cmds = trips() - cmds0
	}
	var lat []time.Duration
	want := make([]map[string]string, cfg.sessions)
	for _, w := range workers {
		lat = append(lat, w.lat...)
		res.errors += w.errors
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
		for _, a := range w.acks {
			if want[a.session] == nil {
				want[a.session] = make(map[string]string)
			}
			want[a.session][a.key] = a.value
			res.acked++
		}
	}
	res.requests = int64(len(lat))
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		res.p50 = lat[len(lat)*50/100]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}

	// Every acknowledged write must still be there, read back through the
	// library.
	var lost atomic.Int64
	if err := parallelFor(cfg.sessions, cfg.clients, func(i int) error {
		resp, body, err := get(hc, base+"/dump", cookies.get(i))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("dump of session %d: status %d: %q", i, resp.StatusCode, body)
		}
		got := kit.ParseDump(body)
		if got["user"] != "alice" {
			return fmt.Errorf("dump of session %d: the session is gone (%d values)", i, len(got))
		}
		for k, v := range want[i] {
			if got[k] != v {
				lost.Add(1)
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("verifying: %w", err)
	}
	res.lost = int(lost.Load())
	return res, nil
}

// loopbackOnly dials addr only if it is a loopback address.
func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, errors.New("load: refusing to connect to a non-loopback address " + addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// get sends a GET with the session cookie and returns the response and its
// body.
func get(hc *http.Client, u, session string) (*http.Response, string, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	if session != "" {
		req.Header.Set("Cookie", kit.CookieName+"="+session)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "", err
	}
	return resp, string(b), nil
}

// parallelFor calls f(0..n-1) from workers goroutines and returns the first
// error.
func parallelFor(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
