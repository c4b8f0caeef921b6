package sessions

import (
	"bytes"
	"strings"
	"testing"
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
		before := Change{Mode: ModeReplace, Set: rec}.Apply(nil)
		mode := ModeMerge
		if replace {
			mode = ModeReplace
		}
		got := Change{Mode: mode, Set: set, Delete: del}.Apply(rec)
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
