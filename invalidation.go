package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// How a logout sticks (G1) and a renewal stays safe (G2), on any Store and
// without a lock or an atomic step across two records:
//
//   - Destroy removes the record and leaves a tombstone for at least the
//     absolute lifetime; the store refuses every later Write under it in the
//     same atomic step as the write, so a request still holding the ID can
//     never write it back.
//   - Renew (and Login) first records where the session goes: a successor
//     record under "s:<old handle>" gets the new handle, merged with Create
//     so that two Renews racing on one ID both leave theirs. Then it removes
//     the old record; if that record was no longer live, a Destroy or
//     another Renew got there first, and this Renew is refused. Only then is
//     the new record written, with Replace, which a tombstone refuses too.
//   - A Destroy whose Remove finds no live record follows the successors it
//     finds and removes them too, all the way down a chain of renewals.
//     Whichever order the two race in, the new ID ends: either the Destroy
//     tombstones it before the Renew writes it (the write is refused), or
//     the Renew wrote it and the Destroy, following the successor, removes
//     it.
//
// A user's sessions are found the same way (see users.go): Login and the
// Renew of a bound session add the new handle to the user's index before
// the record is written, so a log-out-everywhere that reads the index
// reaches every session, or a tombstone refuses it.

// successorKey is the store key of the record that lists where the
// session with handle h went when it was renewed.
func successorKey(h string) string { return "s:" + h }

// Destroy ends the session: at commit its record is removed from the store,
// its ID can never be written again, and the response deletes the cookie
// (Max-Age=0). Destroy needs no read and costs one store call when the ID is
// live, two when it is not (it then looks for a renewal). If the session
// was renewed by a concurrent request, the sessions it was renewed to end
// too (two more calls each): a Renew and a Destroy that race end the
// session, whichever commits first. A renewal more than a minute old (or
// ten commit timeouts) is not followed: a browser that still sends the old
// ID then never had the new one, like the planter of an ID before a log in,
// and must not be able to end the session it became. Values set after
// Destroy start a new session with a fresh ID.
//
// A Destroy always happens, even when the same request's commit fails
// otherwise (say, a value that cannot be encoded). When Destroy is called
// after the response headers were sent, the record is still removed, but
// the cookie cannot be deleted; the browser keeps an ID that no longer
// names a session, which is harmless.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.id
	if end == "" {
		// Not read, unknown, expired, or unreadable (store down): the ID
		// the browser holds gets its tombstone all the same.
		end = s.cookieID
	}
	s.ch = changes{end: end}
	if end != "" && end == s.id {
		s.ch.endUser = s.meta.user
	}
	s.state, s.readErr = loadDone, nil
	s.startNew()
}

// Renew gives the session a new ID at commit, keeping its values and its
// user: call it whenever the user's privileges change, so that an ID an
// attacker planted before is worthless after it (session fixation). Login
// renews too. The old ID gets a tombstone, so a concurrent request that
// still carries it cannot bring it back. The absolute lifetime restarts.
//
// If a concurrent request destroyed or renewed the session first, Renew is
// refused like any write to a tombstoned ID: the values are not carried over
// to a new ID, and Commit reports ErrInvalidated. A Destroy that races with
// the Renew ends the new ID too, whichever commits first. The values moved
// are the ones this request read plus its own changes: a concurrent
// request's write to the old ID that lands between this request's read and
// its commit is not carried over. Renew has no effect on a session that
// could not be read, and fails with ErrHeadersWritten, dropping the
// request's changes, after the response headers were sent.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state == loadDone && s.ch.rotate == rotateNone {
		s.ch.rotate = rotateRenew
	}
}

