package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// TestMain keeps the default logger quiet: tests that check log records pass
// their own logger. go-redis's logger is quiet too, set here once, before any
// client dials: the tests of unreachable servers make its pool log each
// failed dial, and a later SetLogger would race with the dials of those
// clients still running in the background.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	redis.SetLogger(quietRedisLogger{})
	os.Exit(m.Run())
}

// quietRedisLogger drops go-redis's log lines: the tests of unreachable
// servers fail to dial on purpose, thousands of times.
type quietRedisLogger struct{}

func (quietRedisLogger) Printf(context.Context, string, ...interface{}) {}

// The Redis tests run against miniredis (always), a real standalone server
// at $REDIS_ADDR, the same server reached through the Sentinel at
// $REDIS_SENTINEL_ADDR (master name $REDIS_SENTINEL_MASTER), and a real Redis
// Cluster seeded by the comma-separated $REDIS_CLUSTER_ADDRS.
// `source .ci/redis.sh; redis_up` (from the repository's root) starts the
// real ones and sets the variables.
const (
	kindMini     = "miniredis"
	kindServer   = "redis"
	kindSentinel = "sentinel"
	kindCluster  = "cluster"
)

var allKinds = []string{kindMini, kindServer, kindSentinel, kindCluster}

// envVar returns the value of the environment variable name. When it is
// unset the test is skipped, or fails when CI=true: CI must run every Redis
// test.
func envVar(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set", name)
		}
		t.Skipf("%s is not set: skipping the tests against a real Redis (source .ci/redis.sh; redis_up)", name)
	}
	return v
}

// testEnv is one test's view of a Redis server: a client of its own that
// counts the commands it sends, and a key prefix no other test uses. The
// keys under the prefix are deleted and the client closed when the test
// ends.
type testEnv struct {
	kind   string
	client redis.UniversalClient
	prefix string
	// mini is the in-process server when kind is kindMini, else nil.
	mini  *miniredis.Miniredis
	calls *callCounter
}

// newEnv connects to the server of the given kind: kindMini (a new
// in-process server), kindServer, kindSentinel or kindCluster.
func newEnv(t testing.TB, kind string) *testEnv {
	t.Helper()
	e := &testEnv{kind: kind, prefix: randomPrefix(), calls: &callCounter{}}
	switch kind {
	case kindMini:
		e.mini = miniredis.RunT(t)
		e.client = redis.NewClient(&redis.Options{Addr: e.mini.Addr()})
	case kindServer:
		e.client = redis.NewClient(&redis.Options{Addr: envVar(t, "REDIS_ADDR")})
	case kindSentinel:
		addr, master := envVar(t, "REDIS_SENTINEL_ADDR"), envVar(t, "REDIS_SENTINEL_MASTER")
		e.client = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: []string{addr}})
	case kindCluster:
		addrs := strings.Split(envVar(t, "REDIS_CLUSTER_ADDRS"), ",")
		e.client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	default:
		t.Fatalf("unknown Redis kind %q", kind)
	}
	e.client.AddHook(e.calls)
	t.Cleanup(func() {
		if e.mini == nil {
			e.deleteKeys(t)
		}
		e.client.Close()
	})
	if err := e.client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("%s: PING: %v", kind, err)
	}
	return e
}

// forEachRedis runs f as a subtest against every Redis kind.
func forEachRedis(t *testing.T, f func(t *testing.T, e *testEnv)) {
	t.Helper()
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) { f(t, newEnv(t, kind)) })
	}
}

// store returns a Store under the env's prefix; opts come after the prefix
// option.
func (e *testEnv) store(opts ...Option) *Store {
	return New(e.client, append([]Option{WithKeyPrefix(e.prefix)}, opts...)...)
}

// key returns the key of id's record under the env's prefix.
func (e *testEnv) key(id string) string { return e.prefix + "{" + id + "}" }

// keys lists the keys under the env's prefix.
func (e *testEnv) keys(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, e.prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := e.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatalf("SCAN %s*: %v", e.prefix, err)
	}
	return keys
}

func (e *testEnv) deleteKeys(t testing.TB) {
	ctx := context.Background()
	for _, k := range e.keys(t) {
		if err := e.client.Del(ctx, k).Err(); err != nil {
			t.Errorf("cleanup: DEL %s: %v", k, err)
		}
	}
}

func randomPrefix() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "sessionstest:" + hex.EncodeToString(b) + ":"
}

// callCounter is a go-redis hook that counts round trips: each command is
// one, and so is each pipeline, however many commands it holds. It records
// the command names too, for failure messages.
type callCounter struct {
	mu    sync.Mutex
	calls []string
	onAdd func(name string) // if set, called with each name as well
}

// DialHook implements redis.Hook.
func (c *callCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.add("pipeline(" + strings.Join(names, ",") + ")")
		return next(ctx, cmds)
	}
}

func (c *callCounter) add(name string) {
	c.mu.Lock()
	c.calls = append(c.calls, name)
	c.mu.Unlock()
	if c.onAdd != nil {
		c.onAdd(name)
	}
}

// take returns the round trips counted since the last take, by command
// name, and starts counting afresh.
func (c *callCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}
