package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

func memStore(t *testing.T, opts ...sessions.MemoryOption) *sessions.MemoryStore {
	t.Helper()
	s := sessions.NewMemoryStore(opts...)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return memStore(t)
	})
}

// TestMemoryStoreConformanceFastSweep runs the suite while the sweeper runs
// all the time, to show that it never deletes a live record or tombstone.
func TestMemoryStoreConformanceFastSweep(t *testing.T) {
	t.Parallel()
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return memStore(t, sessions.WithSweepInterval(time.Millisecond))
	})
}

// TestMemoryStoreExpiredUnsweptIsInvisible checks that expiry does not wait
// for the sweeper: with the default interval of a minute, nothing is swept
// during the test.
func TestMemoryStoreExpiredUnsweptIsInvisible(t *testing.T) {
	s := memStore(t)
	ctx := context.Background()
	if err := s.Write(ctx, "expiring", memReplace("a", "1"), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "tombstoned", 20*time.Millisecond); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Remove of an unknown ID gave %v, want ErrNotFound", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := sessions.MemoryStoreEntries(s); n != 2 {
		t.Fatalf("%d entries stored, want the 2 unswept ones", n)
	}
	if _, err := s.Read(ctx, "expiring"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read of an expired, unswept record gave %v, want ErrNotFound", err)
	}
	if ok, err := s.Exists(ctx, "expiring"); ok || err != nil {
		t.Errorf("Exists of an expired, unswept record gave (%v, %v), want (false, nil)", ok, err)
	}
	if err := s.Write(ctx, "expiring", sessions.Change{}, time.Minute); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a touch of an expired, unswept record gave %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, "expiring", time.Minute); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Remove of an expired, unswept record gave %v, want ErrNotFound", err)
	}
	if err := s.Write(ctx, "tombstoned", memReplace("a", "1"), time.Minute); err != nil {
		t.Errorf("a Write under an expired, unswept tombstone gave %v, want nil", err)
	}
}

func TestMemoryStoreTTLEdges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *sessions.MemoryStore)
	}{
		{"zero ttl write leaves no record", func(t *testing.T, s *sessions.MemoryStore) {
			memMustWrite(t, s, "id", memReplace("a", "1"), time.Minute)
			memMustWrite(t, s, "id", sessions.Change{}, 0)
			memExpectMissing(t, s, "id")
		}},
		{"negative ttl write leaves no record", func(t *testing.T, s *sessions.MemoryStore) {
			memMustWrite(t, s, "id", memReplace("a", "1"), -time.Second)
			memExpectMissing(t, s, "id")
		}},
		{"huge ttl does not wrap into the past", func(t *testing.T, s *sessions.MemoryStore) {
			memMustWrite(t, s, "id", memReplace("a", "1"), math.MaxInt64)
			if _, err := s.Read(ctx, "id"); err != nil {
				t.Errorf("Read gave %v, want the record", err)
			}
		}},
		{"zero ttl remove deletes and leaves no tombstone", func(t *testing.T, s *sessions.MemoryStore) {
			memMustWrite(t, s, "id", memReplace("a", "1"), time.Minute)
			if err := s.Remove(ctx, "id", 0); err != nil {
				t.Fatalf("Remove of a live record gave %v, want nil", err)
			}
			memExpectMissing(t, s, "id")
			memMustWrite(t, s, "id", memReplace("a", "2"), time.Minute)
		}},
		{"remove never shortens a tombstone", func(t *testing.T, s *sessions.MemoryStore) {
			if err := s.Remove(ctx, "id", time.Minute); !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("Remove of an unknown ID gave %v, want ErrNotFound", err)
			}
			if err := s.Remove(ctx, "id", time.Millisecond); !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("a second Remove gave %v, want ErrNotFound", err)
			}
			time.Sleep(20 * time.Millisecond)
			if err := s.Write(ctx, "id", memReplace("a", "1"), time.Minute); !errors.Is(err, sessions.ErrInvalidated) {
				t.Errorf("Write gave %v, want ErrInvalidated: a shorter second Remove must keep the first tombstone", err)
			}
		}},
		{"replace with no keys stores an empty record", func(t *testing.T, s *sessions.MemoryStore) {
			memMustWrite(t, s, "id", sessions.Change{Mode: sessions.ModeReplace}, time.Minute)
			r, err := s.Read(ctx, "id")
			if err != nil || len(r) != 0 {
				t.Errorf("Read gave (%v, %v), want an empty record", r, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, memStore(t))
		})
	}
}

