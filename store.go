package sessions

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store when no live record is stored under an
// ID: it never existed, it expired, or it was removed. Write returns it for a
// delta (a Change with Replace unset) to a missing record, so that a session
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

// Change is what one request did to a session.
//
// A Change with Replace unset and no Set or Delete entries is a touch: it only
// extends the record's expiry.
type Change struct {
	// Replace reports that the session is new: Set is the whole record, and
	// whatever was stored before under the ID is discarded.
	Replace bool
	// Create makes a merge that creates the record when none is live,
	// instead of failing with ErrNotFound. The Manager sets it for its own
	// records (a user's index of sessions, a renewed session's successors),
	// which several requests may create at once: a Replace would let the
	// last of them drop the others' keys. A tombstone refuses it like any
	// Write. It is ignored when Replace is set, and a Create with nothing
	// to set or delete is a touch, which never creates a record.
	Create bool
	// Set holds the keys written, with their encoded values.
	Set map[string][]byte
	// Delete lists the keys removed. It is empty when Replace is set, and
	// never names a key of Set.
	Delete []string
}

// IsTouch reports whether ch only extends the expiry of a record: it sets
// and deletes nothing, and is no Replace.
func (ch Change) IsTouch() bool {
	return !ch.Replace && len(ch.Set) == 0 && len(ch.Delete) == 0
}

// Apply returns the record that results from applying ch to r. It serves
// stores that keep a session as one blob: read the blob, decode it, Apply the
// change, encode and store the result, all under the store's own lock or
// transaction so that concurrent Writes to different keys do not overwrite
// each other. Apply never modifies r: the result is a new map (it shares the
// value slices of r and ch).
func (ch Change) Apply(r Record) Record {
	n := len(ch.Set)
	if !ch.Replace {
		n += len(r)
	}
	out := make(Record, n)
	if !ch.Replace {
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
// The id a Store is given is never a session ID as the browser holds it: it
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
// under the key "__deadline" (Unix milliseconds, in decimal). A request that
// only writes does not read the session first, so its Write carries the idle
// timeout as ttl; the built-in stores cap the expiry at the deadline, and
// treat a delta to a record past it as a write to a missing record. A store
// that does not may keep such a record a little longer, but never serves it:
// the Manager checks the lifetime on every read.
//
// The package sessionstest checks an implementation against this contract
// with one call: sessionstest.Run(t, newStore).
//
// Every method honours its context: a cancelled or expired context gives an
// error (the context's error, possibly wrapped), never a silent success.
type Store interface {
	// Read returns the live record under id, or ErrNotFound when it is
	// missing, expired or removed (a tombstoned ID reads as ErrNotFound).
	Read(ctx context.Context, id string) (Record, error)

	// Write applies ch to the record under id and sets its expiry to ttl
	// from now, atomically: the tombstone check, the change and the new
	// expiry are one step that no other Write or Remove on id can interleave
	// with.
	//
	// The cases, in the order a Store checks them:
	//   - id carries a tombstone: ErrInvalidated, and nothing changes, whether
	//     ch.Replace is set or not.
	//   - ch.Replace: the record becomes exactly ch.Set, created if missing.
	//   - no live record under id and ch.Create unset (or ch a touch):
	//     ErrNotFound, and nothing is created.
	//   - no live record under id and ch.Create set: the record becomes
	//     ch.Set, as if it had been empty.
	//   - otherwise the keys in ch.Set are written, those in ch.Delete
	//     removed, and all other keys are kept as they are: two Writes that
	//     change different keys of one record both persist, whatever their
	//     order. Of two Writes to the same key, the later one wins.
	//   - an empty Change (see Change.IsTouch) only extends the expiry of an
	//     existing record; it never creates one.
	//
	// A record left with no keys may be dropped, so that Read gives
	// ErrNotFound; the Manager never leaves a record empty, because its
	// metadata keys are always present.
	Write(ctx context.Context, id string, ch Change, ttl time.Duration) error

	// Remove deletes the record under id and keeps a tombstone for id for
	// at least ttl, during which Write under id returns ErrInvalidated (a
	// tombstone that already lasts longer is kept). It returns ErrNotFound
	// when no live record was stored under id, after leaving the tombstone
	// all the same; the check and the removal are one atomic step, so of
	// two concurrent Removes of one live record exactly one returns nil.
	// The Manager relies on that to refuse a Renew that races with a
	// Destroy.
	Remove(ctx context.Context, id string, ttl time.Duration) error

	// Exists reports whether a live record is stored under id. A tombstoned,
	// expired or missing record gives false and a nil error.
	Exists(ctx context.Context, id string) (bool, error)
}
