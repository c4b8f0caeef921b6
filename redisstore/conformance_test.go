package redisstore

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// TestConformance runs the Store conformance suite against miniredis, a
// real standalone Redis ($REDIS_ADDR), the same server through Sentinel
// ($REDIS_SENTINEL_ADDR) and a real Redis Cluster ($REDIS_CLUSTER_ADDRS).
func TestConformance(t *testing.T) {
	t.Run(kindMini, func(t *testing.T) {
		m := miniredis.RunT(t)
		sessionstest.Run(t, func(t *testing.T) sessions.Store {
			m.FlushAll()
			client := redis.NewClient(&redis.Options{Addr: m.Addr()})
			t.Cleanup(func() { client.Close() })
			return New(client)
		}, sessionstest.Wait(m.FastForward))
	})
	for _, kind := range []string{kindServer, kindSentinel, kindCluster} {
		t.Run(kind, func(t *testing.T) {
			newEnv(t, kind) // skips, or fails under CI, without a server
			sessionstest.Run(t, func(t *testing.T) sessions.Store {
				return newEnv(t, kind).store()
			}, sessionstest.Wait(time.Sleep))
		})
	}
}

// TestGuarantees runs the HTTP-level guarantee suite on miniredis, a real
// standalone Redis, the same server through Sentinel and a real Redis
// Cluster.
func TestGuarantees(t *testing.T) {
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newEnv(t, kind).store() })
		})
	}
}

// TestGuaranteesWithHeader runs the guarantee suite with the ID in a
// request header: as a Bearer credential and in a header of its own.
func TestGuaranteesWithHeader(t *testing.T) {
	for _, header := range []string{"Authorization", "X-Session"} {
		t.Run(header, func(t *testing.T) {
			sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newEnv(t, kindMini).store() },
				sessionstest.Header(header), sessionstest.Rounds(0.25))
		})
	}
}
