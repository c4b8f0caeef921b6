package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// crc16 is the CRC16-CCITT (XModem) that Redis Cluster hashes keys with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// clusterSlot is the Redis Cluster slot of key, hash tags included.
func clusterSlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(key)) % 16384)
}

func TestClusterSlotReference(t *testing.T) {
	// The check value of CRC16-XModem, and slots given by CLUSTER KEYSLOT on
	// Redis 7.0.
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3", got)
	}
	for key, want := range map[string]int{
		"foo": 12182, "123456789": 12739, "{user1000}.following": 3443, "{user1000}.followers": 3443,
		"foo{}{bar}": 8363, "foo{{bar}}zap": 4015, "foo{bar}{zap}": 5061,
	} {
		if got := clusterSlot(key); got != want {
			t.Errorf("clusterSlot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestKeyLayout(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			opts   []Option
			keyFor func(id string) string
		}{
			{"handle", nil, func(id string) string { return id }},
			{"manager record", nil, func(id string) string { return "u:" + id }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, e.kind)
				st := e.store(tc.opts...)
				id := tc.keyFor(testID(t))
				recKey := e.key(id)

				if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1"), "b": []byte("2")}}, time.Minute); err != nil {
					t.Fatal(err)
				}
				if got := e.keys(t); !reflect.DeepEqual(got, []string{recKey}) {
					t.Fatalf("keys after Write = %q, want [%q]", got, recKey)
				}
				if typ := e.client.Type(ctx, recKey).Val(); typ != "hash" {
					t.Fatalf("TYPE %s = %q, want hash", recKey, typ)
				}
				if got := e.client.HGetAll(ctx, recKey).Val(); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
					t.Fatalf("HGETALL %s = %v", recKey, got)
				}

				if err := st.Remove(ctx, id, time.Minute); err != nil {
					t.Fatal(err)
				}
				if got := e.keys(t); !reflect.DeepEqual(got, []string{recKey}) {
					t.Fatalf("keys after Remove = %q, want [%q]", got, recKey)
				}
				if got := e.client.HGetAll(ctx, recKey).Val(); !reflect.DeepEqual(got, map[string]string{tombField: "1"}) {
					t.Fatalf("HGETALL %s after Remove = %v, want only the tombstone field", recKey, got)
				}

				// The hash tag is the id: the slot is the id's, whatever the prefix.
				if want := int(crc16([]byte(id)) % 16384); clusterSlot(recKey) != want {
					t.Fatalf("%s hashes to slot %d, want the slot of its id, %d", recKey, clusterSlot(recKey), want)
				}
				if e.kind == kindCluster {
					slot, err := e.client.ClusterKeySlot(ctx, recKey).Result()
					if err != nil {
						t.Fatal(err)
					}
					if int(slot) != clusterSlot(recKey) {
						t.Fatalf("CLUSTER KEYSLOT %s = %d, want %d", recKey, slot, clusterSlot(recKey))
					}
				}
			})
		}
	})
}

// pttl returns the remaining TTL of key; it fails the test if the key is
// missing or has no expiry.
func pttl(t *testing.T, e *testEnv, key string) time.Duration {
	t.Helper()
	d, err := e.client.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if d < 0 {
		t.Fatalf("PTTL %s = %v: the key is missing or has no expiry", key, d)
	}
	return d
}

// expectTTL checks that key expires in want, give or take the few seconds a
// slow machine may take between the command and the check.
func expectTTL(t *testing.T, e *testEnv, key string, want time.Duration, what string) {
	t.Helper()
	if got := pttl(t, e, key); got > want || got < want-5*time.Second {
		t.Fatalf("%s: PTTL = %v, want about %v", what, got, want)
	}
}

// expectTomb checks that key is a tombstone: a hash of the tombstone
// field alone.
func expectTomb(t *testing.T, e *testEnv, key, what string) {
	t.Helper()
	got, err := e.client.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]string{tombField: "1"}) {
		t.Fatalf("%s: HGETALL %s = %v, want a tombstone", what, key, got)
	}
}

