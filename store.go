package sessions

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ErrNotFound is returned by a Store when no live record is stored under an
// ID: it never existed, it expired, or it was removed. Write returns it for a
// Change in ModeMerge to a missing record, so that a session
// that expired while a request was running is never recreated half-empty;
// Remove returns it when there was no live record to remove.
var ErrNotFound = errors.New("sessions: record not found")

// ErrCorrupt is wrapped by the error a Store returns from Read when what it
// holds under an id is not a record it can read (a Redis key of another
// type, a row that does not decode). The Manager treats the session as
// missing, logs a warning, and starts a new one with a fresh ID.
var ErrCorrupt = errors.New("sessions: stored record is corrupt")

// ErrInvalidated is returned by Store.Write when the ID carries a tombstone:
// the session was destroyed or renewed, and nothing may be written under its
// ID again. The Manager treats it as a refused write, not as a failure: the
// request's changes are dropped, no cookie is sent for the ID, and a log
// record is written.
var ErrInvalidated = errors.New("sessions: session was invalidated")

// Record is a session's stored form: each value encoded on its own, by key.
//
// Keys that start with "__" are reserved for the Manager's metadata (creation
// time, last activity, cookie persistence, the user). A Store stores them
// like any other key.
type Record map[string][]byte

// Mode is how a Write applies its Change to the record under its key.
type Mode uint8

// The modes of a Change.
const (
	// ModeMerge writes the keys of Set and removes those of Delete in the
	// live record, and keeps every other key: two Writes that change
	// different keys both persist. With no live record the Write fails with
	// ErrNotFound, so that a session that expired while a request ran is
	// never recreated half-empty. A session's own changes use it.
	ModeMerge Mode = iota
	// ModeReplace makes Set the whole record, created if missing: a new
	// session, or one renewed to a fresh ID. Delete is empty.
	ModeReplace
	// ModeUpsert merges as ModeMerge does, and creates the record from Set
	// when none is live. The Manager uses it for the records that several
	// requests may create at once (a user's index of sessions, a renewed
	// session's successors), where a Replace would let the last of them drop
	// the others' keys. Unless it is a touch, it never shortens the expiry
	// of a live record: the expiry becomes the later of the one it has and
	// ttl from now, so that a writer with a shorter ttl cannot end what
	// another listed. An empty Change is a touch, which creates nothing and
	// sets the expiry as any touch does.
	ModeUpsert
)

