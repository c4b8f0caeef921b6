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

// sweep deletes expired records and tombstones, and orphans: temporary
// files left by a crash, and record files that do not decode, once they are
// older than orphanAge. A failure is left for the next sweep.
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
		}
	}
}

// sweepFile deletes the file e, of id stem and kind magic, if it is expired
// (or an orphan record). It re-reads the file under the id's lock: a Write
// may have renamed a fresh file over the expired one since ReadDir.
func (s *Store) sweepFile(ctx context.Context, e os.DirEntry, stem, magic string) {
	if _, err := fileName(idOf(stem)); err != nil {
		return // not a file of ours
	}
	unlock, err := s.locks.lock(ctx, idOf(stem))
	if err != nil {
		return
	}
	defer unlock()
	f, ok, err := readFile(s.path(e.Name()), magic)
	switch {
	case errors.Is(err, sessions.ErrCorrupt) && magic == magicRecord:
		s.removeOrphan(e)
	case ok && !f.live(time.Now().UnixNano()):
		s.unlink(e.Name())
	}
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
