package sessions

import (
	"context"
	"errors"
	"time"
)

// EventKind tells what happened to a session.
type EventKind uint8

// The kinds of Event.
const (
	// EventCreated: a new session was stored, with a fresh ID.
	EventCreated EventKind = iota + 1
	// EventLogin: Login committed; the session has a fresh ID, bound to
	// Event.UserID.
	EventLogin
	// EventRenewed: Renew committed; the session moved from Event.Previous
	// to a fresh ID.
	EventRenewed
	// EventDestroyed: a session was ended by Destroy, DestroyOthers,
	// DestroySession, DestroyUser or the session limit.
	EventDestroyed
	// EventRefused: a write was refused because the session had ended
	// (destroyed, renewed or expired by another request).
	EventRefused
	// EventExpired: a session read from the store had passed its lifetime
	// or idle timeout by the Manager's clock, and was ended.
	EventExpired
	// EventStoreCall: one call of the Store returned; Event.Op names it and
	// Event.Duration is how long it took. Event.Err is set when it failed.
	EventStoreCall
)

// String returns the kind's name, in lower case ("created", "login", ...).
func (k EventKind) String() string {
	names := [...]string{"unknown", "created", "login", "renewed", "destroyed", "refused", "expired", "store_call"}
	if int(k) < len(names) {
		return names[k]
	}
	return names[0]
}

// Event is something that happened to a session, handed to the function
// given to WithEvents. It never carries a session ID, only handles.
type Event struct {
	Kind EventKind
	// Handle is the session's handle (never its ID): the new one after a
	// Login or Renew. It is "" for a store call on one of the Manager's own
	// records (a user's index, a successor record).
	Handle string
	// Previous is the handle a Login or Renew moved the session from.
	Previous string
	// UserID is the user the session is bound to, when known.
	UserID string
	// Op names the store call of an EventStoreCall: "read", "write" or
	// "remove".
	Op string
	// Duration is how long the store call took.
	Duration time.Duration
	// Err is the store call's error, when it failed. Not found and
	// invalidated are outcomes of the contract, not failures: Err is nil.
	Err error
}

// WithEvents hands f every session event: each session created, logged in,
// renewed, destroyed or expired, each refused write, and each store call
// with its duration and error. f runs inside the commit, on the request's
// goroutine (or, for the store calls of DestroyUser, DestroyOthers,
// DestroySession and the session limit, which end sessions several at a
// time, on goroutines of the Manager's, whose panics reach the caller), so
// it must be quick and must not block; it must be safe for concurrent use.
// Without it (the default: nil) events cost nothing: no clock reading and
// no allocation.
func WithEvents(f func(ctx context.Context, e Event)) Option {
	return func(c *config) { c.events = f }
}

// emit hands e to the event function, if there is one.
func (m *Manager) emit(ctx context.Context, e Event) {
	if m.cfg.events != nil {
		m.cfg.events(ctx, e)
	}
}

// startCall returns the time a store call starts, when events are on.
func (m *Manager) startCall() time.Time {
	if m.cfg.events == nil {
		return time.Time{}
	}
	return time.Now()
}

// endCall emits the EventStoreCall of a call on key that started at start.
func (m *Manager) endCall(ctx context.Context, op, key string, start time.Time, err error) {
	if m.cfg.events == nil {
		return
	}
	e := Event{Kind: EventStoreCall, Op: op, Duration: time.Since(start)}
	if validHandle(key) {
		e.Handle = key
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalidated) {
		e.Err = err
	}
	m.cfg.events(ctx, e)
}
