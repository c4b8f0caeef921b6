//go:build !race

// The race detector adds nothing to a single-goroutine search and makes it
// last minutes; .ci/run runs this test on its own, without it.

package main

import "testing"

// TestModel: the protocol holds in every schedule of every scenario, and
// each weaker variant fails in at least one.
func TestModel(t *testing.T) {
	if testing.Short() {
		t.Skip("explores millions of schedules; .ci/run runs it")
	}
	for i, v := range variants() {
		bad := 0
		for _, r := range check(v) {
			if r.m.bad.Sign() > 0 {
				bad++
				if i == 0 {
					t.Errorf("%s: %s fails:\n%s", v.name, r.scenario, r.m.msg)
				}
			}
		}
		if i > 0 && bad == 0 {
			t.Errorf("%s holds everywhere: the model does not show why the protocol needs that rule", v.name)
		}
	}
}