// String returns the mode's name: "merge", "replace" or "upsert".
func (m Mode) String() string {
	switch m {
	case ModeMerge:
		return "merge"
	case ModeReplace:
		return "replace"
	case ModeUpsert:
		return "upsert"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// DeadlineKey is the key under which the Manager keeps the end of a
// session's absolute lifetime in its record: Unix milliseconds, in decimal.
// A Store may use it to cap a record's expiry (see Store).
const DeadlineKey = "__deadline"

// Change is what one request did to a record. Any tombstone refuses it,
// whatever its Mode.
type Change struct {
	// Mode is how Set and Delete apply; the zero value is ModeMerge.
	Mode Mode
	// Set holds the keys written, with their encoded values.
	Set map[string][]byte
	// Delete lists the keys removed. It is empty with ModeReplace, and never
	// names a key of Set.
	Delete []string
}

// IsTouch reports whether ch only extends the expiry of a record: it sets
// and deletes nothing, and is no Replace.
func (ch Change) IsTouch() bool {
	return ch.Mode != ModeReplace && len(ch.Set) == 0 && len(ch.Delete) == 0
}

// Apply returns the record that results from applying ch to r. It serves
// stores that keep a session as one blob: read the blob, decode it, Apply the
// change, encode and store the result, all under the store's own lock or
// transaction so that concurrent Writes to different keys do not overwrite
// each other. Apply never modifies r: the result is a new map (it shares the
// value slices of r and ch).
func (ch Change) Apply(r Record) Record {
	n := len(ch.Set)
	if ch.Mode != ModeReplace {
		n += len(r)
	}
	out := make(Record, n)
	if ch.Mode != ModeReplace {
		for k, v := range r {
			out[k] = v
		}
		for _, k := range ch.Delete {
			delete(out, k)
		}
	}
	for k, v := range ch.Set {
		out[k] = v
	}
	return out
}

// Store keeps session records server-side. The Manager calls it from many
// goroutines at once; an implementation must be safe for concurrent use.
//
// The key a Store is given is never a session ID as the browser holds it: it
// is the session's handle (the lowercase hex SHA-256 of the ID, see
// Session.Handle), or the key of one of the Manager's own records, which
// starts with a letter and a colon ("s:" for successors, "u:" for a user's
// index) and so never equals a handle. It is at most 70 bytes of ASCII
// letters, digits and colons. A store keeps only hashes at rest, so a leaked
// table or key listing hands out no live cookie.
//
// The Manager never modifies a Record returned by Read, nor the maps and
// slices of a Change once it has passed it to Write, so a Store may keep them
// without copying. In turn, a Record returned by Read must not change after
// Read returns: a later Write builds a new map rather than modifying it.
//
// The Manager always passes a positive ttl; a store treats a ttl of zero or
// less as "expires at once". Expiry needs millisecond precision at least.
//
// The Manager keeps the end of a session's absolute lifetime in its record,
// under DeadlineKey. A request that only writes does not read the session
// first, so its Write carries the idle timeout as ttl; the built-in stores
// cap the expiry at the deadline, and treat a delta to a record past it as a
// write to a missing record. A store that does not may keep such a record a
// little longer, but never serves it: the Manager checks the lifetime on
// every read.
//
// The package sessionstest checks an implementation against this contract
// with one call: sessionstest.Run(t, newStore).
//
// Every method honours its context: a cancelled or expired context gives an
// error (the context's error, possibly wrapped), never a silent success.
type Store interface {
	// Read returns the live record under key, or ErrNotFound when it is
	// missing, expired or removed (a tombstoned key reads as ErrNotFound).
	Read(ctx context.Context, key string) (Record, error)

	// Write applies ch to the record under key and sets its expiry to ttl
	// from now (in ModeUpsert, to the later of that and the expiry it has),
	// atomically: the tombstone check, the change and the new
	// expiry are one step that no other Write or Remove on key can
	// interleave with.
	//
	// The cases, in the order a Store checks them:
	//   - key carries a tombstone: ErrInvalidated, and nothing changes,
	//     whatever ch.Mode.
	//   - ModeReplace: the record becomes exactly ch.Set, created if missing.
	//   - no live record under key, and ModeMerge (or ch a touch):
	//     ErrNotFound, and nothing is created.
	//   - no live record under key, and ModeUpsert: the record becomes
	//     ch.Set, as if it had been empty.
	//   - otherwise the keys in ch.Set are written, those in ch.Delete
	//     removed, and all other keys are kept as they are: two Writes that
	//     change different keys of one record both persist, whatever their
	//     order. Of two Writes to the same key, the later one wins.
	//   - an empty Change (see Change.IsTouch) only extends the expiry of an
	//     existing record; it never creates one.
	//
	// A record left with no keys may be dropped, so that Read gives
	// ErrNotFound; the Manager never leaves a session's record empty,
	// because its metadata keys are always present.
	Write(ctx context.Context, key string, ch Change, ttl time.Duration) error

	// Remove deletes the record under key and keeps a tombstone for key for
	// at least ttl, during which Write under key returns ErrInvalidated (a
	// tombstone that already lasts longer is kept). It returns ErrNotFound
	// when no live record was stored under key, after leaving the tombstone
	// all the same; the check and the removal are one atomic step, so of
	// two concurrent Removes of one live record exactly one returns nil.
	// The Manager relies on that to refuse a Renew that races with a
	// Destroy.
	Remove(ctx context.Context, key string, ttl time.Duration) error
}
