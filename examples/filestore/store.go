package filestore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sessionkit/sessions"
)

// ErrInvalidID is returned for an id that is not one the Manager gives a
// store: a handle (64 lowercase hex digits), or "s:" or "u:" followed by
// one. Refusing anything else keeps every id a plain file name: no path
// separators, no "..", nothing a filesystem treats specially.
var ErrInvalidID = errors.New("filestore: id is not a handle (64 lowercase hex digits), optionally after \"s:\" or \"u:\"")

// ErrSharedDir is returned by New for a directory that users other than
// its owner may write to.
var ErrSharedDir = errors.New("filestore: the directory is writable by users other than its owner")

type options struct {
	sweepInterval time.Duration
	// orphanAge is how old a temporary file, or a record file that does not
	// decode, must be before the sweeper deletes it.
	orphanAge time.Duration
}

// Option configures a Store created by New.
type Option func(*options)

// WithSweepInterval sets how often the sweeper deletes expired records and
// tombstones. The default is one minute. It only bounds how long expired
// files take up disk space: they are never served, because every access
// checks the expiry. Zero keeps the default; a negative d runs no sweeper,
// as for every store of this repository.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) {
		if d != 0 {
			o.sweepInterval = d
		}
	}
}

// Store is a sessions.Store that keeps each record, and each tombstone, in
// a file of its own under one directory. It is safe for concurrent use, by
// the goroutines of one process and by other Stores and processes on the
// same directory; see the package documentation for how a Write stays
// atomic and durable.
type Store struct {
	dir       string
	locks     idLocks
	orphanAge time.Duration
	// stopSweep ends the sweeper's context; done is closed when it returns.
	stopSweep context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Store that keeps its files in dir, and starts its sweeper.
// The files of an earlier Store on dir are kept and served, and other
// Stores, in this process or another, may use dir at the same time.
//
// A missing dir is created with mode 0700. An existing one that users other
// than its owner may write to (any of the mode bits 0o022, which /tmp has)
// is refused with an error wrapping ErrSharedDir: whoever can write to the
// directory can plant a session of their choosing, or delete a tombstone
// and bring a logged-out session back. New leaves the mode as it is rather
// than tighten it, since others may rely on their access to the directory.
func New(dir string, opts ...Option) (*Store, error) {
	o := options{sweepInterval: time.Minute, orphanAge: time.Hour}
	for _, opt := range opts {
		opt(&o)
	}
	if err := openDir(dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{dir: dir, orphanAge: o.orphanAge, stopSweep: cancel, done: make(chan struct{})}
	go s.sweepLoop(ctx, o.sweepInterval)
	return s, nil
}

// openDir creates dir if it is missing, and checks that only its owner may
// write to it.
func openDir(dir string) error {
	if errPlatform != nil {
		return errPlatform
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s has mode %04o (chmod go-w to use it)", ErrSharedDir, dir, perm)
	}
	return nil
}

// Close stops the sweeper and waits for it to finish. It returns nil and
// may be called more than once. The Store stays usable after Close, but
// expired files are no longer deleted.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopSweep()
		<-s.done
	})
	return nil
}

// Read returns the live record under id, or sessions.ErrNotFound when it is
// missing, expired or removed. A file that does not decode gives an error
// that wraps sessions.ErrCorrupt. Read takes no lock: a rename replaces the
// file whole, so it sees one version or the other.
func (s *Store) Read(ctx context.Context, id string) (sessions.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := fileName(id)
	if err != nil {
		return nil, err
	}
	rec, live, err := s.current(name)
	if err != nil {
		return nil, err
	}
	// A tombstone beside a live record is left by a crash inside Remove,
	// so it is looked for only when there is a record.
	if live {
		tomb, err := s.tombLive(name)
		if err != nil {
			return nil, err
		}
		live = !tomb
	}
	if !live {
		return nil, sessions.ErrNotFound
	}
	return rec, nil
}

