package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// changes is what a request did to its session since the last commit. Every
// mutator of Session records into it, and commit turns it into store calls.
type changes struct {
	values  map[string][]byte // keys set, with their encoded values; nil deletes
	cleared bool              // Clear: delete every value the request read
	rotate  rotation          // a new ID at commit
	user    string            // the user to bind, with rotateLogin
	end     ending            // what Destroy ends at commit
	others  bool              // DestroyOthers
	cookie  bool              // the cookie must be sent again (RememberMe)
	err     error             // the first value the codec could not encode
}

// rotation is the kind of new ID a commit gives the session.
type rotation uint8

const (
	rotateNone  rotation = iota
	rotateRenew          // Renew: same values, same user
	rotateLogin          // Login: bound to changes.user
)

func (c *changes) set(key string, v []byte) {
	if c.values == nil {
		c.values = make(map[string][]byte, 4)
	}
	c.values[key] = v
}

// hasValues reports whether the request set a value of its own (metadata
// alone does not make a session worth creating).
func (c *changes) hasValues() bool {
	for k, v := range c.values {
		if v != nil && !strings.HasPrefix(k, reservedPrefix) {
			return true
		}
	}
	return false
}

// delta returns the Change that applies c to rec, the record as the request
// read it: only keys whose value differs from rec's are written, and Clear
// deletes every value of rec. The Manager's touch time is always set.
func (c *changes) delta(rec Record, now time.Time) Change {
	ch := Change{Set: make(map[string][]byte, len(c.values)+1)}
	for k, v := range c.values {
		old, stored := rec[k]
		switch {
		case v == nil && stored:
			ch.Delete = append(ch.Delete, k)
		case v != nil && (!stored || !bytes.Equal(old, v) || c.cleared):
			ch.Set[k] = v
		}
	}
	if c.cleared {
		for k := range rec {
			if _, kept := ch.Set[k]; !kept && !strings.HasPrefix(k, reservedPrefix) {
				ch.Delete = append(ch.Delete, k)
			}
		}
	}
	ch.Set[keyTouched] = formatMillis(now)
	return ch
}

// blind returns the Change of a request that never read its session: every
// key it set or deleted, as it is.
func (c *changes) blind(now time.Time) Change {
	ch := Change{Set: make(map[string][]byte, len(c.values)+1)}
	for k, v := range c.values {
		if v == nil {
			ch.Delete = append(ch.Delete, k)
		} else {
			ch.Set[k] = v
		}
	}
	ch.Set[keyTouched] = formatMillis(now)
	return ch
}

// phase tells a commit whether the response headers are still to be sent,
// so that it may set a cookie.
type phase uint8

const (
	beforeHeaders phase = iota
	afterHeaders
)

// errRefused is the error of a write that the store refused because the
// session ended before the request committed.
var errRefused error = refusedError{}

// refusedError reads once and unwraps to ErrInvalidated.
type refusedError struct{}

func (refusedError) Error() string {
	return "sessions: write refused: the session was ended by another request"
}

func (refusedError) Unwrap() error { return ErrInvalidated }

// commit writes the request's changes to the store and returns what the
// response tells the client of the session's ID. A write refused because
// the session ended gives an error wrapping ErrInvalidated, which is not a
// failure: the Manager logs it and sends no cookie.
func (s *Session) commit(p phase) (issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ch
	s.ch = changes{}
	cookie, err := s.commitEnd(ch.end)
	if err != nil {
		return issue{}, err
	}
	if ch.err != nil {
		return cookie, ch.err
	}
	if s.state == loadFailed {
		s.state = loadReported
		return cookie, s.readErr
	}
	preUser, preID := s.meta.user, s.id
	c, err := s.commitChanges(ch, p)
	if c.set {
		cookie = c
	}
	if ch.others && (err == nil || errors.Is(err, ErrInvalidated)) {
		user := s.meta.user // the session as committed: after a Login, the new user
		if err != nil {
			user = preUser // refused: the renewals of the one it had may be live
		}
		var keep []string
		for _, id := range []string{preID, s.id} {
			if id != "" {
				keep = append(keep, handle(id))
			}
		}
		if user != "" && len(keep) > 0 {
			if oerr := s.m.destroyOthers(s.ctx, user, keep, err == nil); oerr != nil {
				err = oerr
			}
		}
	}
	return cookie, err
}

