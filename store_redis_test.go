package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// forEachRedis runs f as a subtest against every Redis kind.
func forEachRedis(t *testing.T, f func(t *testing.T, e *RedisTestEnv)) {
	t.Helper()
	for _, kind := range redisKinds {
		t.Run(kind, func(t *testing.T) { f(t, NewRedisTestEnv(t, kind)) })
	}
}

// testID returns a fresh id of the form the Manager gives a store: the
// handle of a new session ID.
func testID(t *testing.T) string {
	t.Helper()
	id, err := newID()
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(id)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

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

func TestRedisStoreKeyLayout(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			opts   []RedisOption
			keyFor func(id string) string
		}{
			{"handle", nil, func(id string) string { return id }},
			{"manager record", nil, func(id string) string { return "u:" + id }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := NewRedisTestEnv(t, e.Kind)
				st := e.Store(tc.opts...)
				id := tc.keyFor(testID(t))
				recKey := e.Prefix + "{" + id + "}"
				tombKey := recKey + ":tomb"

				if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1"), "b": []byte("2")}}, time.Minute); err != nil {
					t.Fatal(err)
				}
				if got := e.Keys(t); !reflect.DeepEqual(got, []string{recKey}) {
					t.Fatalf("keys after Write = %q, want [%q]", got, recKey)
				}
				if typ := e.Client.Type(ctx, recKey).Val(); typ != "hash" {
					t.Fatalf("TYPE %s = %q, want hash", recKey, typ)
				}
				if got := e.Client.HGetAll(ctx, recKey).Val(); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
					t.Fatalf("HGETALL %s = %v", recKey, got)
				}

				if err := st.Remove(ctx, id, time.Minute); err != nil {
					t.Fatal(err)
				}
				if got := e.Keys(t); !reflect.DeepEqual(got, []string{recKey}) {
					t.Fatalf("keys after Remove = %q, want [%q]", got, recKey)
				}
				if got := e.Client.HGetAll(ctx, recKey).Val(); !reflect.DeepEqual(got, map[string]string{redisTombField: "1"}) {
					t.Fatalf("HGETALL %s after Remove = %v, want only the tombstone field", recKey, got)
				}

				if clusterSlot(recKey) != clusterSlot(tombKey) {
					t.Fatalf("%s and %s hash to slots %d and %d", recKey, tombKey, clusterSlot(recKey), clusterSlot(tombKey))
				}
				if e.Kind == redisKindCluster {
					for _, k := range []string{recKey, tombKey} {
						slot, err := e.Client.ClusterKeySlot(ctx, k).Result()
						if err != nil {
							t.Fatal(err)
						}
						if int(slot) != clusterSlot(recKey) {
							t.Fatalf("CLUSTER KEYSLOT %s = %d, want %d", k, slot, clusterSlot(recKey))
						}
					}
				}
			})
		}
	})
}

// pttl returns the remaining TTL of key; it fails the test if the key is
// missing or has no expiry.
func pttl(t *testing.T, e *RedisTestEnv, key string) time.Duration {
	t.Helper()
	d, err := e.Client.PTTL(context.Background(), key).Result()
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
func expectTTL(t *testing.T, e *RedisTestEnv, key string, want time.Duration, what string) {
	t.Helper()
	if got := pttl(t, e, key); got > want || got < want-5*time.Second {
		t.Fatalf("%s: PTTL = %v, want about %v", what, got, want)
	}
}

// expectTomb checks that key is a tombstone: a hash of the tombstone
// field alone.
func expectTomb(t *testing.T, e *RedisTestEnv, key, what string) {
	t.Helper()
	got, err := e.Client.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]string{redisTombField: "1"}) {
		t.Fatalf("%s: HGETALL %s = %v, want a tombstone", what, key, got)
	}
}

func expectNoKey(t *testing.T, e *RedisTestEnv, key, what string) {
	t.Helper()
	if n := e.Client.Exists(context.Background(), key).Val(); n != 0 {
		t.Fatalf("%s: key %s exists", what, key)
	}
}