// Exists reports whether a live record is stored under id. A record file
// that does not decode counts as none.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	_, err := s.Read(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sessions.ErrNotFound), errors.Is(err, sessions.ErrCorrupt):
		return false, nil
	}
	return false, err
}

// Write applies ch to the record under id and sets its expiry to ttl from
// now, following the rules of sessions.Store, but never past the record's
// "__deadline": a request that only writes does not read the session, so
// the store is what keeps it from outliving its absolute lifetime. A delta
// to a record past its deadline gives sessions.ErrNotFound. A record file
// that does not decode counts as no record, so a Replace or a Create
// overwrites it and a delta gives sessions.ErrNotFound. A non-positive ttl
// leaves no record.
func (s *Store) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	name, unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if tomb, err := s.tombLive(name); err != nil {
		return err
	} else if tomb {
		return sessions.ErrInvalidated
	}
	old, live, err := s.currentFile(name)
	if err != nil && !errors.Is(err, sessions.ErrCorrupt) {
		return err
	}
	rec, err := apply(ch, old.rec, live)
	if err != nil {
		return err
	}
	now := time.Now().UnixNano()
	expires, ended := expiry(rec, ttl, now)
	if ch.Mode == sessions.ModeUpsert && !ch.IsTouch() && live && old.expires > expires {
		expires = old.expires // an upsert never shortens what another writer set
	}
	switch {
	case ended && ch.Mode != sessions.ModeReplace:
		if err := s.removeDurably(name + recordSuffix); err != nil {
			return err
		}
		return sessions.ErrNotFound
	case expires <= now:
		return s.removeDurably(name + recordSuffix)
	}
	return writeFile(s.path(name+recordSuffix), encode(magicRecord, expires, rec))
}

// apply returns the record that ch leaves, given the current one and
// whether it is live, or sessions.ErrNotFound for a delta or a touch with
// nothing to apply it to.
func apply(ch sessions.Change, rec sessions.Record, live bool) (sessions.Record, error) {
	switch {
	case ch.Mode == sessions.ModeReplace:
		return ch.Apply(nil), nil
	case !live && (ch.Mode != sessions.ModeUpsert || ch.IsTouch()):
		return nil, sessions.ErrNotFound
	case !ch.IsTouch():
		return ch.Apply(rec), nil
	}
	return rec, nil
}

// expiry returns when rec, written now with ttl, expires: ttl from now, but
// no later than its deadline. ended reports that the deadline has passed.
func expiry(rec sessions.Record, ttl time.Duration, now int64) (expires int64, ended bool) {
	expires = addTTL(now, ttl)
	if end, ok := deadline(rec); ok && end < expires {
		return end, end <= now
	}
	return expires, false
}

// Remove deletes the record under id and keeps a tombstone for id for at
// least ttl; a tombstone that already lasts longer is kept as it is. It
// returns sessions.ErrNotFound, after leaving the tombstone, when no live
// record was stored under id. The lock of id, which every Store on the
// directory takes, makes the check and the removal one step: of two
// concurrent Removes, exactly one sees the record.
func (s *Store) Remove(ctx context.Context, id string, ttl time.Duration) error {
	name, unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	_, live, err := s.current(name)
	if err != nil && !errors.Is(err, sessions.ErrCorrupt) {
		return err
	}
	wasTomb, err := s.extendTomb(name, ttl)
	if err != nil {
		return err
	}
	// The tombstone is durable before the record goes, so the ID is refused
	// from then on, crash or not. The removal must be durable too: a record
	// brought back by a power loss would be served again once the tombstone
	// expires.
	if err := s.removeDurably(name + recordSuffix); err != nil {
		return err
	}
	if !live || wasTomb {
		return sessions.ErrNotFound
	}
	return nil
}

// lock checks ctx and id and takes the lock of id.
func (s *Store) lock(ctx context.Context, id string) (name string, unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if name, err = fileName(id); err != nil {
		return "", nil, err
	}
	unlock, err = s.lockName(ctx, name)
	return name, unlock, err
}

