package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// splitPairs turns "k=v;k=v" into a Record.
func splitPairs(s string) sessions.Record {
	r := sessions.Record{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			r[k] = []byte(v)
		}
	}
	return r
}

// FuzzRedisRead: whatever hash Redis holds under a session's key (any
// fields and values, a tombstone field, none), Read gives the record, no
// session, or an error wrapping ErrCorrupt, and never panics.
func FuzzRedisRead(f *testing.F) {
	f.Add("user=\"alice\";__created=1", false)
	f.Add("__tomb=1;user=x", false)
	f.Add("", true)
	f.Add("=;==;\x00=\xff", false)
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	client := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer client.Close()
	st := New(client)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, fields string, asString bool) {
		m.FlushAll()
		id := handleOf("fuzz")
		key := "session:{" + id + "}"
		pairs := splitPairs(fields)
		switch {
		case asString:
			m.Set(key, fields)
		case len(pairs) > 0:
			for k, v := range pairs {
				m.HSet(key, k, string(v))
			}
		}
		rec, err := st.Read(ctx, id)
		_, tomb := pairs[tombField]
		switch {
		case asString:
			if !errors.Is(err, sessions.ErrCorrupt) {
				t.Fatalf("a string under the key gave %v, want ErrCorrupt", err)
			}
		case tomb || len(pairs) == 0:
			if !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("a tombstone or no hash gave %v, want ErrNotFound", err)
			}
		case err != nil || len(rec) != len(pairs):
			t.Fatalf("hash of %d fields read as %d (%v)", len(pairs), len(rec), err)
		}
	})
}