func TestRedisStoreTTLs(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		id := testID(t)
		recKey := e.Prefix + "{" + id + "}"
		tombKey := recKey + ":tomb"

		write := func(ch Change, ttl time.Duration) {
			t.Helper()
			if err := st.Write(ctx, id, ch, ttl); err != nil {
				t.Fatal(err)
			}
		}
		write(Change{Replace: true, Set: Record{"a": []byte("1")}}, 30*time.Minute)
		expectTTL(t, e, recKey, 30*time.Minute, "Write with Replace")
		write(Change{}, 10*time.Minute)
		expectTTL(t, e, recKey, 10*time.Minute, "a touch sets the TTL, shorter too")
		write(Change{Set: Record{"b": []byte("2")}}, 20*time.Minute)
		expectTTL(t, e, recKey, 20*time.Minute, "a delta Write")
		write(Change{Delete: []string{"b"}}, 15*time.Minute)
		expectTTL(t, e, recKey, 15*time.Minute, "a delta Write that only deletes")
		expectNoKey(t, e, tombKey, "before Remove")

		remove := func(ttl time.Duration, want error) {
			t.Helper()
			if err := st.Remove(ctx, id, ttl); !errors.Is(err, want) {
				t.Fatalf("Remove gave %v, want %v", err, want)
			}
		}
		remove(2*time.Hour, nil)
		expectTomb(t, e, recKey, "after Remove")
		expectTTL(t, e, recKey, 2*time.Hour, "tombstone")
		remove(time.Hour, ErrNotFound)
		expectTTL(t, e, recKey, 2*time.Hour, "a second Remove with a shorter ttl keeps the longer tombstone")
		remove(3*time.Hour, ErrNotFound)
		expectTTL(t, e, recKey, 3*time.Hour, "a second Remove with a longer ttl extends the tombstone")
		remove(0, ErrNotFound)
		expectTTL(t, e, recKey, 3*time.Hour, "Remove with ttl 0 keeps the tombstone")
		expectNoKey(t, e, tombKey, "the key of the earlier layout")

		for _, ch := range []Change{
			{Replace: true, Set: Record{"a": []byte("mallory")}},
			{Set: Record{"a": []byte("mallory")}},
			{},
		} {
			if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, ErrInvalidated) {
				t.Fatalf("Write %+v after Remove gave %v, want ErrInvalidated", ch, err)
			}
			expectTomb(t, e, recKey, "a refused Write")
			expectTTL(t, e, recKey, 3*time.Hour, "a refused Write leaves the tombstone as it was")
		}
	})
}

func TestRedisStoreNonPositiveTTL(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		id := testID(t)
		recKey := e.Prefix + "{" + id + "}"

		if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, 0); err != nil {
			t.Fatal(err)
		}
		expectNoKey(t, e, recKey, "Write with Replace and ttl 0")
		if err := st.Write(ctx, id, Change{}, -time.Second); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a touch with ttl < 0 to a missing record gave %v, want ErrNotFound", err)
		}
		if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.Write(ctx, id, Change{Set: Record{"b": []byte("2")}}, -time.Second); err != nil {
			t.Fatal(err)
		}
		expectNoKey(t, e, recKey, "a delta Write with ttl < 0 ends the record")
		if err := st.Remove(ctx, id, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Remove with ttl 0 of a missing record gave %v, want ErrNotFound", err)
		}
		expectNoKey(t, e, recKey, "Remove with ttl 0 of an ID without tombstone")
		if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, id, 0); err != nil {
			t.Fatalf("Remove with ttl 0 of a live record gave %v, want nil", err)
		}
		expectNoKey(t, e, recKey, "Remove with ttl 0")
		expectNoKey(t, e, recKey+":tomb", "Remove with ttl 0 (the key of the earlier layout)")
	})
}

func TestRedisMillis(t *testing.T) {
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
		if got := redisMillis(tc.ttl); got != tc.want {
			t.Errorf("redisMillis(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}

// TestRedisStoreChecksTombstoneFirst plants a tombstone hash that still
// holds a value, which Remove never leaves, to show that every script and
// Read look at the tombstone field before the record.
func TestRedisStoreChecksTombstoneFirst(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		id := testID(t)
		recKey := e.Prefix + "{" + id + "}"
		if err := e.Client.HSet(ctx, recKey, "user", "alice", redisTombField, "1").Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Read of a tombstoned ID gave %v, want ErrNotFound", err)
		}
		if ok, err := st.Exists(ctx, id); ok || err != nil {
			t.Fatalf("Exists of a tombstoned ID gave (%v, %v), want (false, nil)", ok, err)
		}
		for _, ch := range []Change{{Set: Record{"user": []byte("mallory")}}, {Replace: true, Set: Record{"user": []byte("mallory")}}, {}} {
			if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, ErrInvalidated) {
				t.Fatalf("Write %+v to a tombstoned ID gave %v, want ErrInvalidated", ch, err)
			}
		}
		if got := e.Client.HGet(ctx, recKey, "user").Val(); got != "alice" {
			t.Fatalf("a refused Write changed the record: user = %q", got)
		}
		if err := st.Remove(ctx, id, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Remove of a tombstoned ID gave %v, want ErrNotFound", err)
		}
	})
}