// lockName takes the lock of the id whose files are named name: the
// Store's own lock first, then the lock file's, which other Stores and
// processes see. The order keeps the wait cheap: the goroutines of one
// Store queue on a channel, where a context ends a wait at once, and only
// the one at the head waits in flock(2), which ties up a thread.
func (s *Store) lockName(ctx context.Context, name string) (unlock func(), err error) {
	unlockMem, err := s.locks.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	unlockFile, err := lockFile(ctx, s.path(name+lockSuffix))
	if err != nil {
		unlockMem()
		return nil, err
	}
	return func() {
		unlockFile()
		unlockMem()
	}, nil
}

// extendTomb makes the tombstone of name last at least ttl from now, and
// reports whether a live one was there before (a record beside it was left
// by a crash, and already counted as removed). A tombstone file that does
// not decode counts as live, and is replaced.
func (s *Store) extendTomb(name string, ttl time.Duration) (wasTomb bool, err error) {
	now := time.Now().UnixNano()
	expires := addTTL(now, ttl)
	old, ok, err := readFile(s.path(name+tombSuffix), magicTomb)
	if err != nil && !errors.Is(err, sessions.ErrCorrupt) {
		return false, err
	}
	wasTomb = err != nil || ok && old.live(now)
	if ok && old.expires >= expires || expires <= now {
		return wasTomb, nil
	}
	return wasTomb, writeFile(s.path(name+tombSuffix), encode(magicTomb, expires, nil))
}

// tombLive reports whether name carries a live tombstone. One that does
// not decode counts as live: it can only be a tombstone whose expiry is
// unknown, and refusing a write is the safe side.
func (s *Store) tombLive(name string) (bool, error) {
	f, ok, err := readFile(s.path(name+tombSuffix), magicTomb)
	if errors.Is(err, sessions.ErrCorrupt) {
		return true, nil
	}
	return ok && f.live(time.Now().UnixNano()), err
}

// current returns the record of name and whether it is present, not
// expired and inside its deadline, without looking at its tombstone.
func (s *Store) current(name string) (sessions.Record, bool, error) {
	f, live, err := s.currentFile(name)
	return f.rec, live, err
}

// currentFile is current with the record's expiry.
func (s *Store) currentFile(name string) (file, bool, error) {
	f, ok, err := readFile(s.path(name+recordSuffix), magicRecord)
	if err != nil || !ok || !f.live(time.Now().UnixNano()) {
		return file{}, false, err
	}
	return f, true, nil
}

// removeDurably deletes file, if it is there, and fsyncs the directory.
func (s *Store) removeDurably(file string) error {
	if err := s.unlink(file); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// unlink deletes file, if it is there. The sweeper uses it as it is: an
// expired file that a power loss brings back is still expired.
func (s *Store) unlink(file string) error {
	err := os.Remove(s.path(file))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

func (s *Store) path(file string) string { return filepath.Join(s.dir, file) }

// fileName maps an id to the stem of its file names: the handle as it is,
// with the colon of "s:" and "u:" turned into an underscore.
func fileName(id string) (string, error) {
	prefix, hex := "", id
	if len(id) == 66 && (id[:2] == "s:" || id[:2] == "u:") {
		prefix, hex = id[:1]+"_", id[2:]
	}
	if len(hex) != 64 {
		return "", ErrInvalidID
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", ErrInvalidID
		}
	}
	return prefix + hex, nil
}

// idOf is the inverse of fileName, for the sweeper.
func idOf(name string) string {
	if len(name) == 66 && name[1] == '_' {
		return name[:1] + ":" + name[2:]
	}
	return name
}

// addTTL returns now+ttl in nanoseconds, saturated so that a huge ttl never
// wraps around into the past.
func addTTL(now int64, ttl time.Duration) int64 {
	if ttl > 0 && int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}
