package sessions_test

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// TestRedisStoreConformance runs the Store conformance suite against
// miniredis, a real standalone Redis ($REDIS_ADDR), the same server through
// Sentinel ($REDIS_SENTINEL_ADDR) and a real Redis Cluster
// ($REDIS_CLUSTER_ADDRS).
func TestRedisStoreConformance(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		sessionstest.Run(t, func(t *testing.T) sessions.Store {
			m.FlushAll()
			client := redis.NewClient(&redis.Options{Addr: m.Addr()})
			t.Cleanup(func() { client.Close() })
			return sessions.NewRedisStore(client)
		}, sessionstest.Wait(m.FastForward))
	})
	for _, kind := range []string{"redis", "sentinel", "cluster"} {
		t.Run(kind, func(t *testing.T) {
			sessions.NewRedisTestEnv(t, kind) // skips, or fails under CI, without a server
			sessionstest.Run(t, func(t *testing.T) sessions.Store {
				return sessions.NewRedisTestEnv(t, kind).Store()
			}, sessionstest.Wait(time.Sleep))
		})
	}
}