// commitChanges writes what the request changed, by the state of the
// session: never read, given a new ID, new, or live.
func (s *Session) commitChanges(ch changes, p phase) (issue, error) {
	needsCookie := ch.rotate != rotateNone && (s.id != "" || ch.rotate == rotateLogin) ||
		s.id == "" && s.state == loadDone && ch.hasValues()
	if needsCookie && p == afterHeaders {
		return issue{}, lateError("a new session ID")
	}
	switch {
	case s.state == loadPending:
		if len(ch.values) == 0 {
			return issue{}, nil
		}
		return s.commitBlind(ch, p)
	case ch.rotate != rotateNone && (s.id != "" || ch.rotate == rotateLogin):
		return s.commitRotate(ch)
	case s.id == "":
		if !ch.hasValues() {
			return issue{}, nil
		}
		return s.commitNew(ch.values, s.meta)
	}
	return s.commitExisting(ch, p)
}

// commitNew stores values under a fresh ID as a new session with metadata
// md (its user, its login time, its cookie's persistence). A session bound
// to a user is added to the user's index before its record is written.
func (s *Session) commitNew(values map[string][]byte, md meta) (issue, error) {
	m := s.m
	id, err := newID()
	if err != nil {
		return issue{}, fmt.Errorf("sessions: new ID: %w", err)
	}
	now := m.cfg.now()
	md.created, md.touched = now, now
	rec, ev := m.newRecord(values, md, now), Event{Kind: EventCreated}
	if md.user != "" {
		if _, err := m.indexAdd(s.ctx, md.user, handle(id), md.deadline()); err != nil {
			return issue{}, err
		}
		ev.Kind = EventLogin
	}
	if err := m.create(s.ctx, handle(id), rec, md.ttl(now)); err != nil {
		return issue{}, s.createFailed(id, err)
	}
	s.adoptNew(id, rec, md, ev)
	if md.user != "" {
		m.enforceLimit(s.ctx, md.user, handle(id))
	}
	return s.issue(now), nil
}

// create writes rec, a whole new record, under key, the handle of a fresh ID.
func (m *Manager) create(ctx context.Context, key string, rec Record, ttl time.Duration) error {
	return m.write(ctx, key, Change{Mode: ModeReplace, Set: rec}, ttl)
}

// createFailed turns the failed write of a new record under id into the
// commit's error: a tombstone on id (a Destroy that followed a successor to
// it first) refuses it.
func (s *Session) createFailed(id string, err error) error {
	if errors.Is(err, ErrInvalidated) {
		s.m.refused(s.ctx, id, err)
		s.startNew()
		return errRefused
	}
	return fmt.Errorf("sessions: write new session: %w", err)
}

// adoptNew makes rec, just written under the fresh ID id, the session's, and
// emits ev.
func (s *Session) adoptNew(id string, rec Record, md meta, ev Event) {
	s.id, s.rec, s.meta = id, rec, md
	ev.Handle, ev.UserID = handle(id), md.user
	s.m.emit(s.ctx, ev)
}

// commitBlind writes the changes of a request that never read its session
// under the cookie's ID, in one store call. The store refuses it if the
// session is gone; then the values start a new session, if the cookie can
// still be set. The ttl is the idle timeout (or the lifetime): the record's
// deadline metadata keeps the built-in stores from extending it past the
// absolute lifetime, and every read checks that lifetime again.
func (s *Session) commitBlind(ch changes, p phase) (issue, error) {
	m := s.m
	ttl := m.cfg.lifetime
	if m.cfg.idleTimeout > 0 {
		ttl = m.cfg.idleTimeout
	}
	blind := ch.blind(m.cfg.now())
	// The browser holds this ID: the write presents it if a Renew just
	// moved the session there (see invalidation.go), at no extra cost.
	blind.Delete = append(blind.Delete, keyFresh)
	err := m.write(s.ctx, handle(s.cookieID), blind, ttl)
	switch {
	case err == nil:
		return issue{}, nil
	case errors.Is(err, ErrInvalidated):
		m.refused(s.ctx, s.cookieID, err)
		s.state = loadDone
		s.startNew()
		return issue{}, errRefused
	case !errors.Is(err, ErrNotFound):
		return issue{}, fmt.Errorf("sessions: write: %w", err)
	}
	m.log(s.ctx, slog.LevelDebug, "session not found: a new session starts", s.cookieID)
	s.state = loadDone
	s.startNew()
	if !ch.hasValues() {
		return issue{}, nil
	}
	if p == afterHeaders {
		return issue{}, lateError("a new session")
	}
	return s.commitNew(ch.values, s.meta)
}

