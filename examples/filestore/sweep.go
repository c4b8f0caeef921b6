package filestore

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/sessions"
)

func (s *Store) sweepLoop(ctx context.Context, interval time.Duration) {
	defer close(s.done)
	if interval < 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

// sweep deletes expired records and tombstones, the lock files of ids left
// with neither, and orphans: temporary files left by a crash, and record
// files that do not decode, once they are older than orphanAge. A failure
// is left for the next sweep.
func (s *Store) sweep(ctx context.Context) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			s.removeOrphan(e)
		case strings.HasSuffix(name, recordSuffix):
			s.sweepFile(ctx, e, strings.TrimSuffix(name, recordSuffix), magicRecord)
		case strings.HasSuffix(name, tombSuffix):
			s.sweepFile(ctx, e, strings.TrimSuffix(name, tombSuffix), magicTomb)
		case strings.HasSuffix(name, lockSuffix):
			s.sweepFile(ctx, e, strings.TrimSuffix(name, lockSuffix), "")
		}
	}
}

// sweepFile deletes the file e, of id stem and kind magic (none for a lock
// file), if it is expired (or an orphan record), then the lock file of the
// id if the id has no file left. It re-reads the file under the id's lock:
// a Write may have renamed a fresh file over the expired one since ReadDir.
func (s *Store) sweepFile(ctx context.Context, e os.DirEntry, stem, magic string) {
	if _, err := fileName(idOf(stem)); err != nil {
		return // not a file of ours
	}
	if magic == "" && s.inUse(stem) {
		return // the usual case, seen without taking the lock
	}
	unlock, err := s.lockName(ctx, stem)
	if err != nil {
		return
	}
	defer unlock()
	if magic != "" {
		f, ok, err := readFile(s.path(e.Name()), magic)
		switch {
		case errors.Is(err, sessions.ErrCorrupt) && magic == magicRecord:
			s.removeOrphan(e)
		case ok && !f.live(time.Now().UnixNano()):
			s.unlink(e.Name())
		}
	}
	s.dropLockFile(stem)
}

// dropLockFile deletes the lock file of stem if stem has no record and no
// tombstone: a delta to an unknown id leaves one behind, and so does every
// record the sweeper deletes. The caller holds the lock, and does nothing
// under it after this: a newcomer locks a new file at the path as soon as
// this one is gone. A Store that opened this one before and gets its lock
// after finds it gone from its path, and starts again (see stillAt).
func (s *Store) dropLockFile(stem string) {
	if !s.inUse(stem) {
		s.unlink(stem + lockSuffix)
	}
}

// inUse reports whether stem has a record or a tombstone, or may have one:
// an error other than "not there" counts as one.
func (s *Store) inUse(stem string) bool {
	for _, suffix := range []string{recordSuffix, tombSuffix} {
		if _, err := os.Lstat(s.path(stem + suffix)); !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// removeOrphan deletes e once it is older than orphanAge, so that a file a
// Write is still filling, or one an operator wants to look at after a
// crash, is left alone for a while.
func (s *Store) removeOrphan(e os.DirEntry) {
	info, err := e.Info()
	if err == nil && time.Since(info.ModTime()) > s.orphanAge {
		s.unlink(e.Name())
	}
}