// TestRedisStoreRefusesTombField: a Change may not set the field that marks
// a tombstone, which would end the session it writes to.
func TestRedisStoreRefusesTombField(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	st := e.Store()
	id := testID(t)
	e.Calls.Take()
	if err := st.Write(context.Background(), id, Change{Replace: true, Set: Record{redisTombField: []byte("x")}}, time.Minute); err == nil {
		t.Fatal("a Write that sets the tombstone field succeeded")
	}
	if got := e.Calls.Take(); len(got) != 0 {
		t.Fatalf("a refused Write sent %q", got)
	}
}

// TestRedisStoreRoundTrips counts the commands each Store method sends:
// exactly one EVALSHA, once the scripts are loaded.
func TestRedisStoreRoundTrips(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		if err := st.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		live, gone := testID(t), testID(t)
		if err := st.Remove(ctx, gone, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		e.Calls.Take()
		for _, op := range []struct {
			name string
			run  func() error
		}{
			{"Write new", func() error {
				return st.Write(ctx, live, Change{Replace: true, Set: Record{"a": []byte("1"), "b": []byte("2")}}, time.Hour)
			}},
			{"Read", func() error { _, err := st.Read(ctx, live); return err }},
			{"Read missing", func() error { _, err := st.Read(ctx, testID(t)); return ignore(err, ErrNotFound) }},
			{"Read removed", func() error { _, err := st.Read(ctx, gone); return ignore(err, ErrNotFound) }},
			{"Exists", func() error { _, err := st.Exists(ctx, live); return err }},
			{"Write delta", func() error {
				return st.Write(ctx, live, Change{Set: Record{"c": []byte("3")}, Delete: []string{"a"}}, time.Hour)
			}},
			{"Write touch", func() error { return st.Write(ctx, live, Change{}, time.Hour) }},
			{"Write replace", func() error {
				return st.Write(ctx, live, Change{Replace: true, Set: Record{"z": []byte("26")}}, time.Hour)
			}},
			{"Write refused", func() error {
				return ignore(st.Write(ctx, gone, Change{Set: Record{"a": []byte("1")}}, time.Hour), ErrInvalidated)
			}},
			{"Write missing", func() error {
				return ignore(st.Write(ctx, testID(t), Change{Set: Record{"a": []byte("1")}}, time.Hour), ErrNotFound)
			}},
			{"Remove", func() error { return st.Remove(ctx, live, time.Hour) }},
			{"Remove again", func() error { return ignore(st.Remove(ctx, live, time.Hour), ErrNotFound) }},
		} {
			if err := op.run(); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			want := []string{"evalsha"}
			if strings.HasPrefix(op.name, "Read") {
				want = []string{"hgetall"}
			}
			if got := e.Calls.Take(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s sent %q, want one round trip: %q", op.name, got, want)
			}
		}
	})
}

// TestRedisStoreFirstCallFallsBackToEval shows the one exception to one
// round trip per call: the first call of a script that the server has not
// cached (a fresh server, a restart, SCRIPT FLUSH) is EVALSHA, answered
// NOSCRIPT, then EVAL. LoadScripts avoids it.
func TestRedisStoreFirstCallFallsBackToEval(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	ctx := context.Background()
	st := e.Store()
	id := testID(t)
	e.Calls.Take()
	if _, err := st.Exists(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Take(); !reflect.DeepEqual(got, []string{"evalsha", "eval"}) {
		t.Fatalf("first Exists on a fresh server sent %q, want [evalsha eval]", got)
	}
	if _, err := st.Exists(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
		t.Fatalf("second Exists sent %q, want [evalsha]", got)
	}
	if err := st.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	e.Calls.Take()
	if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
		t.Fatalf("first Write after LoadScripts sent %q, want [evalsha]", got)
	}
}

func ignore(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("got nil, want %v", want)
	}
	return err
}

