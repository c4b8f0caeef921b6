package sessions

import (
	"runtime"
)

// This file gives the tests of package sessions_test what they need of the
// package's internals.

// MemoryStoreEntries reports how many records and tombstones s holds,
// including expired ones the sweeper has not deleted yet. It serves the
// tests of package sessions_test.
func MemoryStoreEntries(s *MemoryStore) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.records) + len(sh.tombs)
		sh.mu.RUnlock()
	}
	return n
}

// LiveHeap returns the bytes of reachable heap objects, after a collection.
func LiveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Handle is handle, for the tests of package sessions_test.
func Handle(id string) string { return handle(id) }
