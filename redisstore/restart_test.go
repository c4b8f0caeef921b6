//go:build unix

package redisstore

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// TestRestart logs a session out through the middleware, crashes
// Redis (SIGKILL) and restarts it with the same data directory, for each
// kind of persistence, and checks what the old cookie gets afterwards:
//
//   - no persistence: Redis restarts empty; the session went with the
//     tombstone, so the old cookie names no session (the logout holds);
//   - an RDB snapshot taken before the logout: the session comes back, live,
//     and the logout is lost (so is every other change since the snapshot);
//   - AOF with appendfsync always: the logout was on disk before Redis
//     answered it, and it holds.
//
// AOF with appendfsync everysec writes the file before answering, but
// syncs it to disk once a second: a machine crash or power loss (which a
// test cannot stage) loses up to the last second or two, logouts among
// them, as in the RDB case.
func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		snapshot bool  // SAVE before the logout
		live     bool  // the session is live again after the restart
		write    error // what a delta Write to it gives after the restart
	}{
		{"no persistence", nil, false, false, sessions.ErrNotFound},
		{"RDB snapshot before the logout", nil, true, true, nil},
		{"AOF always", []string{"--appendonly", "yes", "--appendfsync", "always"}, false, false, sessions.ErrInvalidated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRedisServer(t)
			srv.args = tc.args
			srv.start()
			// What survives a restart is the question, not how fast: the
			// timeouts are the defaults, which an fsync on every write of
			// "AOF always" stays well inside on a loaded disk.
			client := redis.NewClient(&redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true})
			t.Cleanup(func() { client.Close() })
			st := New(client)
			fs := newFaultServer(t, st, sessions.WithCommitTimeout(10*time.Second))
			res := fs.do("/set?k=a&v=7", "")
			if res.status != http.StatusOK || res.id == "" {
				t.Fatalf("new session: status %d, cookie %q", res.status, res.id)
			}
			id := res.id
			if tc.snapshot {
				if err := client.Save(context.Background()).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if res := fs.do("/destroy", id); res.status != http.StatusOK || !res.deleted {
				t.Fatalf("logout: status %d, cookie deleted %v", res.status, res.deleted)
			}
			srv.kill()
			srv.start()

			_, err := st.Read(context.Background(), handleOf(id))
			if live := err == nil; live != tc.live {
				t.Fatalf("after the restart, Read of the logged-out session gave %v; want live = %v", err, tc.live)
			}
			ch := sessions.Change{Set: sessions.Record{"b": []byte("1")}}
			if err := st.Write(context.Background(), handleOf(id), ch, faultCommitTimeout); !errors.Is(err, tc.write) {
				t.Fatalf("after the restart, a Write to the logged-out session gave %v, want %v", err, tc.write)
			}
			res = fs.do("/get?k=a", id)
			want := map[bool]string{false: "0", true: "7"}[tc.live]
			if res.status != http.StatusOK || res.body != want {
				t.Fatalf("after the restart, the old cookie reads a = %q (status %d), want %q", res.body, res.status, want)
			}
			res = fs.do("/set?k=a&v=9", id)
			if !tc.live && res.id == id {
				t.Fatalf("after the restart, a write with the old cookie was accepted under the old ID")
			}
			t.Logf("%s: after SIGKILL and restart the logged-out session is live = %v", tc.name, tc.live)
		})
	}
}
