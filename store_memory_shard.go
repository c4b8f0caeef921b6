package sessions

import (
	"hash/maphash"
	"sync"
)

// A MemoryStore is split into shards, each with its own lock, so that
// requests on different sessions do not contend, and each shard re-allocates
// its maps after a spike. BenchmarkMemoryStoreShards measures the shards
// against one lock; TestMemoryStoreShrinksMapsAfterSpike measures the memory
// the re-allocation gives back.

// memoryShards is the number of independently locked parts of a
// MemoryStore. Requests on sessions in different shards never wait for each
// other.
const memoryShards = 64 // a power of two

// A shard's maps are re-allocated by the sweeper when they hold fewer than
// 1/memoryShrinkRatio of the entries they held at their peak, and that peak
// was at least memoryOptions.shrinkMin entries. Go maps never give memory
// back as entries are deleted, so without this one spike of sessions would
// keep its memory for the life of the process.
const memoryShrinkRatio = 4

type memoryShard struct {
	mu      sync.RWMutex
	records map[string]memoryEntry
	// tombs holds the expiry of each tombstone.
	tombs map[string]int64
	// peak is the largest len(records)+len(tombs) since the maps were
	// allocated.
	peak int
	// Keeps the locks of neighbouring shards off one cache line.
	_ [64]byte
}

func (s *MemoryStore) shard(id string) *memoryShard {
	return &s.shards[maphash.String(s.seed, id)&s.shardMask]
}

// sweep deletes the shard's expired records and tombstones, and
// re-allocates its maps when they have shrunk far below their peak.
func (sh *memoryShard) sweep(s *MemoryStore) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	for id, e := range sh.records {
		if e.expires <= now {
			delete(sh.records, id)
		}
	}
	for id, exp := range sh.tombs {
		if exp <= now {
			delete(sh.tombs, id)
		}
	}
	n := len(sh.records) + len(sh.tombs)
	if sh.peak >= s.shrinkMin && n < sh.peak/memoryShrinkRatio {
		records, tombs := sh.records, sh.tombs
		sh.reset(n)
		for id, e := range records {
			sh.records[id] = e
		}
		for id, exp := range tombs {
			sh.tombs[id] = exp
		}
	}
}

// reset gives the shard new, empty maps, sized for about n entries.
func (sh *memoryShard) reset(n int) {
	sh.records = make(map[string]memoryEntry, n)
	sh.tombs = make(map[string]int64)
	sh.peak = n
}

func (sh *memoryShard) notePeak() {
	if n := len(sh.records) + len(sh.tombs); n > sh.peak {
		sh.peak = n
	}
}
