//go:build unix

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// The failover tests run Redis Clusters and Sentinel deployments of their
// own, make a replica lag behind its primary, log a session out, crash the
// primary and let the replica take over: is the logout still there?
//
// A replica lags when it cannot keep up (here: SIGSTOP) while its primary
// writes more than the kernel's socket buffers hold in the slot of the
// session: the primary's tail of the replication stream, the logout
// included, is then in the primary's memory only, and a crash loses it.

const (
	failoverNodeTimeout = "1000" // ms: cluster-node-timeout, Sentinel down-after-milliseconds
	failoverFill        = 32     // MB written behind the frozen replica
	failoverHang        = 60 * time.Second
)

// newClusterNode returns a cluster-enabled server, not started yet.
func newClusterNode(t *testing.T) *redisServer {
	s := newRedisServer(t)
	// The bus port is free too (by default it is the port + 10000, which
	// nothing checks); a restart of the node keeps both.
	bus := freePort(t)
	for bus == s.port {
		bus = freePort(t)
	}
	s.args = []string{"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(s.dir, "nodes.conf"),
		"--cluster-port", strconv.Itoa(bus),
		"--cluster-node-timeout", failoverNodeTimeout, "--cluster-replica-validity-factor", "0"}
	return s
}

// failoverCluster is a Redis Cluster of three masters with one replica
// each, started by the test.
type failoverCluster struct {
	t     *testing.T
	nodes []*redisServer
}

func startFailoverCluster(t *testing.T) *failoverCluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		needRedisServer(t) // skips, or fails under CI
		t.Fatal("redis-cli is not on PATH")
	}
	c := &failoverCluster{t: t}
	var addrs []string
	for i := 0; i < 6; i++ {
		n := newClusterNode(t)
		n.start()
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, n.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	out, err := exec.Command("redis-cli", append(args, "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitHealthy(true)
	return c
}

// waitHealthy waits until every node reports cluster_state:ok and every
// master has its replica online; with slots, also until every node lists a
// replica for every slot range in CLUSTER SLOTS (which leaves a replica out
// until its replication offset has reached the node by gossip, seconds
// later), where clients learn the replicas they route reads to.
func (c *failoverCluster) waitHealthy(slots bool) {
	c.t.Helper()
	waitFor(c.t, failoverHang, "a healthy cluster", func() bool {
		masters := 0
		for _, n := range c.nodes {
			info := redisInfo(n.addr(), "cluster", "info")
			if !strings.Contains(info, "cluster_state:ok") || (slots && !slotsHaveReplicas(n.addr())) {
				return false
			}
			if role(n.addr()) == "master" {
				masters++
				if replicasOnline(n.addr()) < 1 {
					return false
				}
			}
		}
		return masters == 3
	})
}

// slotsHaveReplicas reports whether the node at addr lists three slot
// ranges in CLUSTER SLOTS, each with a master and a replica.
func slotsHaveReplicas(addr string) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	slots, err := c.ClusterSlots(context.Background()).Result()
	if err != nil || len(slots) != 3 {
		return false
	}
	for _, s := range slots {
		if len(s.Nodes) < 2 {
			return false
		}
	}
	return true
}

// redisInfo runs a command that answers a string (INFO, CLUSTER INFO) on
// addr; "" on failure.
func redisInfo(addr string, args ...string) string {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	a := make([]interface{}, len(args))
	for i, v := range args {
		a[i] = v
	}
	s, err := c.Do(context.Background(), a...).Text()
	if err != nil {
		return ""
	}
	return s
}

// role is "master", "slave" (or "" when the server does not answer).
func role(addr string) string {
	info := redisInfo(addr, "info", "replication")
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "role:"); ok {
			return v
		}
	}
	return ""
}

