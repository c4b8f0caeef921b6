package sessions

import (
	"context"
	"errors"
	"math/rand"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The scripts of the earlier layout, where a tombstone was a string key of
// its own, <prefix>{<k>}:tomb, as instances of that version run them. KEYS
// are the same as the store's: the record, then that tombstone key.
var (
	earlierWrite = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local replace = ARGV[1] == '1'
local nset = tonumber(ARGV[3])
local setEnd = 3 + 2 * nset
local kind = redis.call('TYPE', KEYS[1]).ok
if replace or (kind ~= 'hash' and kind ~= 'none') then
  redis.call('DEL', KEYS[1])
  if not replace then
    kind = 'none'
  end
end
if not replace and kind == 'none' and (ARGV[1] ~= '2' or #ARGV == 3) then
  return 0
end
local function batched(cmd, from, to, step)
  for i = from, to, step do
    redis.call(cmd, KEYS[1], unpack(ARGV, i, math.min(i + step - 1, to)))
  end
end
if tonumber(ARGV[2]) <= 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
batched('HDEL', setEnd + 1, #ARGV, 4000)
batched('HSET', 4, setEnd, 4000)
local ttl = tonumber(ARGV[2])
local deadline = tonumber(redis.call('HGET', KEYS[1], '__deadline'))
if deadline then
  local t = redis.call('TIME')
  local left = deadline - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if left < ttl then
    ttl = left
  end
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    if replace then
      return 1
    end
    return 0
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)
	earlierRemove = redis.NewScript(`
local removed = redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[1])
local cur = redis.call('PTTL', KEYS[2])
if ttl > 0 and cur ~= -1 and cur < ttl then
  redis.call('SET', KEYS[2], '1', 'PX', ttl)
end
if removed == 1 and cur == -2 then
  return 1
end
return 0
`)
)

// earlierRead is the earlier version's Read: a transaction of EXISTS on the
// tombstone key and HGETALL. It reports whether it found a live record.
func earlierRead(t *testing.T, c redis.UniversalClient, keys []string) bool {
	t.Helper()
	ctx := context.Background()
	pipe := c.TxPipeline()
	tomb := pipe.Exists(ctx, keys[1])
	all := pipe.HGetAll(ctx, keys[0])
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("earlier Read: %v", err)
	}
	return tomb.Val() == 0 && len(all.Val()) > 0
}

// earlierArgs is the ARGV of earlierWrite: mode, ttl, the pairs to set.
func earlierArgs(mode string, ttl time.Duration, set ...string) []interface{} {
	args := []interface{}{mode, redisMillis(ttl), len(set) / 2}
	for _, v := range set {
		args = append(args, v)
	}
	return args
}

func earlierRun(t *testing.T, sc *redis.Script, e *RedisTestEnv, keys []string, args ...interface{}) int64 {
	t.Helper()
	n, err := sc.Run(context.Background(), e.Client, keys, args...).Int64()
	if err != nil {
		t.Fatalf("earlier script: %v", err)
	}
	return n
}

// TestRedisStoreUpgrade: what the earlier layout left in Redis keeps its
// meaning. A session it wrote reads and takes writes; its tombstone refuses
// every write, reads as no session, and moves into the hash on the next
// Remove with the longer TTL.
func TestRedisStoreUpgrade(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *RedisTestEnv) {
		ctx := context.Background()
		st := e.Store()
		keysOf := func(id string) []string { k, _ := st.keys(id); return k }

		live := testID(t)
		earlierRun(t, earlierWrite, e, keysOf(live), earlierArgs("1", time.Hour, "user", `"alice"`)...)
		if rec, err := st.Read(ctx, live); err != nil || string(rec["user"]) != `"alice"` {
			t.Fatalf("Read of a session written by the earlier version gave %v, %v", rec, err)
		}
		if err := st.Write(ctx, live, Change{Set: Record{"n": []byte("1")}}, time.Hour); err != nil {
			t.Fatalf("a delta Write to a session written by the earlier version gave %v", err)
		}
		if err := st.Remove(ctx, live, 2*time.Hour); err != nil {
			t.Fatalf("Remove of a session written by the earlier version gave %v", err)
		}
		expectTomb(t, e, keysOf(live)[0], "Remove of an earlier session")

		gone := testID(t)
		k := keysOf(gone)
		earlierRun(t, earlierWrite, e, k, earlierArgs("1", time.Hour, "user", `"bob"`)...)
		earlierRun(t, earlierRemove, e, k, redisMillis(2*time.Hour))
		refusesEverything(t, e, st, gone, "an earlier tombstone")
		expectNoKey(t, e, k[0], "writes refused by an earlier tombstone")
		if err := st.Remove(ctx, gone, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Remove of an ID with an earlier tombstone gave %v, want ErrNotFound", err)
		}
		expectTomb(t, e, k[0], "Remove over an earlier tombstone")
		expectTTL(t, e, k[0], 2*time.Hour, "the earlier tombstone's longer TTL")
		expectNoKey(t, e, k[1], "the earlier tombstone, moved into the hash")
		refusesEverything(t, e, st, gone, "a moved tombstone")

		forever := testID(t)
		k = keysOf(forever)
		if err := e.Client.Set(ctx, k[1], "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, forever, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Remove over an earlier tombstone without expiry gave %v", err)
		}
		expectTomb(t, e, k[0], "Remove over an earlier tombstone without expiry")
		if d := e.Client.PTTL(ctx, k[0]).Val(); d != -1 {
			t.Fatalf("PTTL of the moved tombstone = %v, want none (the earlier one had none)", d)
		}
	})
}

