package filestore

import (
	"context"
	"sync"
)

// idLocks is a mutex per id, created on first use and dropped when its last
// user lets go, so that the map holds only the ids being written right now.
// Each lock is a channel of one slot, so that a wait for it can give up when
// the context ends.
type idLocks struct {
	mu sync.Mutex
	m  map[string]*idLock
}

type idLock struct {
	slot chan struct{}
	// refs counts the holder and the waiters; guarded by idLocks.mu.
	refs int
}

// lock takes the lock of id, or returns the context's error if ctx ends
// first. The caller calls unlock exactly once.
func (l *idLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*idLock)
	}
	e := l.m[id]
	if e == nil {
		e = &idLock{slot: make(chan struct{}, 1)}
		l.m[id] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.slot <- struct{}{}:
		return func() {
			<-e.slot
			l.release(id, e)
		}, nil
	case <-ctx.Done():
		l.release(id, e)
		return nil, ctx.Err()
	}
}

func (l *idLocks) release(id string, e *idLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.m, id)
	}
}

// len returns the number of locks held or waited for.
func (l *idLocks) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