// Login binds the session to userID at commit and gives it a fresh ID, as
// Renew does: call it once the user has proved who they are. The session
// then appears in Manager.UserSessions, and Manager.DestroyUser ends it.
//
// Logging in as the user the session is already bound to only renews it.
// Logging in while bound to another user ends that user's session (as
// Destroy) and starts a new one for userID: nothing read from the other
// user's session carries over, only the values this request set, so the
// other user's DestroyUser can never reach the new session. Login panics if
// userID is empty; to log out, call Destroy.
func (s *Session) Login(userID string) {
	if userID == "" {
		panic("sessions: Login with an empty user ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state == loadDone {
		s.ch.rotate, s.ch.user = rotateLogin, userID
	}
}

// commitRotate moves the session to a fresh ID, following the steps above.
func (s *Session) commitRotate(ch changes) (issue, error) {
	m := s.m
	md, values := s.meta, s.values(ch)
	if ch.rotate == rotateLogin && md.user != ch.user {
		if md.user != "" && s.id != "" {
			var err error
			if md, values, err = s.endForLogin(ch); err != nil {
				return issue{}, err
			}
		}
		md.user, md.login = ch.user, m.cfg.now()
	}
	if s.id == "" {
		return s.commitNew(values, md)
	}
	return s.rotate(values, md, ch.rotate == rotateLogin)
}

// endForLogin ends the session of another user that this request logs in
// from, and returns the metadata and values the new session starts with:
// only what this request chose (its values, RememberMe, SetLifetime,
// SetIdleTimeout). If that session had ended meanwhile, the Login is refused,
// as a Renew would be.
func (s *Session) endForLogin(ch changes) (meta, map[string][]byte, error) {
	m, old := s.m, s.meta
	live, err := m.endChain(s.ctx, handle(s.id), nil, time.Time{})
	if err != nil {
		return meta{}, nil, err
	}
	m.emit(s.ctx, Event{Kind: EventDestroyed, Session: handle(s.id), UserID: old.user})
	if !live {
		m.refused(s.ctx, s.id, ErrInvalidated)
		s.startNew()
		return meta{}, nil, errRefused
	}
	s.startNew()
	md := s.meta
	if _, ok := ch.values[keyPersist]; ok {
		md.persist = old.persist
	}
	if _, ok := ch.values[keyLifetime]; ok {
		md.lifetime = old.lifetime
	}
	if _, ok := ch.values[keyIdle]; ok {
		md.idle = old.idle
	}
	return md, s.values(changes{values: ch.values, cleared: true}), nil
}

// rotate moves the live session to a fresh ID with values and metadata md.
// login reports a Login, which prunes the user's index and enforces the
// session limit.
func (s *Session) rotate(values map[string][]byte, md meta, login bool) (issue, error) {
	m := s.m
	id, err := newID()
	if err != nil {
		return issue{}, fmt.Errorf("sessions: new ID: %w", err)
	}
	now, old, next := m.cfg.now(), handle(s.id), handle(id)
	if md.user != "" {
		if err := m.indexAdd(s.ctx, md.user, next, now, login); err != nil {
			return issue{}, err
		}
	}
	if err := m.write(s.ctx, successorKey(old), Change{Create: true, Set: Record{next: formatMillis(now)}}, m.tombstoneTTL()); err != nil {
		return issue{}, fmt.Errorf("sessions: renew: %w", err)
	}
	if live, err := m.remove(s.ctx, old); err != nil || !live {
		if err == nil {
			m.refused(s.ctx, s.id, ErrInvalidated)
			s.startNew()
			err = errRefused
		}
		return issue{}, err
	}
	ev := Event{Kind: EventRenewed, Previous: old}
	if login {
		ev.Kind = EventLogin
	}
	indexed := s.meta.user != "" && s.meta.user == md.user
	cookie, err := s.store(id, m.newRecord(values, md, now), md, now, ev)
	if err == nil {
		s.afterRotate(md.user, old, next, indexed, login)
	}
	return cookie, err
}

// afterRotate tidies the user's index once the session moved from old to
// next: only now may old leave the index (until the new record is written,
// a DestroyUser reaches it through old), and a Login enforces the session
// limit. A failure is logged: the session itself moved.
func (s *Session) afterRotate(user, old, next string, indexed, login bool) {
	m := s.m
	if indexed {
		if err := m.indexDelete(s.ctx, user, []string{old}); err != nil {
			m.logError(s.ctx, "removing a renewed session from its user's index failed", s.id, err)
		}
	}
	if login {
		m.enforceLimit(s.ctx, user, next)
	}
}

// endChain removes the session with handle h and, when h was no longer
// live, every session it was renewed to since since (the zero time: ever),
// down the chain; handles in seen are skipped (and seen may be nil). It
// reports whether a live session was removed.
func (m *Manager) endChain(ctx context.Context, h string, seen map[string]bool, since time.Time) (bool, error) {
	if seen == nil {
		seen = make(map[string]bool, 1)
	}
	ended := false
	stack := []string{h}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		live, err := m.remove(ctx, x)
		if err != nil {
			return ended, err
		}
		if live {
			ended = true
			continue
		}
		next, err := m.readKey(ctx, successorKey(x))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return ended, fmt.Errorf("sessions: read successors: %w", err)
		}
		for n, at := range next {
			if t, ok := parseMillis(at); validHandle(n) && (!ok || !t.Before(since)) {
				stack = append(stack, n)
			}
		}
	}
	return ended, nil
}

// followSince returns the earliest renewal a Destroy from a request
// follows: one renewGrace ago. A Destroy races a Renew only while the
// browser has not received the new ID, seconds at most; one that comes later
// with the old ID comes from a browser that never had the new one, such as
// the planter of an ID before a log in, and must not end the session.
func (m *Manager) followSince() time.Time {
	return m.cfg.now().Add(-max(time.Minute, 10*m.cfg.commitTimeout))
}

// tombstoneTTL is how long the tombstone of an ended ID, and the successor
// record of a renewed one, last: the absolute lifetime, the longest any
// cookie for it, or any session renewed from it, could live.
func (m *Manager) tombstoneTTL() time.Duration { return m.cfg.lifetime }

// remove tombstones the record under key and reports whether it was live.
func (m *Manager) remove(ctx context.Context, key string) (bool, error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	start := m.startCall()
	err := m.store.Remove(sctx, key, m.tombstoneTTL())
	m.endCall(ctx, "remove", key, start, err)
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
	m.log(ctx, slog.LevelInfo, msg, id)
	m.emit(ctx, Event{Kind: EventRefused, Session: handle(id)})
}