func expectNoKey(t *testing.T, e *testEnv, key, what string) {
	t.Helper()
	if n := e.client.Exists(context.Background(), key).Val(); n != 0 {
		t.Fatalf("%s: key %s exists", what, key)
	}
}

func TestTTLs(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		id := testID(t)
		recKey := e.key(id)

		write := func(ch sessions.Change, ttl time.Duration) {
			t.Helper()
			if err := st.Write(ctx, id, ch, ttl); err != nil {
				t.Fatal(err)
			}
		}
		write(sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, 30*time.Minute)
		expectTTL(t, e, recKey, 30*time.Minute, "Write with Replace")
		write(sessions.Change{}, 10*time.Minute)
		expectTTL(t, e, recKey, 10*time.Minute, "a touch sets the TTL, shorter too")
		write(sessions.Change{Set: sessions.Record{"b": []byte("2")}}, 20*time.Minute)
		expectTTL(t, e, recKey, 20*time.Minute, "a delta Write")
		write(sessions.Change{Delete: []string{"b"}}, 15*time.Minute)
		expectTTL(t, e, recKey, 15*time.Minute, "a delta Write that only deletes")

		remove := func(ttl time.Duration, want error) {
			t.Helper()
			if err := st.Remove(ctx, id, ttl); !errors.Is(err, want) {
				t.Fatalf("Remove gave %v, want %v", err, want)
			}
		}
		remove(2*time.Hour, nil)
		expectTomb(t, e, recKey, "after Remove")
		expectTTL(t, e, recKey, 2*time.Hour, "tombstone")
		remove(time.Hour, sessions.ErrNotFound)
		expectTTL(t, e, recKey, 2*time.Hour, "a second Remove with a shorter ttl keeps the longer tombstone")
		remove(3*time.Hour, sessions.ErrNotFound)
		expectTTL(t, e, recKey, 3*time.Hour, "a second Remove with a longer ttl extends the tombstone")
		remove(0, sessions.ErrNotFound)
		expectTTL(t, e, recKey, 3*time.Hour, "Remove with ttl 0 keeps the tombstone")

		for _, ch := range []sessions.Change{
			{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("mallory")}},
			{Set: sessions.Record{"a": []byte("mallory")}},
			{},
		} {
			if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
				t.Fatalf("Write %+v after Remove gave %v, want sessions.ErrInvalidated", ch, err)
			}
			expectTomb(t, e, recKey, "a refused Write")
			expectTTL(t, e, recKey, 3*time.Hour, "a refused Write leaves the tombstone as it was")
		}
	})
}

