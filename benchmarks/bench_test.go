package benchmarks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions/benchmarks/internal/kit"
)

func modes() []string { return []string{"serial", "parallel"} }

// BenchmarkMemory compares the libraries on stores that need no server:
// ours and scs on their memory stores, gorilla/sessions on its CookieStore
// (client-side: gorilla has no server-side memory store).
func BenchmarkMemory(b *testing.B) {
	libs := []struct {
		name string
		new  func() *kit.Lib
	}{
		{"ours", kit.OursMemory},
		{"scs", kit.SCSMemory},
		{"gorilla-cookie", kit.GorillaCookie},
	}
	for _, sc := range scenarios {
		for _, l := range libs {
			for _, mode := range modes() {
				b.Run(fmt.Sprintf("sc=%s/lib=%s/run=%s", sc.name, l.name, mode), func(b *testing.B) {
					lib := l.new()
					defer lib.Close()
					run(b, benchCase{lib: lib, sc: sc, parallelism: 1}, mode == "parallel")
				})
			}
		}
	}
}

// BenchmarkRedis compares the libraries on Redis, all through go-redis v9
// clients with the same settings, and counts the commands each sends.
func BenchmarkRedis(b *testing.B) {
	libs := []struct {
		name string
		new  func(e *redisEnv) (*kit.Lib, error)
	}{
		{"ours", func(e *redisEnv) (*kit.Lib, error) {
			return kit.OursRedis(context.Background(), e.client, e.prefix+"ours:")
		}},
		{"scs", func(e *redisEnv) (*kit.Lib, error) { return kit.SCSRedis(e.client, e.prefix+"scs:"), nil }},
		{"gorilla", func(e *redisEnv) (*kit.Lib, error) { return kit.GorillaRedis(e.client, e.prefix+"gorilla:"), nil }},
	}
	e := getRedis(b)
	for _, sc := range scenarios {
		for _, l := range libs {
			for _, mode := range modes() {
				b.Run(fmt.Sprintf("redis=%s/sc=%s/lib=%s/run=%s", e.label, sc.name, l.name, mode), func(b *testing.B) {
					lib, err := l.new(e)
					if err != nil {
						b.Fatal(err)
					}
					defer lib.Close()
					run(b, benchCase{lib: lib, sc: sc, redis: e, parallelism: redisParallelism}, mode == "parallel")
				})
			}
		}
	}
}

// floorWriteScript is the smallest atomic write: one SET with an expiry,
// sent as EVALSHA like every write of a store that checks something first.
var floorWriteScript = redis.NewScript(`redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`)

// floorHashWriteScript is the least that a write of some fields of a hash
// does: HSET of the fields and PEXPIRE, with no check before them.
var floorHashWriteScript = redis.NewScript(`redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1`)

// floorValue is about the size of a small session record.
var floorValue = strings.Repeat("x", 96)

// floorHash has the shape of the record that the session benchmarks read:
// the Manager's three timestamps and one value.
var floorHash = []any{"__created", "1796134673036", "__deadline", "1796221073036", "__touched", "1796134673036", "n", "6"}

// BenchmarkBare is the floor of every scenario: the bare net/http handler,
// which writes the same body, without any session library.
func BenchmarkBare(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	lib := kit.Custom("bare", "none", map[kit.Op]http.Handler{kit.Untouched: h})
	for _, mode := range modes() {
		b.Run("run="+mode, func(b *testing.B) {
			run(b, benchCase{lib: lib, sc: floorScenario, parallelism: 1}, mode == "parallel")
		})
	}
}

