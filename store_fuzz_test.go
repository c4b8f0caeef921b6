package sessions

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// splitPairs turns "k=v;k=v" into a Record.
func splitPairs(s string) Record {
	r := Record{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			r[k] = []byte(v)
		}
	}
	return r
}

// FuzzChangeApply: Apply follows the rules of a Change for any record and
// change, and never modifies the record it is given.
func FuzzChangeApply(f *testing.F) {
	f.Add("a=1;b=2", "b=3;c=4", "a;z", false)
	f.Add("", "x=", "", true)
	f.Add("k=v", "", "k;k", false)
	f.Fuzz(func(t *testing.T, recS, setS, delS string, replace bool) {
		rec, set := splitPairs(recS), splitPairs(setS)
		del := strings.Split(delS, ";")
		before := Change{Replace: true, Set: rec}.Apply(nil)
		got := Change{Replace: replace, Set: set, Delete: del}.Apply(rec)
		want := Record{}
		if !replace {
			for k, v := range rec {
				want[k] = v
			}
			for _, k := range del {
				delete(want, k)
			}
		}
		for k, v := range set {
			want[k] = v
		}
		if len(got) != len(want) {
			t.Fatalf("Apply gave %d keys, want %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("key %q = %q, want %q", k, got[k], v)
			}
		}
		for k, v := range before {
			if !bytes.Equal(rec[k], v) || len(rec) != len(before) {
				t.Fatal("Apply modified the record it was given")
			}
		}
	})
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
	st := NewRedisStore(client)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, fields string, asString bool) {
		m.FlushAll()
		id := handle("fuzz")
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
		_, tomb := pairs[redisTombField]
		switch {
		case asString:
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("a string under the key gave %v, want ErrCorrupt", err)
			}
		case tomb || len(pairs) == 0:
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("a tombstone or no hash gave %v, want ErrNotFound", err)
			}
		case err != nil || len(rec) != len(pairs):
			t.Fatalf("hash of %d fields read as %d (%v)", len(pairs), len(rec), err)
		}
	})
}