// refusesEverything checks that st treats id as removed.
func refusesEverything(t *testing.T, e *RedisTestEnv, st *RedisStore, id, what string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: Read gave %v, want ErrNotFound", what, err)
	}
	if ok, err := st.Exists(ctx, id); ok || err != nil {
		t.Fatalf("%s: Exists gave (%v, %v), want (false, nil)", what, ok, err)
	}
	for _, ch := range []Change{
		{Set: Record{"user": []byte(`"mallory"`)}},
		{Replace: true, Set: Record{"user": []byte(`"mallory"`)}},
		{Create: true, Set: Record{"user": []byte(`"mallory"`)}},
		{},
	} {
		if err := st.Write(ctx, id, ch, time.Hour); !errors.Is(err, ErrInvalidated) {
			t.Fatalf("%s: Write %+v gave %v, want ErrInvalidated", what, ch, err)
		}
	}
}

// TestRedisStoreRollingUpgrade runs random mixes of the earlier version's
// scripts and this store's methods on one ID, as instances of both versions
// serve one session during a rolling upgrade, with WithLegacyTombstones. Once
// either version removed the session, neither version reads it or writes
// it; and a live hash never lies beside an earlier tombstone, which is what
// lets Read and most writes skip that key.
func TestRedisStoreRollingUpgrade(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	ctx := context.Background()
	st := e.Store(WithLegacyTombstones(true))
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 300; round++ {
		id := testID(t)
		keys, _ := st.keys(id)
		removed := false
		for step := 0; step < 12; step++ {
			op := rng.Intn(7)
			var refused bool
			switch op {
			case 0, 1:
				mode := []string{"1", "0"}[op]
				refused = earlierRun(t, earlierWrite, e, keys, earlierArgs(mode, time.Hour, "k", "v")...) == -1
			case 2:
				earlierRun(t, earlierRemove, e, keys, redisMillis(time.Hour))
				removed = true
			case 3, 4, 5:
				ch := []Change{{Replace: true, Set: Record{"k": []byte("v")}}, {Set: Record{"k": []byte("v")}}, {Create: true, Set: Record{"k": []byte("v")}}}[op-3]
				err := st.Write(ctx, id, ch, time.Hour)
				if err != nil && !errors.Is(err, ErrInvalidated) && !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
				refused = errors.Is(err, ErrInvalidated)
			case 6:
				if err := st.Remove(ctx, id, time.Hour); err != nil && !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
				removed = true
			}
			if removed && op != 2 && op != 6 && !refused {
				t.Fatalf("round %d step %d: a write (op %d) after a Remove was not refused", round, step, op)
			}
			if removed {
				if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("round %d step %d: Read after a Remove gave %v", round, step, err)
				}
				if earlierRead(t, e.Client, keys) {
					t.Fatalf("round %d step %d: the earlier Read found the session after a Remove", round, step)
				}
			}
			hash := e.Client.HGetAll(ctx, keys[0]).Val()
			_, tomb := hash[redisTombField]
			if len(hash) > 0 && !tomb && e.Client.Exists(ctx, keys[1]).Val() == 1 {
				t.Fatalf("round %d step %d: a live hash beside an earlier tombstone", round, step)
			}
		}
	}
}

// TestRedisStoreUpgradeWithoutLegacyTombstones shows why a rolling upgrade
// needs WithLegacyTombstones: without it, an instance of the earlier version
// does not see a tombstone this version wrote.
func TestRedisStoreUpgradeWithoutLegacyTombstones(t *testing.T) {
	e := NewRedisTestEnv(t, redisKindMini)
	ctx := context.Background()
	for _, legacy := range []bool{false, true} {
		st := e.Store(WithLegacyTombstones(legacy))
		id := testID(t)
		keys, _ := st.keys(id)
		if err := st.Write(ctx, id, Change{Replace: true, Set: Record{"k": []byte("v")}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, id, time.Hour); err != nil {
			t.Fatal(err)
		}
		got := earlierRun(t, earlierWrite, e, keys, earlierArgs("0", time.Hour, "k", "mallory")...)
		if refused := got == -1; refused != legacy {
			t.Errorf("WithLegacyTombstones(%v): the earlier version's write refused = %v, want %v", legacy, refused, legacy)
		}
		if _, err := st.Read(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("WithLegacyTombstones(%v): Read after Remove gave %v", legacy, err)
		}
	}
}