// TestRedisStoreLargeChange writes more fields than one Lua call may unpack.
func TestRedisStoreLargeChange(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		id := testID(t)
		const n = 10000
		first := make(Record, n)
		for i := 0; i < n; i++ {
			first[fmt.Sprintf("k%d", i)] = []byte(fmt.Sprint(i))
		}
		if err := st.Write(ctx, id, Change{Replace: true, Set: first}, time.Minute); err != nil {
			t.Fatal(err)
		}
		ch := Change{Set: make(Record, n)}
		for i := 0; i < n; i++ {
			ch.Set[fmt.Sprintf("new%d", i)] = []byte("x")
			if i%2 == 0 {
				ch.Delete = append(ch.Delete, fmt.Sprintf("k%d", i))
			}
		}
		e.Calls.Take()
		if err := st.Write(ctx, id, ch, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := len(e.Calls.Take()); got > 2 {
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

func TestRedisStoreRefusesBadIDs(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	ctx := context.Background()
	st := e.Store()
	e.Calls.Take()
	for _, id := range []string{"", "a{b", "a}b", "}"} {
		if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Read(%q) gave %v, want ErrNotFound", id, err)
		}
		if ok, err := st.Exists(ctx, id); ok || err != nil {
			t.Errorf("Exists(%q) gave (%v, %v), want (false, nil)", id, ok, err)
		}
		if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err == nil {
			t.Errorf("Write(%q) succeeded", id)
		}
		if err := st.Remove(ctx, id, time.Minute); err == nil {
			t.Errorf("Remove(%q) succeeded", id)
		}
	}
	if got := e.Calls.Take(); len(got) != 0 {
		t.Fatalf("bad IDs sent %q to Redis", got)
	}
}

func TestNewRedisStorePanics(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	for name, f := range map[string]func(){
		"nil client":         func() { NewRedisStore(nil) },
		"prefix with {":      func() { NewRedisStore(client, WithKeyPrefix("app{")) },
		"prefix with braces": func() { NewRedisStore(client, WithKeyPrefix("app{x}:")) },
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

func TestRedisStoreCancelledContextSendsNothing(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	st := e.Store()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Calls.Take()
	id := testID(t)
	if _, err := st.Read(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Read: %v", err)
	}
	if err := st.Write(ctx, id, Change{Replace: true}, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Write: %v", err)
	}
	if err := st.Remove(ctx, id, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Remove: %v", err)
	}
	if _, err := st.Exists(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Exists: %v", err)
	}
	if got := e.Calls.Take(); len(got) != 0 {
		t.Fatalf("a cancelled context sent %q", got)
	}
}

// roundTripApp is the handler of the HTTP round-trip test:
//
//	/none      never touches the session
//	/read      reads a value
//	/set       reads nothing, sets a value
//	/read-set  reads a value, then sets one
//	/destroy   destroys without reading
//	/renew     renews (which reads)
func roundTripApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, Get(r).GetString("k")) })
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) { Get(r).Set("k", r.URL.Query().Get("v")) })
	mux.HandleFunc("/read-set", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		s.Set("n", s.GetInt("n")+1)
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) { Get(r).Destroy() })
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { Get(r).Renew() })
	return mux
}

// TestRedisRoundTripsHTTP counts the Redis round trips of each kind of
// request through the middleware.
func TestRedisRoundTripsHTTP(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		st := e.Store()
		if err := st.LoadScripts(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock := newTestClock()
		m := New(st, WithIdleTimeout(30*time.Minute), WithTouchInterval(time.Minute), WithSecure(false), WithClock(clock.Now),
			WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if m.CookieName() != "session" {
			t.Fatalf("cookie name %q, want session", m.CookieName())
		}
		srv := serve(t, m, roundTripApp())
		c := newClient(t, srv, m)
		step := func(path string, status, want int, what string) result {
			t.Helper()
			e.Calls.Take()
			res := c.get(path)
			got := e.Calls.Take()
			if res.status != status {
				t.Fatalf("%s: GET %s status %d, want %d", what, path, res.status, status)
			}
			if len(got) != want {
				t.Errorf("%s: GET %s made %d round trips %q, want %d", what, path, len(got), got, want)
			}
			for _, name := range got {
				if name != "evalsha" && name != "hgetall" {
					t.Errorf("%s: GET %s sent %q, want only EVALSHA and HGETALL", what, path, got)
					break
				}
			}
			t.Logf("%-40s %d round trips %q", what, len(got), got)
			return res
		}

		step("/none", 200, 0, "no cookie, session untouched")
		step("/read", 200, 0, "no cookie, read (nothing to read)")
		step("/set?v=a", 200, 1, "new session")
		if c.id == "" {
			t.Fatal("a new session set no cookie")
		}
		step("/none", 200, 0, "cookie, session untouched")
		if res := step("/read", 200, 1, "read-only, inside the touch interval"); res.body != "a" {
			t.Fatalf("read %q, want a", res.body)
		}
		step("/set?v=b", 200, 1, "modified existing session (blind set)")
		step("/read-set", 200, 2, "modified existing session (read, set)")
		clock.Advance(2 * time.Minute)
		step("/read", 200, 2, "read-only, touch interval passed")
		step("/read", 200, 1, "read-only, right after the touch")
		step("/renew", 200, 4, "renew (successor, new record, remove)")
		if res := step("/read", 200, 2, "first read after renew (presents the new ID)"); res.body != "b" {
			t.Fatalf("after renew read %q, want b", res.body)
		}
		step("/read", 200, 1, "second read after renew")
		old := c.id
		step("/destroy", 200, 2, "destroy without reading (Destroy reads)")
		if c.id != "" {
			t.Fatal("destroy did not delete the cookie")
		}
		c.id = old
		step("/read", 200, 1, "read of the destroyed ID")
		if res := step("/set?v=c", 200, 1, "blind set with the destroyed ID (refused)"); len(res.setCookie) != 0 {
			t.Fatalf("a refused write sent Set-Cookie %q", res.setCookie)
		}
		c.id, _ = newID()
		step("/set?v=c", 200, 2, "blind set with an unknown ID: new session")
		if c.id == "" {
			t.Fatal("no new session for an unknown ID")
		}
		step("/read-set", 200, 2, "modified existing session (read, set)")
		c.id = ""
		step("/set?v=d", 200, 1, "new session")
		step("/read", 200, 1, "read-only")
		c.id = "not-a-well-formed-id"
		step("/read", 200, 0, "malformed cookie")
	})
}