func TestNonPositiveTTL(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		id := testID(t)
		recKey := e.key(id)

		if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, 0); err != nil {
			t.Fatal(err)
		}
		expectNoKey(t, e, recKey, "Write with Replace and ttl 0")
		if err := st.Write(ctx, id, sessions.Change{}, -time.Second); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("a touch with ttl < 0 to a missing record gave %v, want sessions.ErrNotFound", err)
		}
		if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.Write(ctx, id, sessions.Change{Set: sessions.Record{"b": []byte("2")}}, -time.Second); err != nil {
			t.Fatal(err)
		}
		expectNoKey(t, e, recKey, "a delta Write with ttl < 0 ends the record")
		if err := st.Remove(ctx, id, 0); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Remove with ttl 0 of a missing record gave %v, want sessions.ErrNotFound", err)
		}
		expectNoKey(t, e, recKey, "Remove with ttl 0 of an ID without tombstone")
		if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, id, 0); err != nil {
			t.Fatalf("Remove with ttl 0 of a live record gave %v, want nil", err)
		}
		expectNoKey(t, e, recKey, "Remove with ttl 0")
	})
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		ttl  time.Duration
		want int64
	}{
		{-time.Second, 0},
		{0, 0},
		{1, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{1500 * time.Microsecond, 2},
		{30 * time.Minute, 1800000},
		{math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
	} {
		if got := millis(tc.ttl); got != tc.want {
			t.Errorf("millis(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}

// TestChecksTombstoneFirst plants a tombstone hash that still
// holds a value, which Remove never leaves, to show that every script and
// Read look at the tombstone field before the record.
func TestChecksTombstoneFirst(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		id := testID(t)
		recKey := e.key(id)
		if err := e.client.HSet(ctx, recKey, "user", "alice", tombField, "1").Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Read(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Read of a tombstoned ID gave %v, want sessions.ErrNotFound", err)
		}
		if ok, err := st.Exists(ctx, id); ok || err != nil {
			t.Fatalf("Exists of a tombstoned ID gave (%v, %v), want (false, nil)", ok, err)
		}
		for _, ch := range []sessions.Change{{Set: sessions.Record{"user": []byte("mallory")}}, {Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte("mallory")}}, {}} {
			if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
				t.Fatalf("Write %+v to a tombstoned ID gave %v, want sessions.ErrInvalidated", ch, err)
			}
		}
		if got := e.client.HGet(ctx, recKey, "user").Val(); got != "alice" {
			t.Fatalf("a refused Write changed the record: user = %q", got)
		}
		if err := st.Remove(ctx, id, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Remove of a tombstoned ID gave %v, want sessions.ErrNotFound", err)
		}
	})
}

// TestRefusesTombField: a Change may not set the field that marks a
// tombstone, which would end the session it writes to. The error names the
// field, is no ErrNotFound (which would start a new session), and nothing
// is sent. The Manager never writes it: its keys with the prefix "__" are
// reserved.
func TestRefusesTombField(t *testing.T) {
	e := newEnv(t, kindMini)
	st := e.store()
	e.calls.take()
	for _, ch := range []sessions.Change{
		{Mode: sessions.ModeReplace, Set: sessions.Record{tombField: []byte("x")}},
		{Mode: sessions.ModeUpsert, Set: sessions.Record{tombField: []byte("x")}},
		{Set: sessions.Record{tombField: []byte("x")}},
	} {
		err := st.Write(context.Background(), testID(t), ch, time.Minute)
		if err == nil || errors.Is(err, sessions.ErrNotFound) || !strings.Contains(err.Error(), `"__tomb"`) {
			t.Errorf("a Write %+v gave %v, want an error that names the field", ch, err)
		}
	}
	if got := e.calls.take(); len(got) != 0 {
		t.Fatalf("a refused Write sent %q", got)
	}
}

// TestRoundTrips counts the commands each Store method sends:
// exactly one EVALSHA, once the scripts are loaded.
func TestRoundTrips(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		if err := st.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		live, gone := testID(t), testID(t)
		if err := st.Remove(ctx, gone, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatal(err)
		}
		e.calls.take()
		for _, op := range []struct {
			name string
			run  func() error
		}{
			{"Write new", func() error {
				return st.Write(ctx, live, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1"), "b": []byte("2")}}, time.Hour)
			}},
			{"Read", func() error { _, err := st.Read(ctx, live); return err }},
			{"Read missing", func() error { _, err := st.Read(ctx, testID(t)); return ignore(err, sessions.ErrNotFound) }},
			{"Read removed", func() error { _, err := st.Read(ctx, gone); return ignore(err, sessions.ErrNotFound) }},
			{"Exists", func() error { _, err := st.Exists(ctx, live); return err }},
			{"Write delta", func() error {
				return st.Write(ctx, live, sessions.Change{Set: sessions.Record{"c": []byte("3")}, Delete: []string{"a"}}, time.Hour)
			}},
			{"Write touch", func() error { return st.Write(ctx, live, sessions.Change{}, time.Hour) }},
			{"Write replace", func() error {
				return st.Write(ctx, live, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"z": []byte("26")}}, time.Hour)
			}},
			{"Write refused", func() error {
				return ignore(st.Write(ctx, gone, sessions.Change{Set: sessions.Record{"a": []byte("1")}}, time.Hour), sessions.ErrInvalidated)
			}},
			{"Write missing", func() error {
				return ignore(st.Write(ctx, testID(t), sessions.Change{Set: sessions.Record{"a": []byte("1")}}, time.Hour), sessions.ErrNotFound)
			}},
			{"Remove", func() error { return st.Remove(ctx, live, time.Hour) }},
			{"Remove again", func() error { return ignore(st.Remove(ctx, live, time.Hour), sessions.ErrNotFound) }},
		} {
			if err := op.run(); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			want := []string{"evalsha"}
			if strings.HasPrefix(op.name, "Read") {
				want = []string{"hgetall"}
			}
			if got := e.calls.take(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s sent %q, want one round trip: %q", op.name, got, want)
			}
		}
	})
}

