//go:build unix

package redisstore

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// TestFullMemory fills a redis-server started with a small maxmemory
// and the noeviction policy until it refuses writes, then checks what the
// service still does: existing sessions are read (their reads add nothing),
// a logout of a live session works (it frees memory before writing the
// tombstone), and writes that add data reach the error handler. It runs
// both ways of reading: HGETALL, and the script of clients that may route
// reads to replicas.
func TestFullMemory(t *testing.T) {
	for _, script := range []bool{false, true} {
		t.Run(map[bool]string{false: "hgetall", true: "script"}[script], func(t *testing.T) {
			testFullMemory(t, script)
		})
	}
}

func testFullMemory(t *testing.T, script bool) {
	srv := newRedisServer(t)
	srv.args = []string{"--maxmemory", "8mb", "--maxmemory-policy", "noeviction"}
	srv.start()
	client := faultClient(t, srv.addr())
	st := New(client)
	st.viaScript = script
	fs := newFaultServer(t, st)

	ids := make([]string, 3)
	for i := range ids {
		res := fs.do("/set?k=a&v=7", "")
		if res.status != http.StatusOK || res.id == "" {
			t.Fatalf("new session before Redis is full: status %d, cookie %q", res.status, res.id)
		}
		ids[i] = res.id
	}
	fillRedis(t, client)

	for _, tc := range []struct {
		what, path string
		id         string
		status     int
	}{
		{"read of a live session", "/get?k=a", ids[0], http.StatusOK},
		{"write to a live session", "/set?k=b&v=1", ids[0], http.StatusInternalServerError},
		{"new session", "/set?k=a&v=1", "", http.StatusInternalServerError},
		{"read of a live session, again", "/get?k=a", ids[0], http.StatusOK},
		{"logout of a live session", "/destroy", ids[1], http.StatusOK},
	} {
		res := fs.do(tc.path, tc.id)
		if res.err != nil {
			t.Fatalf("%s: %v", tc.what, res.err)
		}
		if res.status != tc.status {
			t.Errorf("%s with Redis full: status %d, want %d", tc.what, res.status, tc.status)
		}
		t.Logf("Redis full: %-30s -> %d", tc.what, res.status)
	}
	if _, err := st.Read(context.Background(), handleOf(ids[1])); err != sessions.ErrNotFound {
		t.Errorf("after a logout with Redis full, Read gave %v, want sessions.ErrNotFound", err)
	}
	if err := st.Write(context.Background(), handleOf(ids[1]), sessions.Change{Set: sessions.Record{"a": []byte("1")}}, faultCommitTimeout); err != sessions.ErrInvalidated {
		t.Errorf("after a logout with Redis full, Write gave %v, want sessions.ErrInvalidated", err)
	}
	rec, err := st.Read(context.Background(), handleOf(ids[2]))
	if err != nil || string(rec["a"]) != "7" {
		t.Errorf("Read of a live session with Redis full gave %v, %v", rec, err)
	}
}

// fillRedis writes filler keys until Redis refuses even a small one for
// lack of memory. Big keys first, then smaller ones: a refused big value
// leaves room that a session write would fit in.
func fillRedis(t *testing.T, client *redis.Client) {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, size := range []int{64 << 10, 4 << 10, 256, 16} {
		filler := strings.Repeat("x", size)
		for {
			err := client.Set(ctx, "filler:"+strconv.Itoa(n), filler, 0).Err()
			n++
			if err != nil {
				if !strings.HasPrefix(err.Error(), "OOM") {
					t.Fatalf("filling Redis: %v", err)
				}
				break
			}
			if n > 1_000_000 {
				t.Fatal("Redis never ran out of memory")
			}
		}
	}
	t.Logf("Redis refused filler key %d", n)
}
