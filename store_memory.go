package sessions

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// memoryShards is the number of independently locked parts of a
// MemoryStore. Requests on sessions in different shards never wait for each
// other.
const memoryShards = 64

// A shard's maps are re-allocated by the sweeper when they hold fewer than
// 1/memoryShrinkRatio of the entries they held at their peak, and that peak
// was at least memoryOptions.shrinkMin entries. Go maps never give memory
// back as entries are deleted, so without this one spike of sessions would
// keep its memory for the life of the process.
const memoryShrinkRatio = 4

type memoryOptions struct {
	sweepInterval time.Duration
	shrinkMin     int
}

func defaultMemoryOptions() memoryOptions {
	return memoryOptions{
		sweepInterval: time.Minute,
		shrinkMin:     1024,
	}
}

// MemoryOption configures a MemoryStore created by NewMemoryStore.
type MemoryOption func(*memoryOptions)

// WithSweepInterval sets how often the background sweeper of a MemoryStore
// deletes expired records and tombstones. The default is one minute.
//
// The interval only bounds how long expired entries hold memory: they are
// never visible, because every access checks expiry. It must be positive:
// NewMemoryStore panics otherwise.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(o *memoryOptions) { o.sweepInterval = d }
}

// MemoryStore is a Store that keeps sessions in the memory of the process.
// It suits a single server and tests: its sessions are lost on restart and
// are not shared between processes.
//
// The store is split into shards, each with its own lock, chosen by a hash
// of the session ID, so that requests on different sessions do not contend.
// Records are copy-on-write: Read returns the stored Record itself, without
// copying, and Write stores a new map built with Change.Apply. The caller
// must therefore never modify a Record returned by Read (the Manager never
// does), and may keep it: later Writes do not change it.
//
// Expiry is checked on every access. A background goroutine deletes expired
// records and tombstones every sweep interval (see WithSweepInterval); call
// Close to stop it when the store is no longer needed.
type MemoryStore struct {
	seed      maphash.Seed
	epoch     time.Time
	shards    [memoryShards]memoryShard
	shrinkMin int
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

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

type memoryEntry struct {
	rec Record
	// expires is the end of the record's life in nanoseconds since the
	// store's epoch, on the monotonic clock.
	expires int64
}

// NewMemoryStore returns an empty MemoryStore and starts its sweeper. It
// panics if an option is invalid.
func NewMemoryStore(opts ...MemoryOption) *MemoryStore {
	o := defaultMemoryOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.sweepInterval <= 0 {
		panic(fmt.Sprintf("sessions.NewMemoryStore: sweep interval %v must be positive", o.sweepInterval))
	}
	s := &MemoryStore{
		seed:      maphash.MakeSeed(),
		epoch:     time.Now(),
		shrinkMin: o.shrinkMin,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].reset(0)
	}
	go s.sweepLoop(o.sweepInterval)
	return s
}

// Close stops the store's sweeper and waits for it to finish. It always
// returns nil, and may be called more than once. The store stays usable
// after Close; expired entries are then still invisible but no longer freed.
func (s *MemoryStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

// Read returns the live record under id, or ErrNotFound. The record is the
// stored map itself: the caller must not modify it.
func (s *MemoryStore) Read(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	e, ok := sh.records[id]
	now := s.now()
	sh.mu.RUnlock()
	if !ok || e.expires <= now {
		return nil, ErrNotFound
	}
	return e.rec, nil
}

// Write applies ch to the record under id and sets its expiry to ttl from
// now, following the rules of Store.Write, but never past the session's
// absolute deadline (see Store); a delta to a record past its deadline gives
// ErrNotFound. A non-positive ttl leaves no record under id.
func (s *MemoryStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	if exp, ok := sh.tombs[id]; ok {
		if exp > now {
			return ErrInvalidated
		}
		delete(sh.tombs, id)
	}
	e, live := sh.records[id]
	if live && e.expires <= now {
		delete(sh.records, id)
		e, live = memoryEntry{}, false
	}
	switch {
	case ch.Replace:
		e.rec = ch.Apply(nil)
	case !live && (!ch.Create || ch.IsTouch()):
		return ErrNotFound
	case !ch.IsTouch():
		e.rec = ch.Apply(e.rec)
	}
	if left, ok := untilDeadline(e.rec); ok && left < ttl {
		if left <= 0 && !ch.Replace {
			delete(sh.records, id)
			return ErrNotFound
		}
		ttl = left
	}
	e.expires = addTTL(now, ttl)
	if e.expires <= now {
		delete(sh.records, id)
		return nil
	}
	sh.records[id] = e
	sh.notePeak()
	return nil
}

// Remove deletes the record under id and keeps a tombstone for id for at
// least ttl; a tombstone already in place is never shortened. It returns
// ErrNotFound, after leaving the tombstone, when no live record was stored
// under id. A non-positive ttl leaves no new tombstone.
func (s *MemoryStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	e, live := sh.records[id]
	live = live && e.expires > now
	delete(sh.records, id)
	exp := addTTL(now, ttl)
	if old, ok := sh.tombs[id]; ok && old > exp {
		exp = old
	}
	if exp > now {
		sh.tombs[id] = exp
		sh.notePeak()
	} else {
		delete(sh.tombs, id)
	}
	if !live {
		return ErrNotFound
	}
	return nil
}

// Exists reports whether a live record is stored under id.
func (s *MemoryStore) Exists(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	e, ok := sh.records[id]
	now := s.now()
	sh.mu.RUnlock()
	return ok && e.expires > now, nil
}

func (s *MemoryStore) shard(id string) *memoryShard {
	return &s.shards[maphash.String(s.seed, id)%memoryShards]
}

func (s *MemoryStore) now() int64 {
	return int64(time.Since(s.epoch))
}

// addTTL returns now+ttl, saturated so that a huge ttl never wraps around
// into the past.
func addTTL(now int64, ttl time.Duration) int64 {
	if ttl > 0 && int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

func (s *MemoryStore) sweepLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for i := range s.shards {
				s.shards[i].sweep(s)
			}
		}
	}
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

// untilDeadline returns the time left until the absolute deadline that the
// Manager keeps in a record's metadata, if the record has one. A store never
// keeps a record past it.
func untilDeadline(rec Record) (time.Duration, bool) {
	dl, ok := parseMillis(rec[keyDeadline])
	if !ok {
		return 0, false
	}
	return time.Until(dl), true
}
