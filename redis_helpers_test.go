package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// The Redis tests run against miniredis (always), a real standalone server
// at $REDIS_ADDR, the same server reached through the Sentinel at
// $REDIS_SENTINEL_ADDR (master name $REDIS_SENTINEL_MASTER), and a real Redis
// Cluster seeded by the comma-separated $REDIS_CLUSTER_ADDRS.
// `source .ci/redis.sh; redis_up` starts the real ones and sets the
// variables.
const (
	redisKindMini     = "miniredis"
	redisKindServer   = "redis"
	redisKindSentinel = "sentinel"
	redisKindCluster  = "cluster"
)

var redisKinds = []string{redisKindMini, redisKindServer, redisKindSentinel, redisKindCluster}

// redisEnvVar returns the value of the environment variable name. When it
// is unset the test is skipped, or fails when CI=true: CI must run every
// Redis test.
func redisEnvVar(t testing.TB, name string) string {
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

// RedisTestEnv is one test's view of a Redis server: a client of its own
// that counts the commands it sends, and a key prefix no other test uses.
// The keys under the prefix are deleted and the client closed when the test
// ends. It is exported for the conformance test in package sessions_test.
type RedisTestEnv struct {
	Kind   string
	Client redis.UniversalClient
	Prefix string
	// Mini is the in-process server when Kind is "miniredis", else nil.
	Mini  *miniredis.Miniredis
	Calls *RedisCallCounter
}

// NewRedisTestEnv connects to the server of the given kind: "miniredis" (a
// new in-process server), "redis", "sentinel" or "cluster".
func NewRedisTestEnv(t testing.TB, kind string) *RedisTestEnv {
	t.Helper()
	e := &RedisTestEnv{Kind: kind, Prefix: randomRedisPrefix(), Calls: &RedisCallCounter{}}
	switch kind {
	case redisKindMini:
		e.Mini = miniredis.RunT(t)
		e.Client = redis.NewClient(&redis.Options{Addr: e.Mini.Addr()})
	case redisKindServer:
		e.Client = redis.NewClient(&redis.Options{Addr: redisEnvVar(t, "REDIS_ADDR")})
	case redisKindSentinel:
		addr, master := redisEnvVar(t, "REDIS_SENTINEL_ADDR"), redisEnvVar(t, "REDIS_SENTINEL_MASTER")
		e.Client = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: []string{addr}})
	case redisKindCluster:
		addrs := strings.Split(redisEnvVar(t, "REDIS_CLUSTER_ADDRS"), ",")
		e.Client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	default:
		t.Fatalf("unknown Redis kind %q", kind)
	}
	e.Client.AddHook(e.Calls)
	t.Cleanup(func() {
		if e.Mini == nil {
			e.deleteKeys(t)
		}
		e.Client.Close()
	})
	if err := e.Client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("%s: PING: %v", kind, err)
	}
	return e
}

// Store returns a RedisStore under the env's prefix; opts come after the
// prefix option.
func (e *RedisTestEnv) Store(opts ...RedisOption) *RedisStore {
	return NewRedisStore(e.Client, append([]RedisOption{WithKeyPrefix(e.Prefix)}, opts...)...)
}

// Wait lets d pass for the server: miniredis's clock is advanced, a real
// server is waited for.
func (e *RedisTestEnv) Wait(d time.Duration) {
	if e.Mini != nil {
		e.Mini.FastForward(d)
		return
	}
	time.Sleep(d)
}

// Keys lists the keys under the env's prefix.
func (e *RedisTestEnv) Keys(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, e.Prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := e.Client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatalf("SCAN %s*: %v", e.Prefix, err)
	}
	return keys
}

func (e *RedisTestEnv) deleteKeys(t testing.TB) {
	ctx := context.Background()
	for _, k := range e.Keys(t) {
		if err := e.Client.Del(ctx, k).Err(); err != nil {
			t.Errorf("cleanup: DEL %s: %v", k, err)
		}
	}
}

func randomRedisPrefix() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "sessionstest:" + hex.EncodeToString(b) + ":"
}

// RedisCallCounter is a go-redis hook that counts round trips: each command
// is one, and so is each pipeline, however many commands it holds. It
// records the command names too, for failure messages.
type RedisCallCounter struct {
	mu    sync.Mutex
	calls []string
	onAdd func(name string) // if set, called with each name as well
}

// DialHook implements redis.Hook.
func (c *RedisCallCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *RedisCallCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *RedisCallCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.add("pipeline(" + strings.Join(names, ",") + ")")
		return next(ctx, cmds)
	}
}

func (c *RedisCallCounter) add(name string) {
	c.mu.Lock()
	c.calls = append(c.calls, name)
	c.mu.Unlock()
	if c.onAdd != nil {
		c.onAdd(name)
	}
}

// Take returns the round trips counted since the last Take, by command
// name, and starts counting afresh.
func (c *RedisCallCounter) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}