// BenchmarkRedisFloor is the physical floor of the Redis scenarios: the
// bare handler plus the raw go-redis round trips a scenario needs, on the
// same client and server. 1GET is one GET (a read), 1EVALSHA one scripted
// SET with an expiry (a write), 2 is both (a read and a write), 3 is a
// GET and two EVALSHAs. 1HGETALL and 1EVALSHA-HASH are the read and the
// unchecked write of a hash shaped like a session record. 1HGETALL-ID is a
// lean read of this design: the session cookie's value found in the
// header, its ID hashed into the key (SHA-256, as the Manager does it), the
// call bounded by a timeout that a client hang-up does not cancel, and the
// HGETALL through go-redis's map reply.
func BenchmarkRedisFloor(b *testing.B) {
	e := getRedis(b)
	ctx := context.Background()
	key := e.prefix + "floor:" + "{k}"
	if err := e.client.Set(ctx, key, floorValue, 0).Err(); err != nil {
		b.Fatal(err)
	}
	hkey := e.prefix + "floor:" + "{h}"
	idKey := func(id string) string {
		var in [64]byte
		sum := sha256.Sum256(append(in[:0], id...))
		var h [2 * sha256.Size]byte
		hex.Encode(h[:], sum[:])
		return e.prefix + "floor:{" + string(h[:]) + "}"
	}
	for _, k := range []string{hkey, idKey(floorID)} {
		if err := e.client.HSet(ctx, k, floorHash...).Err(); err != nil {
			b.Fatal(err)
		}
	}
	for _, s := range []*redis.Script{floorWriteScript, floorHashWriteScript} {
		if err := s.Load(ctx, e.client).Err(); err != nil {
			b.Fatal(err)
		}
	}
	get := func(r *http.Request) error { return e.client.Get(r.Context(), key).Err() }
	write := func(r *http.Request) error {
		return floorWriteScript.EvalSha(r.Context(), e.client, []string{key}, floorValue, 1800000).Err()
	}
	hgetall := func(r *http.Request) error { return e.client.HGetAll(r.Context(), hkey).Err() }
	hwrite := func(r *http.Request) error {
		return floorHashWriteScript.EvalSha(r.Context(), e.client, []string{hkey}, 1800000, "__touched", "1796134673036", "n", "7").Err()
	}
	cookiePrefix := kit.CookieName + "="
	idRead := func(r *http.Request) error {
		// The cookie's value found in place: no parse of the other cookies.
		h := r.Header.Get("Cookie")
		i := strings.Index(h, cookiePrefix)
		if i < 0 {
			return fmt.Errorf("floor: no session cookie")
		}
		id, _, _ := strings.Cut(h[i+len(cookiePrefix):], ";")
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		rec, err := e.client.HGetAll(ctx, idKey(id)).Result()
		if err == nil && rec["n"] == "" {
			err = fmt.Errorf("floor: no record under the cookie's ID")
		}
		return err
	}
	floors := []struct {
		name   string
		cookie cookieMode
		ops    []func(*http.Request) error
	}{
		{"1GET", noCookie, []func(*http.Request) error{get}},
		{"1EVALSHA", noCookie, []func(*http.Request) error{write}},
		{"2", noCookie, []func(*http.Request) error{get, write}},
		{"3", noCookie, []func(*http.Request) error{get, write, write}},
		{"1HGETALL", noCookie, []func(*http.Request) error{hgetall}},
		{"1EVALSHA-HASH", noCookie, []func(*http.Request) error{hwrite}},
		{"1HGETALL-ID", floorCookie, []func(*http.Request) error{idRead}},
	}
	for _, f := range floors {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, op := range f.ops {
				if err := op(r); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
			w.Write([]byte("ok"))
		})
		lib := kit.Custom("floor", "redis", map[kit.Op]http.Handler{kit.Untouched: h})
		for _, mode := range modes() {
			b.Run(fmt.Sprintf("redis=%s/rt=%s/run=%s", e.label, f.name, mode), func(b *testing.B) {
				sc := floorScenario
				sc.cookie = f.cookie
				run(b, benchCase{lib: lib, sc: sc, redis: e, parallelism: redisParallelism}, mode == "parallel")
			})
		}
	}
}
