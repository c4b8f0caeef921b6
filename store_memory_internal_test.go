package sessions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func memWithShrinkMin(n int) MemoryOption {
	return func(o *memoryOptions) { o.shrinkMin = n }
}

func TestMemoryOptionsDefaults(t *testing.T) {
	o := defaultMemoryOptions()
	if o.sweepInterval != time.Minute {
		t.Errorf("default sweep interval = %v, want 1m", o.sweepInterval)
	}
	WithSweepInterval(time.Second)(&o)
	if o.sweepInterval != time.Second {
		t.Errorf("sweep interval = %v, want 1s", o.sweepInterval)
	}
	// What zero and a negative interval mean: TestSweepIntervalMeanings.
}

func TestMemoryAddTTLSaturates(t *testing.T) {
	for _, tt := range []struct {
		now  int64
		ttl  time.Duration
		want int64
	}{
		{0, time.Second, int64(time.Second)},
		{100, -50, 50},
		{100, math.MaxInt64, math.MaxInt64},
		{math.MaxInt64 - 10, 10, math.MaxInt64},
		{math.MaxInt64 - 10, 11, math.MaxInt64},
	} {
		if got := addTTL(tt.now, tt.ttl); got != tt.want {
			t.Errorf("addTTL(%d, %d) = %d, want %d", tt.now, tt.ttl, got, tt.want)
		}
	}
}

// TestMemoryStoreShrinksMapsAfterSpike checks that the memory a spike of
// sessions took is given back once they expire. Go maps keep their peak
// size when entries are deleted; measured without the shrinking, about 14%
// of the spike's heap stays in use after every entry is gone, with it
// under 1%.
func TestMemoryStoreShrinksMapsAfterSpike(t *testing.T) {
	const (
		shrinkMin = 64
		spikeSize = 20000
		ttl       = 3 * time.Second
	)
	s := NewMemoryStore(WithSweepInterval(5*time.Millisecond), memWithShrinkMin(shrinkMin))
	defer s.Close()
	ctx := context.Background()
	base := LiveHeap()
	v := []byte("value")
	for i := 0; i < spikeSize; i++ {
		id := fmt.Sprintf("spike-%d", i)
		if err := s.Write(ctx, id, Change{Mode: ModeReplace, Set: Record{"a": v, "b": v}}, ttl); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if err := s.Remove(ctx, "removed-"+id, ttl); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Remove of an unknown ID gave %v, want ErrNotFound", err)
			}
		}
	}
	peak := LiveHeap()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		p := sh.peak
		sh.mu.RUnlock()
		if p < shrinkMin {
			t.Fatalf("shard %d peaked at %d entries, below %d: the spike expired before it was built", i, p, shrinkMin)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for MemoryStoreEntries(s) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries are still stored 10s after they expired", MemoryStoreEntries(s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := LiveHeap()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		p := sh.peak
		sh.mu.RUnlock()
		if p >= shrinkMin {
			t.Errorf("shard %d is empty but its maps are still sized for %d entries: they were not re-allocated", i, p)
		}
	}
	spike := int64(peak) - int64(base)
	retained := int64(after) - int64(base)
	t.Logf("heap: %d B before, %d B with %d sessions and %d tombstones, %d B once they expired (%.1f%% of the spike retained)",
		base, peak, spikeSize, spikeSize/4, after, 100*float64(retained)/float64(spike))
	if retained > spike/20 {
		t.Errorf("%d B of the spike's %d B stay in use after every entry expired, want under 5%%", retained, spike)
	}
}

// BenchmarkMemoryStoreShards runs nine reads to one delta write over 1,024
// sessions on all cores, on the MemoryStore and on the same store with
// every ID in one shard.
func BenchmarkMemoryStoreShards(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = handle(fmt.Sprint(i))
	}
	delta := Change{Set: Record{"n": []byte("1")}}
	for _, tc := range []struct {
		name string
		opts []MemoryOption
	}{
		{"sharded", nil},
		{"one-lock", []MemoryOption{func(o *memoryOptions) { o.shardMask = 0 }}},
	} {
		s := newTestMemoryStore(b, tc.opts...)
		for _, id := range ids {
			s.Write(ctx, id, Change{Mode: ModeReplace, Set: Record{"user": []byte("alice")}}, time.Hour)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if id := ids[i%len(ids)]; i%10 == 0 {
						s.Write(ctx, id, delta, time.Hour)
					} else {
						s.Read(ctx, id)
					}
				}
			})
		})
	}
}
