package sessions

import (
	"cmp"
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

type memoryOptions struct {
	shardMask     uint64
	sweepInterval time.Duration
	shrinkMin     int
}

// defaultMemoryOptions holds every default of a MemoryStore.
func defaultMemoryOptions() memoryOptions {
	return memoryOptions{
		sweepInterval: time.Minute,
		shardMask:     memoryShards - 1,
		shrinkMin:     1024,
	}
}

// MemoryOption configures a MemoryStore created by NewMemoryStore.
type MemoryOption func(*memoryOptions)

// WithSweepInterval sets how often the background sweeper of a MemoryStore
// deletes expired records and tombstones. The default is one minute, and a
// d of zero means the default too. A negative d runs no sweeper.
//
// The interval only bounds how long expired entries hold memory: they are
// never visible, because every access checks expiry. Without a sweeper an
// expired entry is freed only when its ID is written again, so turn it off
// only for a short-lived store, such as a test's.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(o *memoryOptions) {
		o.sweepInterval = cmp.Or(d, defaultMemoryOptions().sweepInterval)
	}
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
	shardMask uint64 // memoryShards-1; 0 puts every ID in one shard (a benchmark's baseline)
	shrinkMin int
	// sweepEvery is the sweeper's interval, 0 when none runs.
	sweepEvery time.Duration
	stop       chan struct{}
	done       chan struct{} // closed when no sweeper runs
	closeOnce  sync.Once
}

type memoryEntry struct {
	rec Record
	// expires is the end of the record's life in nanoseconds since the
	// store's epoch, on the monotonic clock.
	expires int64
}

// NewMemoryStore returns an empty MemoryStore and starts its sweeper, unless
// WithSweepInterval turned it off.
func NewMemoryStore(opts ...MemoryOption) *MemoryStore {
	o := defaultMemoryOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &MemoryStore{
		seed:       maphash.MakeSeed(),
		epoch:      time.Now(),
		shardMask:  o.shardMask,
		shrinkMin:  o.shrinkMin,
		sweepEvery: max(o.sweepInterval, 0),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].reset(0)
	}
	if s.sweepEvery == 0 {
		// Close then finds the sweeper finished, as it finds a stopped one.
		close(s.done)
		return s
	}
	go s.sweepLoop(s.sweepEvery)
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
// now (never shortening a live record's in ModeUpsert), following the rules
// of Store.Write, but never past the session's absolute deadline (see
// Store); a delta to a record past its deadline gives ErrNotFound. A
// non-positive ttl leaves no record under id.
func (s *MemoryStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	if sh.tombstoned(id, now) {
		return ErrInvalidated
	}
	e, live := sh.live(id, now)
	switch {
	case ch.Mode == ModeReplace:
		e.rec = ch.Apply(nil)
	case !live && (ch.Mode != ModeUpsert || ch.IsTouch()):
		return ErrNotFound
	case !ch.IsTouch():
		e.rec = ch.Apply(e.rec)
	}
	if left, ok := untilDeadline(e.rec); ok && left < ttl {
		if left <= 0 && ch.Mode != ModeReplace {
			delete(sh.records, id)
			return ErrNotFound
		}
		ttl = left
	}
	expires := addTTL(now, ttl)
	if ch.Mode == ModeUpsert && !ch.IsTouch() && live && e.expires > expires {
		expires = e.expires // an upsert never shortens what another writer set
	}
	e.expires = expires
	if e.expires <= now {
		delete(sh.records, id)
		return nil
	}
	sh.records[id] = e
	sh.notePeak()
	return nil
}

// tombstoned reports whether id carries a live tombstone, and forgets an
// expired one. sh.mu is held.
func (sh *memoryShard) tombstoned(id string, now int64) bool {
	exp, ok := sh.tombs[id]
	if ok && exp <= now {
		delete(sh.tombs, id)
	}
	return ok && exp > now
}

// live returns the live entry under id, and forgets an expired one. sh.mu
// is held.
func (sh *memoryShard) live(id string, now int64) (memoryEntry, bool) {
	e, ok := sh.records[id]
	if ok && e.expires <= now {
		delete(sh.records, id)
		return memoryEntry{}, false
	}
	return e, ok
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
