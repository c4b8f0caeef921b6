package sessions

import (
	"testing"
	"time"
)

// TestSweepIntervalMeanings: WithSweepInterval means what it means for the
// SQL stores: zero, like no option, is the default interval, and a
// negative interval runs no sweeper.
func TestSweepIntervalMeanings(t *testing.T) {
	cases := []struct {
		name  string
		opts  []MemoryOption
		every time.Duration // the sweeper's interval; 0 for none
	}{
		{"unset", nil, defaultMemoryOptions().sweepInterval},
		{"zero", []MemoryOption{WithSweepInterval(0)}, defaultMemoryOptions().sweepInterval},
		{"zero after another", []MemoryOption{WithSweepInterval(time.Second), WithSweepInterval(0)}, defaultMemoryOptions().sweepInterval},
		{"positive", []MemoryOption{WithSweepInterval(time.Second)}, time.Second},
		{"negative", []MemoryOption{WithSweepInterval(-time.Second)}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newMemoryStoreOrFail(t, c.opts...)
			defer s.Close()
			if s.sweepEvery != c.every {
				t.Errorf("sweeper interval %v, want %v", s.sweepEvery, c.every)
			}
			// done is closed when no sweeper runs, at once and before Close.
			select {
			case <-s.done:
				if c.every != 0 {
					t.Error("no sweeper runs")
				}
			default:
				if c.every == 0 {
					t.Error("a sweeper runs")
				}
			}
		})
	}
}

// TestDefaultSweepIntervalIsAMinute: the default that WithSweepInterval's
// doc names.
func TestDefaultSweepIntervalIsAMinute(t *testing.T) {
	if d := defaultMemoryOptions().sweepInterval; d != time.Minute {
		t.Fatalf("default sweep interval %v, want the documented minute", d)
	}
}

// newMemoryStoreOrFail is NewMemoryStore, with a panic turned into a test
// failure.
func newMemoryStoreOrFail(t *testing.T, opts ...MemoryOption) (s *MemoryStore) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("NewMemoryStore panicked: %v", r)
		}
	}()
	return NewMemoryStore(opts...)
}