// TestFirstCallFallsBackToEval shows the one exception to one
// round trip per call: the first call of a script that the server has not
// cached (a fresh server, a restart, SCRIPT FLUSH) is EVALSHA, answered
// NOSCRIPT, then EVAL. LoadScripts avoids it.
func TestFirstCallFallsBackToEval(t *testing.T) {
	e := newEnv(t, kindMini)
	ctx := context.Background()
	st := e.store()
	id := testID(t)
	e.calls.take()
	if _, err := st.Exists(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := e.calls.take(); !reflect.DeepEqual(got, []string{"evalsha", "eval"}) {
		t.Fatalf("first Exists on a fresh server sent %q, want [evalsha eval]", got)
	}
	if _, err := st.Exists(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := e.calls.take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
		t.Fatalf("second Exists sent %q, want [evalsha]", got)
	}
	if err := st.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	e.calls.take()
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := e.calls.take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
		t.Fatalf("first Write after LoadScripts sent %q, want [evalsha]", got)
	}
}

// TestLargeChange writes more fields than one Lua call may unpack.
func TestLargeChange(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		id := testID(t)
		const n = 10000
		first := make(sessions.Record, n)
		for i := 0; i < n; i++ {
			first[fmt.Sprintf("k%d", i)] = []byte(fmt.Sprint(i))
		}
		if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: first}, time.Minute); err != nil {
			t.Fatal(err)
		}
		ch := sessions.Change{Set: make(sessions.Record, n)}
		for i := 0; i < n; i++ {
			ch.Set[fmt.Sprintf("new%d", i)] = []byte("x")
			if i%2 == 0 {
				ch.Delete = append(ch.Delete, fmt.Sprintf("k%d", i))
			}
		}
		e.calls.take()
		if err := st.Write(ctx, id, ch, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := len(e.calls.take()); got > 2 {
			t.Fatalf("a large Write took %d round trips", got)
		}
		got, err := st.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := ch.Apply(first)
		if len(got) != len(want) {
			t.Fatalf("record has %d keys, want %d", len(got), len(want))
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Fatalf("key %q = %q, want %q", k, got[k], v)
			}
		}
	})
}

func TestRefusesBadIDs(t *testing.T) {
	e := newEnv(t, kindMini)
	ctx := context.Background()
	st := e.store()
	e.calls.take()
	for _, id := range []string{"", "a{b", "a}b", "}"} {
		if _, err := st.Read(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Read(%q) gave %v, want sessions.ErrNotFound", id, err)
		}
		if ok, err := st.Exists(ctx, id); ok || err != nil {
			t.Errorf("Exists(%q) gave (%v, %v), want (false, nil)", id, ok, err)
		}
		if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err == nil {
			t.Errorf("Write(%q) succeeded", id)
		}
		if err := st.Remove(ctx, id, time.Minute); err == nil {
			t.Errorf("Remove(%q) succeeded", id)
		}
	}
	if got := e.calls.take(); len(got) != 0 {
		t.Fatalf("bad IDs sent %q to Redis", got)
	}
}

