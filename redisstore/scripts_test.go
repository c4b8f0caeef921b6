package redisstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// luaConstant matches a named constant at the top of a script:
// local NAME = 'string' or local NAME = number.
var luaConstant = regexp.MustCompile(`(?m)^local ([A-Z_]+) = ('[^']*'|-?\d+)`)

// luaConstants returns the named constants of a script, by name, as Lua
// source ('1', -1).
func luaConstants(script string) map[string]string {
	out := map[string]string{}
	for _, m := range luaConstant.FindAllStringSubmatch(script, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestScriptConstantsMatch: each script names its modes, results and
// fields, and the Go side uses the same values under matching names.
func TestScriptConstantsMatch(t *testing.T) {
	q := func(s string) string { return "'" + s + "'" }
	n := func(i int) string { return fmt.Sprint(i) }
	for _, tc := range []struct {
		name   string
		script string
		want   map[string]string
	}{
		{"write.lua", writeLua, map[string]string{
			"MODE_MERGE": q(modeMerge), "MODE_REPLACE": q(modeReplace), "MODE_CREATE": q(modeCreate),
			"DEADLINE_STORED": q(deadlineStored), "DEADLINE_NONE": q(deadlineNone),
			"RESULT_OK": n(writeOK), "RESULT_NOT_FOUND": n(writeNotFound), "RESULT_INVALIDATED": n(writeInvalidated),
			"TOMB_FIELD": q(tombField), "DEADLINE_FIELD": q(deadlineField), "FIRST_PAIR": n(writeFirstPair),
			"BATCH": "4000",
		}},
		{"remove.lua", removeLua, map[string]string{
			"RESULT_REMOVED": n(removeRemoved), "RESULT_NOT_LIVE": n(removeNotLive), "TOMB_FIELD": q(tombField),
			"PTTL_PERSISTENT": "-1", "PTTL_NO_KEY": "-2",
		}},
		{"exists.lua", existsLua, map[string]string{
			"RESULT_LIVE": n(existsLive), "RESULT_NONE": n(existsNone), "TOMB_FIELD": q(tombField),
		}},
		{"read.lua", readLua, map[string]string{}},
	} {
		got := luaConstants(tc.script)
		for name, want := range tc.want {
			if got[name] != want {
				t.Errorf("%s: local %s = %s, want %s as on the Go side", tc.name, name, got[name], want)
			}
		}
		for name := range got {
			if _, ok := tc.want[name]; !ok {
				t.Errorf("%s: constant %s is not checked against the Go side", tc.name, name)
			}
		}
		if strings.Contains(tc.script, "KEYS[2]") {
			t.Errorf("%s uses a second key", tc.name)
		}
	}
	if args := writeArgs(sessions.Change{Set: sessions.Record{"k": []byte("v")}}, time.Second); args[writeFirstPair-1] != "k" {
		t.Errorf("writeArgs puts the first field at ARGV[%d], want ARGV[%d]: %q", indexOf(args, "k")+1, writeFirstPair, args)
	}
}

func indexOf(args []interface{}, v interface{}) int {
	for i, a := range args {
		if a == v {
			return i
		}
	}
	return -1
}

// TestWriteArgsModes: the mode each kind of Change is sent with; a Create
// with nothing to set or delete is a touch, which never creates a record.
func TestWriteArgsModes(t *testing.T) {
	set := sessions.Record{"a": []byte("1")}
	for _, tc := range []struct {
		name string
		ch   sessions.Change
		mode string
	}{
		{"merge", sessions.Change{Set: set}, modeMerge},
		{"touch", sessions.Change{}, modeMerge},
		{"replace", sessions.Change{Mode: sessions.ModeReplace, Set: set}, modeReplace},
		{"create", sessions.Change{Mode: sessions.ModeUpsert, Set: set}, modeCreate},
		{"create that deletes", sessions.Change{Mode: sessions.ModeUpsert, Delete: []string{"a"}}, modeCreate},
		{"create that touches", sessions.Change{Mode: sessions.ModeUpsert}, modeMerge},
	} {
		if got := writeArgs(tc.ch, time.Second)[0]; got != tc.mode {
			t.Errorf("%s: mode %q, want %q", tc.name, got, tc.mode)
		}
	}
}

// TestKeyOfAnotherType: a key of another type than a hash where a record
// belongs was written by someone else. Every method fails on it with an
// error that wraps sessions.ErrCorrupt and names the key, as Redis answers
// WRONGTYPE, and leaves it as it was: its value and its TTL.
func TestKeyOfAnotherType(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		st := e.store()
		id := testID(t)
		key := e.key(id)
		if err := e.client.Set(ctx, key, "not a hash", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		set := sessions.Record{"a": []byte("1")}
		for _, c := range []struct {
			name string
			call func() error
		}{
			{"Read", func() error { _, err := st.Read(ctx, id); return err }},
			{"Exists", func() error { _, err := st.Exists(ctx, id); return err }},
			{"Write merge", func() error { return st.Write(ctx, id, sessions.Change{Set: set}, time.Minute) }},
			{"Write touch", func() error { return st.Write(ctx, id, sessions.Change{}, time.Minute) }},
			{"Write create", func() error {
				return st.Write(ctx, id, sessions.Change{Mode: sessions.ModeUpsert, Set: set}, time.Minute)
			}},
			{"Write replace", func() error {
				return st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: set}, time.Minute)
			}},
			{"Write with ttl 0", func() error { return st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: set}, 0) }},
			{"Remove", func() error { return st.Remove(ctx, id, time.Hour) }},
			{"Remove with ttl 0", func() error { return st.Remove(ctx, id, 0) }},
		} {
			err := c.call()
			if !errors.Is(err, sessions.ErrCorrupt) || !strings.Contains(err.Error(), key) {
				t.Errorf("%s on a string key: %v, want an error wrapping ErrCorrupt that names %s", c.name, err, key)
			}
			if v, err := e.client.Get(ctx, key).Result(); err != nil || v != "not a hash" {
				t.Fatalf("after %s the key holds %q (%v), want the string left as it was", c.name, v, err)
			}
			expectTTL(t, e, key, time.Hour, "after "+c.name)
		}
	})
}
