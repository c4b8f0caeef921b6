package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// How a logout sticks (G1) and a renewal stays safe (G2), on any Store,
// without a lock, an atomic step across two records, or a clock:
//
//   - Destroy removes the record and leaves a tombstone for at least the
//     absolute lifetime; the store refuses every later Write under it in the
//     same atomic step as the write, so a request still holding the ID can
//     never write it back.
//   - Renew (and Login, and the Renew of a bound session) moves a session
//     from handle h to handle n in four steps: it records n in the successor
//     record "s:<h>" (a ModeUpsert merge, so that two Renews racing on one ID
//     both leave theirs), adds n to the user's index, writes n's record
//     marked fresh (not yet presented), and only then removes h. If h was no
//     longer live, a Destroy or another Renew got there first: this Renew is
//     refused and removes the n it wrote, which no one holds. So at every
//     moment the session is live under h or under n (or both, between the
//     last two steps; a Renew that dies there leaves n, which no one holds,
//     until it expires), and a successor record names every n that ever
//     was live. A request that renews twice (Renew, Commit, Renew) records
//     the second renewal under the ID its browser still holds as well.
//   - A request that carries n for the first time presents it: its commit
//     deletes the fresh mark (folded into its own write, or one write more
//     for a request that only reads).
//
// Which renewals a Destroy ends is decided by what its request saw, never by
// a clock:
//
//   - A request that loaded its session live and destroys it ends that
//     session and, if a concurrent request renewed it meanwhile, every
//     renewal of it, however long the request ran: the two raced.
//   - A request whose load found its ID already ended (the browser holds
//     an old ID: the Renew's response was lost or is still in flight) ends
//     the renewals of that ID that no request has presented yet, and stops
//     at a presented one: an ID planted before a Login cannot log out the
//     victim who has since used the new one.
//   - An ID that never was a session has no successor record: its Destroy
//     writes nothing.
//
// A user's sessions are found the same way (see users.go): DestroyUser and
// its kin end each session they find in the index and follow its renewals,
// as a request that loaded it live would.

// successorKey is the store key of the record that lists where the
// session with handle h went when it was renewed.
func successorKey(h string) string { return "s:" + h }

// ending is what a Destroy ends at commit.
type ending struct {
	id      string // the ID the request carried
	live    bool   // the request loaded it live
	unknown bool   // the load failed: whether it was live is unknown
	user    string // the user it was bound to, when known
}