func TestNewPanics(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	for name, f := range map[string]func(){
		"nil client":         func() { New(nil) },
		"prefix with {":      func() { New(client, WithKeyPrefix("app{")) },
		"prefix with braces": func() { New(client, WithKeyPrefix("app{x}:")) },
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
}

func TestCancelledContextSendsNothing(t *testing.T) {
	e := newEnv(t, kindMini)
	st := e.store()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.calls.take()
	id := testID(t)
	if _, err := st.Read(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Read: %v", err)
	}
	if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace}, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Write: %v", err)
	}
	if err := st.Remove(ctx, id, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Remove: %v", err)
	}
	if _, err := st.Exists(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Exists: %v", err)
	}
	if got := e.calls.take(); len(got) != 0 {
		t.Fatalf("a cancelled context sent %q", got)
	}
}

// TestReadPath: which clients read with HGETALL and which with the
// script that runs it on the primary.
func TestReadPath(t *testing.T) {
	seeds := []string{"127.0.0.1:1"}
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		script bool
	}{
		{"Client", redis.NewClient(&redis.Options{Addr: seeds[0]}), false},
		{"FailoverClient", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: seeds}), false},
		{"Ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": seeds[0]}}), false},
		{"ClusterClient", redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds}), false},
		{"ClusterClient ReadOnly", redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, ReadOnly: true}), true},
		{"ClusterClient RouteByLatency", redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, RouteByLatency: true}), true},
		{"ClusterClient RouteRandomly", redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, RouteRandomly: true}), true},
		{"FailoverClusterClient", redis.NewFailoverClusterClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: seeds}), false},
		{"FailoverClusterClient ReplicaOnly", redis.NewFailoverClusterClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: seeds, ReplicaOnly: true}), true},
		{"FailoverClusterClient RouteRandomly", redis.NewFailoverClusterClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: seeds, RouteRandomly: true}), true},
		{"UniversalClient RouteByLatency", redis.NewUniversalClient(&redis.UniversalOptions{Addrs: seeds, MasterName: "m", RouteByLatency: true}), true},
		{"a wrapper of another type", struct{ redis.UniversalClient }{redis.NewClient(&redis.Options{Addr: seeds[0]})}, true},
	} {
		if got := New(tc.client).viaScript; got != tc.script {
			t.Errorf("%s: read by script = %v, want %v", tc.name, got, tc.script)
		}
		tc.client.Close()
	}
}

// TestReadOnlyClusterReadsOnPrimary reads through cluster clients that
// route read-only commands to replicas: Read is one EVALSHA, which go-redis
// sends to the primary, and it sees what the store wrote and removed.
func TestReadOnlyClusterReadsOnPrimary(t *testing.T) {
	addrs := strings.Split(envVar(t, "REDIS_CLUSTER_ADDRS"), ",")
	for name, opt := range map[string]*redis.ClusterOptions{
		"ReadOnly":       {Addrs: addrs, ReadOnly: true},
		"RouteByLatency": {Addrs: addrs, RouteByLatency: true},
		"RouteRandomly":  {Addrs: addrs, RouteRandomly: true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, kindCluster)
			c := redis.NewClusterClient(opt)
			defer c.Close()
			calls := &callCounter{}
			c.AddHook(calls)
			st := New(c, WithKeyPrefix(e.prefix))
			if err := st.LoadScripts(ctx); err != nil {
				t.Fatal(err)
			}
			id := testID(t)
			if err := st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err != nil {
				t.Fatal(err)
			}
			calls.take()
			if rec, err := st.Read(ctx, id); err != nil || string(rec["a"]) != "1" {
				t.Fatalf("Read gave %v, %v", rec, err)
			}
			if got := calls.take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
				t.Fatalf("Read sent %q, want [evalsha]", got)
			}
			if err := st.Remove(ctx, id, time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Read(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("Read after Remove gave %v, want sessions.ErrNotFound", err)
			}
		})
	}
}