// TestMemoryStoreReadDoesNotCopy checks the copy-on-write design: Read hands
// out the stored map itself and allocates nothing, and a Write swaps in a
// new map instead of changing it.
func TestMemoryStoreReadDoesNotCopy(t *testing.T) {
	s := memStore(t)
	ctx := context.Background()
	memMustWrite(t, s, "id", memReplace("a", "1", "b", "2"), time.Minute)
	r1, _ := s.Read(ctx, "id")
	r2, _ := s.Read(ctx, "id")
	if reflect.ValueOf(r1).Pointer() != reflect.ValueOf(r2).Pointer() {
		t.Error("two Reads returned different maps, want the stored map itself")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.Read(ctx, "id") }); n != 0 {
		t.Errorf("Read allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.Exists(ctx, "id") }); n != 0 {
		t.Errorf("Exists allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Write(ctx, "id", sessions.Change{}, time.Minute) }); n != 0 {
		t.Errorf("a touch allocates %v times, want 0", n)
	}
	memMustWrite(t, s, "id", sessions.Change{Set: sessions.Record{"a": []byte("changed")}}, time.Minute)
	if string(r1["a"]) != "1" {
		t.Errorf("a Write changed a record returned earlier: a = %q, want %q", r1["a"], "1")
	}
}

// TestMemoryStoreChurnBoundedMemory creates many short-lived sessions and
// tombstones in rounds, and checks that the sweeper deletes them all and
// that the live heap does not grow from round to round.
func TestMemoryStoreChurnBoundedMemory(t *testing.T) {
	const (
		rounds   = 20
		perRound = 10000
		ttl      = 5 * time.Millisecond
		// The heap may exceed the one after the warm-up rounds by this
		// much: far less than one round's data, which never shrinks away if
		// entries are not deleted.
		slack = 2 << 20
	)
	s := memStore(t, sessions.WithSweepInterval(2*time.Millisecond))
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 64)
	heaps := make([]uint64, 0, rounds)
	for round := 0; round < rounds; round++ {
		for i := 0; i < perRound; i++ {
			id := fmt.Sprintf("churn-%d-%d", round, i)
			if err := s.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": value, "__created": value}}, ttl); err != nil {
				t.Fatal(err)
			}
			if i%4 == 0 {
				// The record may already have expired on a slow machine.
				if err := s.Remove(ctx, id, ttl); err != nil && !errors.Is(err, sessions.ErrNotFound) {
					t.Fatal(err)
				}
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for sessions.MemoryStoreEntries(s) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d entries still stored 5s after they expired", round, sessions.MemoryStoreEntries(s))
			}
			time.Sleep(time.Millisecond)
		}
		heaps = append(heaps, sessions.LiveHeap())
	}
	t.Logf("live heap after each round of %d sessions (KiB): %s", perRound, memKiB(heaps))
	// Rounds 0 and 1 grow the shard maps to their working size.
	baseline := heaps[1]
	for round := 2; round < rounds; round++ {
		if heaps[round] > baseline+slack {
			t.Errorf("round %d: live heap %d B, more than %d B above %d B after round 1: memory grows with churn",
				round, heaps[round], slack, baseline)
		}
	}
}

func TestMemoryStoreCloseStopsSweeper(t *testing.T) {
	// Only the store's goroutines count: other tests' goroutines come and go.
	storeGoroutines := func() int { return memCountGoroutines("sessions.(*MemoryStore)", "sessions.NewMemoryStore") }
	before := storeGoroutines()
	sweepersBefore := memCountSweepers()
	s := sessions.NewMemoryStore(sessions.WithSweepInterval(time.Millisecond))
	if n := memWaitSweepers(sweepersBefore + 1); n != sweepersBefore+1 {
		t.Fatalf("%d sweeper goroutines after NewMemoryStore, want %d", n, sweepersBefore+1)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close gave %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close gave %v, want nil", err)
	}
	if n := memWaitSweepers(sweepersBefore); n != sweepersBefore {
		t.Errorf("%d sweeper goroutines after Close, want %d", n, sweepersBefore)
	}
	deadline := time.Now().Add(10 * time.Second)
	n := storeGoroutines()
	for ; n > before && time.Now().Before(deadline); n = storeGoroutines() {
		time.Sleep(10 * time.Millisecond)
	}
	if n > before {
		t.Errorf("%d goroutines of a MemoryStore after Close, %d before NewMemoryStore: a goroutine leaked", n, before)
	}
	ctx := context.Background()
	memMustWrite(t, s, "id", memReplace("a", "1"), time.Minute)
	if _, err := s.Read(ctx, "id"); err != nil {
		t.Errorf("Read after Close gave %v, want the record: the store stays usable", err)
	}
}

func TestMemoryStoreConcurrentClose(t *testing.T) {
	s := sessions.NewMemoryStore()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Close(); err != nil {
				t.Errorf("Close gave %v", err)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkMemoryStore(b *testing.B) {
	ctx := context.Background()
	s := sessions.NewMemoryStore()
	defer s.Close()
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
		if err := s.Write(ctx, ids[i], memReplace("user", "alice", "__created", "1"), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	delta := sessions.Change{Set: sessions.Record{"n": []byte("1")}}
	b.Run("Read", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := s.Read(ctx, ids[i%len(ids)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("WriteDelta", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if err := s.Write(ctx, ids[i%len(ids)], delta, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// memWaitSweepers waits up to two seconds for want goroutines to be running
// a MemoryStore's sweeper, and returns how many there are.
func memWaitSweepers(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := memCountSweepers()
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// memCountSweepers counts the goroutines running a MemoryStore's sweeper.
func memCountSweepers() int { return memCountGoroutines("(*MemoryStore).sweepLoop") }

// memCountGoroutines counts the goroutines whose stack, or the call that
// created them, names any of funcs.
func memCountGoroutines(funcs ...string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n == len(buf) {
			buf = make([]byte, 2*len(buf))
			continue
		}
		count := 0
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			for _, f := range funcs {
				if strings.Contains(g, f) {
					count++
					break
				}
			}
		}
		return count
	}
}

func memKiB(heaps []uint64) string {
	parts := make([]string, len(heaps))
	for i, h := range heaps {
		parts[i] = fmt.Sprint(h >> 10)
	}
	return strings.Join(parts, " ")
}

func memReplace(kv ...string) sessions.Change {
	r := make(sessions.Record, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i]] = []byte(kv[i+1])
	}
	return sessions.Change{Mode: sessions.ModeReplace, Set: r}
}

func memMustWrite(t *testing.T, s sessions.Store, id string, ch sessions.Change, ttl time.Duration) {
	t.Helper()
	if err := s.Write(context.Background(), id, ch, ttl); err != nil {
		t.Fatalf("Write(%q) gave %v, want nil", id, err)
	}
}

func memExpectMissing(t *testing.T, s sessions.Store, id string) {
	t.Helper()
	if _, err := s.Read(context.Background(), id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read(%q) gave %v, want ErrNotFound", id, err)
	}
}