// Destroy ends the session: at commit its record is removed from the store,
// its ID can never be written again, and the response deletes the cookie
// (Max-Age=0). Destroy reads the session if the request has not, so that
// it knows what to end: a live session costs that read and one Remove (and
// a read and a write of the user's index, when it is bound to a user); an
// ID the store no longer knows costs that read and one of its renewals, and
// an ID that never was a session writes nothing. When the read fails (the
// store is down), Destroy removes the ID and, if it was no longer live,
// ends only the renewals no request has used, as for an old ID.
//
// If a concurrent request renewed the session after this request loaded
// it, the renewals end too, however long this request ran: a Renew and a
// Destroy that race end the session, whichever commits first. If the
// session had already been renewed when this request loaded it (the
// browser sent the old ID because the renewal's response had not reached
// it), the renewals that no request has presented yet end, and one that the
// browser has already used is left alone. Values set after Destroy start a
// new session with a fresh ID.
//
// A Destroy always happens, even when the same request's commit fails
// otherwise (say, a value that cannot be encoded). When Destroy is called
// after the response headers were sent, the record is still removed, but
// the cookie cannot be deleted; the browser keeps an ID that no longer
// names a session, which is harmless.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	end := ending{id: s.id, live: true, user: s.meta.user}
	if end.id == "" {
		// Unknown or expired (live: false), or unreadable with the store
		// down (live: true, the safe side).
		end = ending{id: s.cookieID, unknown: s.state != loadDone}
	}
	s.ch = changes{end: end}
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
// other user's DestroyUser can never reach the new session.
//
// An empty userID names no one: Login("") does nothing but log a warning,
// so that an empty login form can never bind a session. To log out, call
// Destroy.
func (s *Session) Login(userID string) {
	if userID == "" {
		s.m.cfg.logger.LogAttrs(s.ctx, slog.LevelWarn, "Login with an empty user ID: ignored")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state == loadDone {
		s.ch.rotate, s.ch.user = rotateLogin, userID
	}
}

// commitEnd carries out a Destroy and returns the cookie that deletes the
// browser's copy.
func (s *Session) commitEnd(end ending) (issue, error) {
	if end.id == "" {
		return issue{}, nil
	}
	if _, err := s.end(end); err != nil {
		return issue{}, err
	}
	return s.m.endIssue(), nil
}

// end ends what a Destroy of end.id ends (see the rules at the top of this
// file) and returns the handles it found live and removed.
func (s *Session) end(end ending) ([]string, error) {
	m, h := s.m, handle(end.id)
	var ended []string
	var err error
	if end.unknown {
		var live bool
		if live, err = m.remove(s.ctx, h); err == nil && live {
			ended = []string{h}
		} else if err == nil {
			ended, err = m.endUnpresented(s.ctx, h)
		}
	} else if end.live {
		ended, err = m.endChain(s.ctx, h)
	} else {
		ended, err = m.endUnpresented(s.ctx, h)
	}
	if err != nil {
		return ended, err
	}
	if len(ended) > 0 {
		m.emit(s.ctx, Event{Kind: EventDestroyed, Handle: h, UserID: end.user})
	}
	if end.user != "" {
		if err := m.indexDelete(s.ctx, end.user, append(ended, h)); err != nil {
			m.logError(s.ctx, "removing an ended session from its user's index failed", end.id, err)
		}
	}
	return ended, nil
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
	old := s.meta
	ended, err := s.end(ending{id: s.id, live: true, user: old.user})
	if err != nil {
		return meta{}, nil, err
	}
	if len(ended) == 0 {
		m := s.m
		m.refused(s.ctx, s.id, ErrInvalidated)
		s.startNew()
		return meta{}, nil, errRefused
	}
	s.startNew()
	return chosen(old, s.meta, ch), s.values(changes{values: ch.values, cleared: true}), nil
}

// rotate moves the live session to a fresh ID with values and metadata md.
// login reports a Login, which enforces the session limit.
func (s *Session) rotate(values map[string][]byte, md meta, login bool) (issue, error) {
	m := s.m
	id, err := newID()
	if err != nil {
		return issue{}, fmt.Errorf("sessions: new ID: %w", err)
	}
	now, old, next := m.cfg.now(), handle(s.id), handle(id)
	origin := old // the ID the browser holds: this request's renewals have not reached it
	if f := s.rec[keyFresh]; f != nil && s.id != s.cookieID {
		origin = string(f)
	}
	froms := []string{old}
	if origin != old {
		froms = append(froms, origin)
	}
	for _, from := range froms {
		if err := m.write(s.ctx, successorKey(from), Change{Mode: ModeUpsert, Set: Record{next: formatMillis(now)}}, m.tombstoneTTL()); err != nil {
			return issue{}, fmt.Errorf("sessions: renew: %w", err)
		}
	}
	md.created, md.touched = now, now
	var ix userIndex
	if md.user != "" {
		if ix, err = m.indexAdd(s.ctx, md.user, next, md.deadline()); err != nil {
			return issue{}, err
		}
	}
	rec := m.newRecord(values, md, now)
	rec[keyFresh] = []byte(origin)
	if err := m.create(s.ctx, next, rec, md.ttl(now)); err != nil {
		return issue{}, s.createFailed(id, err)
	}
	if err := s.retire(old, next, md.user); err != nil {
		return issue{}, err
	}
	ev := Event{Kind: EventRenewed, Previous: old}
	if login {
		ev.Kind = EventLogin
	}
	indexed := s.meta.user == md.user
	s.adoptNew(id, rec, md, ev)
	s.afterRotate(ix, indexed, old, next, login)
	return s.issue(now), nil
}

// retire removes the old record of a session just written under next. If
// it was no longer live, a Destroy or another Renew came first: the Renew
// is refused and next, which no one holds, is removed again.
func (s *Session) retire(old, next, user string) error {
	m := s.m
	live, err := m.remove(s.ctx, old)
	if err == nil && live {
		return nil
	}
	if _, rerr := m.remove(s.ctx, next); rerr != nil && err == nil {
		m.logError(s.ctx, "removing the record of a refused renewal failed", "", rerr)
	}
	m.unindex(s.ctx, user, next)
	if err != nil {
		return err
	}
	m.refused(s.ctx, s.id, ErrInvalidated)
	s.startNew()
	return errRefused
}

// afterRotate tidies the user's index, read as ix when the new entry was
// added, once the session moved from old to next: only now may old leave
// the index, if it was there (until old was removed, a DestroyUser had to
// reach it), and a Login enforces the session limit. A failure is logged:
// the session itself moved.
func (s *Session) afterRotate(ix userIndex, indexed bool, old, next string, login bool) {
	m, user := s.m, s.meta.user
	if user == "" {
		return
	}
	if indexed {
		if err := m.indexDrop(s.ctx, user, ix, []string{old}); err != nil {
			m.logError(s.ctx, "removing a renewed session from its user's index failed", s.id, err)
		}
	}
	if login {
		m.enforceLimit(s.ctx, user, next)
	}
}

// endChain removes the session with handle h and, when h was no longer
// live, every session it was renewed to, down the chain: the Destroy of a
// request that loaded h live, and of DestroyUser and its kin. It returns the
// handles it found live and removed, and the errors of the calls that
// failed; a failed call stops nothing.
func (m *Manager) endChain(ctx context.Context, h string) ([]string, error) {
	var ended []string
	var errs []error
	seen := map[string]bool{}
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
			// Whether x was live is unknown: follow its renewals all the
			// same, so that one failed call leaves as little live as it can.
			errs = append(errs, err)
		}
		if live {
			ended = append(ended, x)
			continue
		}
		next, err := m.successors(ctx, x)
		if err != nil {
			errs = append(errs, err)
		}
		stack = append(stack, next...)
	}
	return ended, errors.Join(errs...)
}