// TestRedisSessionMemoryUsage reports what a small session costs in Redis:
// three user keys and the Manager's metadata.
func TestRedisSessionMemoryUsage(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		if e.Kind == redisKindMini {
			t.Skip("miniredis has no MEMORY USAGE")
		}
		st := e.Store()
		m := New(st, WithSecure(false))
		srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := Get(r)
			s.Set("user_id", 12345)
			s.Set("name", "Alice Example")
			s.Set("csrf", "q3ZbYj2bD5kU0y7mX1wNfA")
		}))
		c := newClient(t, srv, m)
		c.get("/")
		if c.id == "" {
			t.Fatal("no session")
		}
		ctx := context.Background()
		key := e.Prefix + "{" + sha256Hex(c.id) + "}"
		fields, err := e.Client.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.Client.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		tomb := key
		if err := st.Remove(ctx, handle(c.id), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		nt, err := e.Client.MemoryUsage(ctx, tomb, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("session hash with %d fields %v: MEMORY USAGE %d bytes; tombstone: %d bytes", len(fields), fields, n, nt)
	})
}

// TestRedisReadPath: which clients read with HGETALL and which with the
// script that runs it on the primary.
func TestRedisReadPath(t *testing.T) {
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
		if got := NewRedisStore(tc.client).readScript; got != tc.script {
			t.Errorf("%s: read by script = %v, want %v", tc.name, got, tc.script)
		}
		tc.client.Close()
	}
}

// TestRedisReadOnlyClusterReadsOnPrimary reads through cluster clients that
// route read-only commands to replicas: Read is one EVALSHA, which go-redis
// sends to the primary, and it sees what the store wrote and removed.
func TestRedisReadOnlyClusterReadsOnPrimary(t *testing.T) {
	addrs := strings.Split(redisEnvVar(t, "REDIS_CLUSTER_ADDRS"), ",")
	for name, opt := range map[string]*redis.ClusterOptions{
		"ReadOnly":       {Addrs: addrs, ReadOnly: true},
		"RouteByLatency": {Addrs: addrs, RouteByLatency: true},
		"RouteRandomly":  {Addrs: addrs, RouteRandomly: true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := NewRedisTestEnv(t, redisKindCluster)
			c := redis.NewClusterClient(opt)
			defer c.Close()
			calls := &RedisCallCounter{}
			c.AddHook(calls)
			st := NewRedisStore(c, WithKeyPrefix(e.Prefix))
			if err := st.LoadScripts(ctx); err != nil {
				t.Fatal(err)
			}
			id := testID(t)
			if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err != nil {
				t.Fatal(err)
			}
			calls.Take()
			if rec, err := st.Read(ctx, id); err != nil || string(rec["a"]) != "1" {
				t.Fatalf("Read gave %v, %v", rec, err)
			}
			if got := calls.Take(); !reflect.DeepEqual(got, []string{"evalsha"}) {
				t.Fatalf("Read sent %q, want [evalsha]", got)
			}
			if err := st.Remove(ctx, id, time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Read after Remove gave %v, want ErrNotFound", err)
			}
		})
	}
}
