//go:build unix

package redisstore

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// startReplica starts a replica of primary and waits until the primary
// counts it online.
func startReplica(t *testing.T, primary *redisServer) *redisServer {
	t.Helper()
	r := newRedisServer(t)
	r.args = []string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.port)}
	r.start()
	waitFor(t, 20*time.Second, "the replica to come online", func() bool {
		return replicasOnline(primary.addr()) >= 1
	})
	return r
}

// replicasOnline is how many replicas the server at addr counts online.
func replicasOnline(addr string) int {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	info, err := c.Info(context.Background(), "replication").Result()
	if err != nil {
		return -1
	}
	return strings.Count(info, "state=online")
}

// waitFor polls cond until it holds, and fails the test after limit: a
// bound on a hang, not a performance claim.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWithWaitReplicasPanics(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer client.Close()
	defer ring.Close()
	for name, f := range map[string]func(){
		"negative n":                     func() { New(client, WithWaitReplicas(-1, time.Second)) },
		"zero timeout":                   func() { New(client, WithWaitReplicas(1, 0)) },
		"a Ring":                         func() { New(ring, WithWaitReplicas(1, time.Second)) },
		"another client":                 func() { New(struct{ redis.UniversalClient }{client}, WithWaitReplicas(1, time.Second)) },
		"timeout beyond the ReadTimeout": func() { New(client, WithWaitReplicas(1, 3*time.Second)) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
	New(ring, WithWaitReplicas(0, 0)) // n = 0 waits for nothing: any client
}

// TestWithWaitReplicas: on a primary with one replica, a Remove that waits
// for it is one round trip, and once it returns the replica holds the
// tombstone; asking for more replicas than there are fails the Remove with
// ErrNotReplicated after the timeout, with the tombstone on the primary.
func TestWithWaitReplicas(t *testing.T) {
	ctx := context.Background()
	primary := newRedisServer(t)
	primary.start()
	replica := startReplica(t, primary)
	// WAIT blocks inside a pipeline that ReadTimeout bounds.
	client := redis.NewClient(&redis.Options{Addr: primary.addr(), ReadTimeout: 10 * time.Second})
	defer client.Close()
	calls := &callCounter{}
	client.AddHook(calls)
	onReplica := New(redis.NewClient(&redis.Options{Addr: replica.addr()}))
	defer onReplica.client.Close()

	st := New(client, WithWaitReplicas(1, 5*time.Second))
	if err := st.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	id := testID(t)
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	calls.take()
	if err := st.Remove(ctx, id, time.Hour); err != nil {
		t.Fatalf("Remove with one replica online: %v", err)
	}
	if got := calls.take(); !reflect.DeepEqual(got, []string{"pipeline(evalsha,wait)"}) {
		t.Fatalf("Remove sent %q, want one pipeline of EVALSHA and WAIT", got)
	}
	key, _ := st.recordKey(id)
	if got := onReplica.client.HGetAll(ctx, key).Val(); !reflect.DeepEqual(got, map[string]string{tombField: "1"}) {
		t.Fatalf("right after Remove the replica holds %v, want the tombstone", got)
	}
	if err := st.Remove(ctx, id, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("a second Remove gave %v, want sessions.ErrNotFound", err)
	}

	// The script cache lost (a restart, a failover): EVAL, still with WAIT.
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	other := testID(t)
	calls.take()
	if err := st.Remove(ctx, other, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Remove after SCRIPT FLUSH gave %v, want sessions.ErrNotFound", err)
	}
	if got := calls.take(); !reflect.DeepEqual(got, []string{"pipeline(evalsha,wait)", "pipeline(eval,wait)"}) {
		t.Fatalf("Remove after SCRIPT FLUSH sent %q", got)
	}

	two := New(client, WithWaitReplicas(2, 200*time.Millisecond))
	third := testID(t)
	start := time.Now()
	err := two.Remove(ctx, third, time.Hour)
	if !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("Remove waiting for 2 replicas of 1 gave %v, want ErrNotReplicated", err)
	}
	t.Logf("Remove waiting for 2 replicas of 1: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if err := st.Write(ctx, third, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
		t.Fatalf("after a Remove that was not replicated, Write gave %v, want sessions.ErrInvalidated (the tombstone is on the primary)", err)
	}
}

// TestWithWaitReplicasCluster: on a Redis Cluster without replicas, WAIT
// goes to the master of the key's slot and finds no replica there.
func TestWithWaitReplicasCluster(t *testing.T) {
	e := newEnv(t, kindCluster)
	ctx := context.Background()
	st := e.store(WithWaitReplicas(1, 100*time.Millisecond))
	id := testID(t)
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, id, time.Hour); !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("Remove on a cluster without replicas gave %v, want ErrNotReplicated", err)
	}
	if _, err := st.Read(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Read after the Remove gave %v, want sessions.ErrNotFound", err)
	}
	if err := e.store(WithWaitReplicas(0, 0)).Remove(ctx, id, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("a second Remove gave %v, want sessions.ErrNotFound", err)
	}
}

// TestDestroyUserWithLaggingReplicas: with WithWaitReplicas asking for more
// replicas than acknowledge, every Remove of a log out everywhere returns
// ErrNotReplicated; DestroyUser still tombstones every session on the
// primary, and returns the errors joined.
func TestDestroyUserWithLaggingReplicas(t *testing.T) {
	ctx := context.Background()
	primary := newRedisServer(t)
	primary.start()
	startReplica(t, primary)
	client := redis.NewClient(&redis.Options{Addr: primary.addr(), ReadTimeout: 10 * time.Second})
	defer client.Close()
	st := New(client, WithWaitReplicas(2, 200*time.Millisecond))
	m := sessions.New(st)
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = loginAs(t, m, "lagging")
	}
	err := m.DestroyUser(ctx, "lagging")
	if !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("DestroyUser with a lagging replica gave %v, want ErrNotReplicated", err)
	}
	for i, id := range ids {
		if err := st.Write(ctx, handleOf(id), sessions.Change{Set: sessions.Record{"a": []byte("1")}}, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
			t.Errorf("session %d of 5 after DestroyUser: Write gave %v, want sessions.ErrInvalidated (its tombstone on the primary)", i+1, err)
		}
	}
}