// endUnpresented ends the renewals of h, an ID a request found already
// ended, that no request has presented yet: a browser that sends h never
// received them. A presented renewal, and all that follows it, is left
// alone. It writes nothing when h was never renewed.
func (m *Manager) endUnpresented(ctx context.Context, h string) ([]string, error) {
	next, err := m.successors(ctx, h)
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, n := range next {
		rec, err := m.readKey(ctx, n)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			continue // renewed (so presented) or ended since
		}
		if err != nil {
			return ended, fmt.Errorf("sessions: read renewal: %w", err)
		}
		if string(rec[keyFresh]) != h {
			continue
		}
		live, err := m.remove(ctx, n)
		if err != nil {
			return ended, err
		}
		if live {
			ended = append(ended, n)
			m.unindex(ctx, string(rec[keyUser]), n)
		}
	}
	return ended, nil
}

// unindex removes the ended session h from userID's index, if it is bound
// to one. A failure is logged: the session itself ended.
func (m *Manager) unindex(ctx context.Context, userID, h string) {
	if userID == "" {
		return
	}
	if err := m.indexDelete(ctx, userID, []string{h}); err != nil {
		m.logError(ctx, "removing an ended session from its user's index failed", "", err)
	}
}

// successors returns the handles the session h was renewed to.
func (m *Manager) successors(ctx context.Context, h string) ([]string, error) {
	rec, err := m.readKey(ctx, successorKey(h))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: read successors: %w", err)
	}
	next := make([]string, 0, len(rec))
	for n := range rec {
		if validHandle(n) {
			next = append(next, n)
		}
	}
	return next, nil
}

// tombstoneTTL is how long the tombstone of an ended ID, and the successor
// record of a renewed one, last: the absolute lifetime, the longest any
// session lives, and so the longest any request carrying the ID (or a
// Renew's in-flight write of a successor) can still reach the store.
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
	m.emit(ctx, Event{Kind: EventRefused, Handle: handle(id)})
}