// owner returns the master of slot, as the cluster sees it, and its
// replica, as the master sees it.
func (c *failoverCluster) owner(slot int) (master, replica *redisServer) {
	c.t.Helper()
	byPort := map[string]*redisServer{}
	for _, n := range c.nodes {
		byPort[strconv.Itoa(n.port)] = n
	}
	nodes := ""
	for _, n := range c.nodes {
		if nodes = redisInfo(n.addr(), "cluster", "nodes"); nodes != "" {
			break
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		for _, r := range f[8:] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			if slot >= l && slot <= h {
				hostport, _, _ := strings.Cut(f[1], "@")
				master = byPort[hostport[strings.LastIndexByte(hostport, ':')+1:]]
			}
		}
	}
	if master != nil {
		info := redisInfo(master.addr(), "info", "replication")
		if _, rest, ok := strings.Cut(info, "slave0:"); ok {
			if _, p, ok := strings.Cut(rest, "port="); ok {
				p, _, _ = strings.Cut(p, ",")
				replica = byPort[p]
			}
		}
	}
	if master == nil || replica == nil {
		c.t.Fatalf("no master with a replica for slot %d in:\n%s", slot, nodes)
	}
	return master, replica
}

// fill writes failoverFill MB to addr in the slot of hashTag, and returns
// the keys.
func fill(t *testing.T, addr, hashTag string) []string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	value := strings.Repeat("x", 1<<20)
	var keys []string
	for i := 0; i < failoverFill; i++ {
		k := fmt.Sprintf("filler:{%s}:%d", hashTag, i)
		if err := c.Set(context.Background(), k, value, 0).Err(); err != nil {
			t.Fatalf("filling the slot: %v", err)
		}
		keys = append(keys, k)
	}
	return keys
}

// liveOn reports whether the server at addr, a primary or a replica,
// holds a live record under key.
func liveOn(t *testing.T, addr, key string) bool {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, OnConnect: func(ctx context.Context, cn *redis.Conn) error {
		_ = cn.ReadOnly(ctx).Err() // a cluster replica answers reads only after it; a plain server refuses it
		return nil
	}})
	defer c.Close()
	var h map[string]string
	// A cluster node answers CLUSTERDOWN while its cluster_state is fail, as
	// a replica's is for a moment after it became master, and after it was
	// frozen; a replica answers LOADING while it loads a full resync. What
	// it holds is the same once it answers.
	waitFor(t, failoverHang, addr+" to answer", func() bool {
		var err error
		h, err = c.HGetAll(context.Background(), key).Result()
		if err != nil && !strings.HasPrefix(err.Error(), "CLUSTERDOWN") && !strings.HasPrefix(err.Error(), "LOADING") {
			t.Fatalf("HGETALL on %s: %v", addr, err)
		}
		return err == nil
	})
	_, tomb := h[tombField]
	return len(h) > 0 && !tomb
}

// failoverRound is how one logout fared.
type failoverRound struct {
	acked bool // Remove returned nil: the user got a 200
	live  bool // the promoted replica holds the session as live
	err   error
}

// thawDuringWait selects the order of events: false is SIGSTOP replica,
// fill, Remove, SIGKILL primary, SIGCONT replica; true thaws the replica
// while the Remove waits for it, and kills the primary once Remove
// returned.
func (c *failoverCluster) round(st *Store, client *redis.ClusterClient, thawDuringWait bool) failoverRound {
	t := c.t
	t.Helper()
	ctx := context.Background()
	id := testID(t)
	key, _ := st.recordKey(id)
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte(`"alice"`)}}, time.Hour); err != nil {
		t.Fatalf("Write: %v", err)
	}
	master, replica := c.owner(clusterSlot(key))
	waitFor(t, failoverHang, "the replica to hold the session", func() bool { return liveOn(t, replica.addr(), key) })

	replica.freeze()
	fillers := fill(t, master.addr(), id)
	var res failoverRound
	if thawDuringWait {
		done := make(chan error, 1)
		go func() { done <- st.Remove(ctx, id, time.Hour) }()
		time.Sleep(200 * time.Millisecond)
		replica.thaw()
		res.err = <-done
		res.acked = res.err == nil
		master.kill()
	} else {
		res.err = st.Remove(ctx, id, time.Hour)
		res.acked = res.err == nil
		master.kill()
		replica.thaw()
	}
	waitFor(t, failoverHang, "the replica to take over its slots", func() bool {
		return role(replica.addr()) == "master" && strings.Contains(redisInfo(replica.addr(), "cluster", "info"), "cluster_state:ok")
	})
	res.live = liveOn(t, replica.addr(), key)

	rc := redis.NewClient(&redis.Options{Addr: replica.addr()})
	if err := rc.Del(ctx, fillers...).Err(); err != nil {
		t.Fatalf("deleting the fillers: %v", err)
	}
	rc.Close()
	master.start() // rejoins as the replica of the new master
	c.waitHealthy(false)
	client.ReloadState(ctx)
	waitFor(t, failoverHang, "the client to see the new master", func() bool {
		n, err := client.MasterForKey(ctx, key)
		return err == nil && n.Options().Addr == replica.addr()
	})
	return res
}

