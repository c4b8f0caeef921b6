package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The rules that make a logout stick (G1) and a renewal safe (G2):
//
//   - Destroy removes the session from the store and leaves a tombstone for
//     its ID that lasts at least the absolute lifetime, so no request that
//     still carries the ID can write under it again: the store refuses
//     every Write to a tombstoned ID in the same atomic step as the write.
//   - A refused write is not a failure: the request's changes are dropped,
//     its response carries no Set-Cookie, and a log record tells why.
//   - Renew removes the old ID first and writes the data under the new ID
//     only if the old record was still live, so a renewal that races with a
//     logout cannot carry the logged-out data over to a new ID.

// Destroy ends the session: at commit its record is removed from the store,
// its ID can never be written again, and the response deletes the cookie
// (Max-Age=0). Destroy costs one store call and needs no read. Values set
// after Destroy start a new session with a fresh ID.
//
// When Destroy is called after the response headers were sent, the record is
// still removed, but the cookie cannot be deleted; the browser keeps an ID
// that no longer names a session, which is harmless.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.id != "":
		s.destroyID = s.id
	case s.cookieID != "":
		// Not read, unknown, expired, or unreadable (store down): the ID
		// the browser holds gets its tombstone all the same.
		s.destroyID = s.cookieID
	}
	s.loaded, s.loadErr, s.encodeErr = true, nil, nil
	s.startNew()
	s.pending, s.cleared, s.renew, s.persistChanged = nil, false, false, false
}

// Renew gives the session a new ID at commit, keeping its values: call it
// whenever the user's privileges change, above all at log in, so that an
// ID an attacker planted before the log in is worthless after it (session
// fixation). The old ID gets a tombstone, so a concurrent request that still
// carries it cannot bring it back. The absolute lifetime restarts.
//
// If a concurrent request destroyed or renewed the session first, Renew is
// refused like any write to a tombstoned ID: the values are not carried over
// to a new ID. The values moved are the ones this request read plus its own
// changes: a concurrent request's write to the old ID that lands between this
// request's read and its commit is not carried over. The old ID is removed
// before the new one is written, so a store failure in between ends the
// session (and goes to the error handler) rather than leaving the old ID
// live. Renew has no effect on a session that could not be read, and fails
// with ErrHeadersWritten, dropping the request's changes, after the response
// headers were sent.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.loadErr == nil {
		s.renew = true
	}
}

// tombstoneTTL is how long the tombstone of a destroyed or renewed ID lasts:
// the absolute lifetime, the longest any cookie for it could be honoured.
func (m *Manager) tombstoneTTL() time.Duration { return m.cfg.lifetime }

// remove tombstones id. It reports whether a live record was removed.
func (m *Manager) remove(ctx context.Context, id string) (bool, error) {
	ctx, cancel := m.storeContext(ctx)
	defer cancel()
	err := m.store.Remove(ctx, handle(id), m.tombstoneTTL())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("sessions: remove: %w", err)
}

// refused logs a write that a tombstone or a concurrent expiry refused.
func (m *Manager) refused(ctx context.Context, id string, err error) {
	msg := "session write refused: the session was destroyed or renewed by another request"
	if errors.Is(err, ErrNotFound) {
		msg = "session write refused: the session ended before the request committed"
	}
	m.logger().LogAttrs(ctx, slog.LevelInfo, msg, slog.String("session", idHash(id)))
}