// commitExisting writes the request's changes to a live session, or touches
// it when the touch interval has passed, or presents it (the first request
// that carries a renewed ID clears its fresh mark).
func (s *Session) commitExisting(ch changes, p phase) (issue, error) {
	m := s.m
	now := m.cfg.now()
	// DestroyOthers writes at least the touch time, so that the store
	// confirms this session is still live before the others end.
	present := s.id == s.cookieID && s.rec[keyFresh] != nil
	due := s.touchDue(now) || ch.others || present
	if len(ch.values) == 0 && !ch.cleared && !due {
		return issue{}, nil
	}
	change := ch.delta(s.rec, now)
	if present {
		change.Delete = append(change.Delete, keyFresh)
	}
	if len(change.Set) == 1 && len(change.Delete) == 0 && !due {
		return issue{}, nil // nothing but the touch time, which is not due
	}
	if ch.cookie && p == afterHeaders {
		return issue{}, lateError("a cookie change")
	}
	err := ErrNotFound // expired by this Manager's clock
	if ttl := s.meta.ttl(now); ttl > 0 {
		err = m.write(s.ctx, handle(s.id), change, ttl)
	}
	switch {
	case errors.Is(err, ErrInvalidated):
		m.refused(s.ctx, s.id, err)
		s.startNew()
		return issue{}, errRefused
	case errors.Is(err, ErrNotFound):
		return s.expiredAtCommit(ch, p)
	case err != nil:
		return issue{}, fmt.Errorf("sessions: write: %w", err)
	}
	s.rec, s.meta.touched = change.Apply(s.rec), now
	if ch.cookie {
		return s.issue(now), nil
	}
	return issue{}, nil
}

// expiredAtCommit handles a session that expired between the request's
// read and its commit. The values an anonymous session's request set start
// a new session, with the choices it made (RememberMe, SetLifetime,
// SetIdleTimeout), as for a request that found no session, so that none is
// lost silently; after the response headers, when no new cookie can be
// sent, the commit fails. A session bound to a user that expired is logged
// out: its request's values never move to an anonymous session, and the
// write is refused, as for a Destroy.
func (s *Session) expiredAtCommit(ch changes, p phase) (issue, error) {
	old := s.meta
	s.m.refused(s.ctx, s.id, ErrNotFound)
	s.startNew()
	switch {
	case !ch.hasValues() || old.user != "":
		return issue{}, errRefused
	case p == afterHeaders:
		return issue{}, lateError("a new session (the session expired during the request)")
	}
	return s.commitNew(ch.values, chosen(old, s.meta, ch))
}

// chosen returns md, the metadata of a new session, with what the request
// chose of old's by setting it: its cookie's persistence, its lifetime and
// its idle timeout.
func chosen(old, md meta, ch changes) meta {
	if _, ok := ch.values[keyPersist]; ok {
		md.persist = old.persist
	}
	if _, ok := ch.values[keyLifetime]; ok {
		md.lifetime = old.lifetime
	}
	if _, ok := ch.values[keyIdle]; ok {
		md.idle = old.idle
	}
	return md
}

// touchDue reports whether a read-only request must extend the idle
// timeout: the touch interval has passed since the last write.
func (s *Session) touchDue(now time.Time) bool {
	idle := s.meta.idle
	return idle > 0 && now.Sub(s.meta.touched) >= s.m.cfg.touchFor(idle)
}

// issue returns what tells the client the session's ID.
func (s *Session) issue(now time.Time) issue {
	m := s.m
	if m.cfg.header != "" {
		return issue{set: true, value: m.cfg.headerValue(s.id)}
	}
	var maxAge time.Duration
	if s.meta.persist {
		maxAge = s.meta.deadline().Sub(now)
	}
	return issue{set: true, value: m.cfg.cookie.header(m.name, s.id, maxAge, now)}
}

// values returns the session's values with the request's changes applied,
// and without the Manager's metadata unless the request set it.
func (s *Session) values(ch changes) map[string][]byte {
	out := make(map[string][]byte, len(s.rec)+len(ch.values)+6)
	if !ch.cleared {
		for k, v := range s.rec {
			if !strings.HasPrefix(k, reservedPrefix) || k == keyLabel {
				out[k] = v
			}
		}
	}
	for k, v := range ch.values {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// newRecord adds the metadata of a session created (or renewed) at now to
// values, and returns it.
func (m *Manager) newRecord(values map[string][]byte, md meta, now time.Time) map[string][]byte {
	if values == nil {
		values = make(map[string][]byte, 6)
	}
	values[keyCreated] = formatMillis(now)
	values[keyTouched] = values[keyCreated]
	values[keyDeadline] = formatMillis(now.Add(md.lifetime))
	delete(values, keyPersist)
	delete(values, keyLifetime)
	delete(values, keyIdle)
	if md.persist != m.cfg.cookie.persist {
		values[keyPersist] = persistValue(md.persist)
	}
	if md.lifetime != m.cfg.lifetime {
		values[keyLifetime] = formatDuration(md.lifetime)
	}
	if md.idle != m.cfg.idleTimeout {
		values[keyIdle] = formatDuration(md.idle)
	}
	if md.user != "" {
		values[keyUser] = []byte(md.user)
		values[keyLogin] = formatMillis(md.login)
	}
	return values
}

func persistValue(on bool) []byte {
	if on {
		return []byte("1")
	}
	return []byte("0")
}