// TestClusterReplicas runs a Redis Cluster of three masters with a
// replica each.
func TestClusterReplicas(t *testing.T) {
	needFaultTests(t)
	c := startFailoverCluster(t)
	t.Run("ReadOnlyClientReadsPrimary", func(t *testing.T) { c.t = t; testReadOnlyClientReadsPrimary(t, c) })
	t.Run("LaggingReplicaFailover", func(t *testing.T) { c.t = t; testLaggingReplicaFailover(t, c) })
}

// testReadOnlyClientReadsPrimary: a cluster client with ReadOnly sends
// read-only commands to replicas; the store's Read still goes to the
// primary. The replica is frozen while the session is removed, so that it
// holds a stale copy and answers nothing: a read sent there fails with a
// timeout (the client neither retries nor tries another node), where the
// primary answers "no session". Hooks on the node clients record where
// each command went.
func testReadOnlyClientReadsPrimary(t *testing.T, c *failoverCluster) {
	ctx := context.Background()
	var seeds []string
	for _, n := range c.nodes {
		seeds = append(seeds, n.addr())
	}
	// A read sent to the frozen replica fails with an i/o timeout; the
	// timeout only has to end that wait, not bound a read of the primary.
	ro := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, ReadOnly: true,
		ReadTimeout: 5 * time.Second, MaxRetries: -1, MaxRedirects: -1})
	defer ro.Close()
	var (
		mu   sync.Mutex
		sent = map[string][]string{} // by node address
	)
	ro.OnNewNode(func(node *redis.Client) {
		addr := node.Options().Addr
		node.AddHook(&callCounter{onAdd: func(name string) {
			mu.Lock()
			sent[addr] = append(sent[addr], name)
			mu.Unlock()
		}})
	})
	st := New(ro, WithKeyPrefix(randomPrefix()))
	id := testID(t)
	key, _ := st.recordKey(id)
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte(`"alice"`)}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, replica := c.owner(clusterSlot(key))
	waitFor(t, failoverHang, "the replica to hold the session", func() bool { return liveOn(t, replica.addr(), key) })
	replica.freeze()
	defer replica.thaw()
	if err := st.Remove(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clear(sent)
	mu.Unlock()
	for i := 0; i < 5; i++ {
		if rec, err := st.Read(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Read through a ReadOnly cluster client, the replica frozen, gave %v, %v; want sessions.ErrNotFound from the primary", rec, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := sent[replica.addr()]; len(got) > 0 {
		t.Fatalf("Read sent %q to the replica", got)
	}
}

// testLaggingReplicaFailover: with WithWaitReplicas(1, ...) no logout that
// Remove acknowledged is lost when a lagging replica takes over; half the
// rounds thaw the replica while Remove waits (the logout is acknowledged
// and must survive), half kill the primary with the replica still frozen
// (the logout is refused: the user sees an error and can retry). Without
// it, the test reports how many acknowledged logouts the promoted replica
// lost.
func testLaggingReplicaFailover(t *testing.T, c *failoverCluster) {
	var seeds []string
	for _, n := range c.nodes {
		seeds = append(seeds, n.addr())
	}
	// WAIT blocks for up to its timeout inside a pipeline that the client's
	// ReadTimeout bounds: keep the one below the other.
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, MaxRedirects: 16, ReadTimeout: failoverHang})
	defer client.Close()
	prefix := randomPrefix()

	// The rounds that thaw the replica wait as long as it takes it to catch
	// up (WAIT returns at its acknowledgement; the timeout is a hang
	// guard); the others are refused after the timeout, whatever it is.
	waitLong := New(client, WithKeyPrefix(prefix), WithWaitReplicas(1, failoverHang/2))
	waitShort := New(client, WithKeyPrefix(prefix), WithWaitReplicas(1, 500*time.Millisecond))
	const rounds = 20
	acked, lost := 0, 0
	for i := 0; i < rounds; i++ {
		thaw := i%2 == 0
		st := waitShort
		if thaw {
			st = waitLong
		}
		r := c.round(st, client, thaw)
		if r.acked {
			acked++
		} else if !errors.Is(r.err, ErrNotReplicated) {
			t.Errorf("round %d: Remove failed with %v, want nil or ErrNotReplicated", i, r.err)
		}
		if thaw && !r.acked {
			t.Errorf("round %d: the replica was thawed during WAIT, but Remove gave %v", i, r.err)
		}
		if r.acked && r.live {
			lost++
			t.Errorf("round %d: an acknowledged logout was lost in the failover", i)
		}
	}
	t.Logf("WithWaitReplicas(1, ...): %d rounds, %d logouts acknowledged, %d of them lost; %d refused with ErrNotReplicated", rounds, acked, lost, rounds-acked)

	plain := New(client, WithKeyPrefix(prefix))
	const plainRounds = 5
	lost = 0
	for i := 0; i < plainRounds; i++ {
		r := c.round(plain, client, false)
		if !r.acked {
			t.Errorf("round %d without WAIT: Remove gave %v", i, r.err)
		}
		if r.live {
			lost++
		}
	}
	t.Logf("without WithWaitReplicas: %d rounds, every logout acknowledged, %d lost in the failover", plainRounds, lost)
}

// TestSentinelFailover: a primary, one replica and a Sentinel. The
// replica lags (frozen, with the primary writing behind it), a logout
// waits for it with WithWaitReplicas while it is thawed, the primary
// crashes right after the logout returned, Sentinel promotes the replica,
// and the logout holds: the old ID reads as no session and refuses writes
// on the new primary.
func TestSentinelFailover(t *testing.T) {
	needFaultTests(t)
	ctx := context.Background()
	primary := newRedisServer(t)
	primary.start()
	replica := startReplica(t, primary)
	sentinel := newRedisServer(t)
	sentinel.conf = filepath.Join(sentinel.dir, "sentinel.conf")
	conf := fmt.Sprintf("sentinel monitor sessions 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds sessions %s\nsentinel failover-timeout sessions 10000\n", primary.port, failoverNodeTimeout)
	if err := os.WriteFile(sentinel.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel.args = []string{"--sentinel"}
	sentinel.start()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.addr()})
	defer sc.Close()
	waitFor(t, failoverHang, "Sentinel to find the replica", func() bool {
		r, err := sc.Replicas(ctx, "sessions").Result()
		return err == nil && len(r) == 1 && !strings.Contains(r[0]["flags"], "down")
	})

	client := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "sessions", SentinelAddrs: []string{sentinel.addr()},
		DialTimeout: time.Second, ReadTimeout: failoverHang, MaxRetries: -1})
	defer client.Close()
	st := New(client, WithWaitReplicas(1, failoverHang/2))
	id := testID(t)
	key, _ := st.recordKey(id)
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte(`"alice"`)}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	waitFor(t, failoverHang, "the replica to hold the session", func() bool { return liveOn(t, replica.addr(), key) })

	replica.freeze()
	fill(t, primary.addr(), id)
	done := make(chan error, 1)
	go func() { done <- st.Remove(ctx, id, time.Hour) }()
	time.Sleep(200 * time.Millisecond)
	replica.thaw()
	if err := <-done; err != nil {
		t.Fatalf("logout with the replica thawed during WAIT: %v", err)
	}
	primary.kill()
	waitFor(t, failoverHang, "Sentinel to promote the replica", func() bool {
		addr, err := sc.GetMasterAddrByName(ctx, "sessions").Result()
		return err == nil && addr[1] == strconv.Itoa(replica.port) && role(replica.addr()) == "master"
	})

	// The client finds the new primary through Sentinel; until it does,
	// its calls fail with connection errors, never with a live record.
	ch := sessions.Change{Set: sessions.Record{"user": []byte(`"mallory"`)}}
	waitFor(t, failoverHang, "the client to reach the new primary", func() bool {
		rec, err := st.Read(ctx, id)
		if err == nil {
			t.Fatalf("after the failover the logged-out session reads %v", rec)
		}
		return errors.Is(err, sessions.ErrNotFound)
	})
	if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
		t.Fatalf("after the failover, a Write to the logged-out session gave %v, want sessions.ErrInvalidated", err)
	}
	if liveOn(t, replica.addr(), key) {
		t.Fatal("the promoted replica holds the logged-out session as live")
	}
}
