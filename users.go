package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
)

// A user's index is a record in the same Store as the sessions, under
// "u:<hex SHA-256 of the user ID>", with one key per session handle whose
// value is the end of that session's absolute lifetime (Unix ms). It is
// only ever changed with per-key merges (Create), so concurrent Logins on
// any number of servers all land in it, and it needs nothing of a Store
// beyond the contract. Its entries are added before the session record is
// written (see invalidation.go), which is what lets DestroyUser reach every
// session: one it finds in the index is tombstoned, and one that is not in
// the index yet is not written yet. An entry past its deadline names a dead
// session; Logins drop such entries, and the index record itself expires one
// lifetime after its last write, so an entry outlives its session by at most
// one lifetime, without any scan of the store.

// SessionInfo describes one live session of a user, for a devices page.
type SessionInfo struct {
	// Handle names the session: the lowercase hex SHA-256 of its ID. It is
	// no credential, so it may be shown, logged and sent back in a form to
	// revoke the session with DestroySession.
	Handle string
	// UserID is the user the session is bound to.
	UserID string
	// Created is when the session was logged in.
	Created time.Time
	// LastActive is the session's last write or touch. With an idle timeout
	// it is accurate to the touch interval; without one, read-only requests
	// do not move it.
	LastActive time.Time
	// Expires is the end of the session's absolute lifetime.
	Expires time.Time
	// Label is what the application recorded with Session.SetLabel, such as
	// a device name it derived from the User-Agent, or "".
	Label string
}

// indexEntry is one session of a user's index.
type indexEntry struct {
	handle   string
	deadline time.Time
}

// maxLabel is the longest label SetLabel keeps, in bytes.
const maxLabel = 200

// userKey is the store key of userID's index.
func userKey(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "u:" + hex.EncodeToString(sum[:])
}

// validHandle reports whether h has the form of a handle: 64 lowercase hex
// digits.
func validHandle(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// UserID returns the user the session is bound to by Login, or "" for none.
// Before the commit of a Login it already returns the new user.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.ch.rotate == rotateLogin {
		return s.ch.user
	}
	return s.meta.user
}

// Handle returns the session's handle, the lowercase hex SHA-256 of its ID,
// or "" while the session has no ID. The handle names the session without
// being a credential: the store keeps records under it, log records carry a
// prefix of it, and SessionInfo.Handle is the same value, so a devices page
// can mark "this device". After a commit that renewed the session it is the
// new ID's handle.
func (s *Session) Handle() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return handle(s.id)
}

// SetLabel records label with the session, for a devices page: the
// application's own description of the device, such as "Firefox on Linux"
// derived from the User-Agent. It is stored like a value (never the raw
// User-Agent unless the application chooses it), survives Renew and Login,
// and is cut to 200 bytes.
func (s *Session) SetLabel(label string) {
	if len(label) > maxLabel {
		label = label[:maxLabel]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.writable() {
		return
	}
	if cur, ok := s.rec[keyLabel]; ok && s.state == loadDone && string(cur) == label {
		delete(s.ch.values, keyLabel)
		return
	}
	s.ch.set(keyLabel, []byte(label))
}

// DestroyOthers ends, at commit, every other session of the user this
// session is bound to; this one stays live. Call it after a password change
// ("log out other devices"). Sessions of the user that are in flight or
// being renewed end too. It does nothing for a session bound to no user.
func (s *Session) DestroyOthers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state == loadDone {
		s.ch.others = true
	}
}

// commitOthers carries out DestroyOthers for the session as committed.
func (s *Session) commitOthers() error {
	if s.meta.user == "" || s.id == "" {
		return nil
	}
	return s.m.destroyUser(s.ctx, s.meta.user, handle(s.id))
}

// UserSessions returns the live sessions of userID, the most recently
// active first. It costs one store read for the index and one per session
// in it, never a scan of the store. A ctx already done gives its error.
func (m *Manager) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := m.index(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	now := m.cfg.now()
	out := make([]SessionInfo, 0, len(entries))
	for _, e := range entries {
		if !e.deadline.After(now) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		info, ok, err := m.sessionInfo(ctx, userID, e.handle, now)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastActive.After(out[j].LastActive) })
	return out, nil
}

// sessionInfo reads the session with handle h and describes it, if it is a
// live session of userID.
func (m *Manager) sessionInfo(ctx context.Context, userID, h string, now time.Time) (SessionInfo, bool, error) {
	rec, err := m.readKey(ctx, h)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		return SessionInfo{}, false, nil
	case err != nil:
		return SessionInfo{}, false, fmt.Errorf("sessions: read session: %w", err)
	}
	md, ok := parseMeta(rec, &m.cfg)
	if !ok || md.user != userID || md.expired(rec, now) {
		return SessionInfo{}, false, nil
	}
	deadline, _ := parseMillis(rec[keyDeadline])
	return SessionInfo{
		Handle: h, UserID: userID, Created: md.login, LastActive: md.touched,
		Expires: deadline, Label: string(rec[keyLabel]),
	}, true, nil
}

// DestroySession ends the session of userID named by handle (see
// SessionInfo.Handle), and every session renewed from it: the revoke button
// of a devices page. It returns ErrNotFound when handle is not one of the
// user's live sessions, so that one user cannot end another's.
func (m *Manager) DestroySession(ctx context.Context, userID, handle string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := m.index(ctx, userID, true)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.handle != handle {
			continue
		}
		ended, err := m.endChain(ctx, handle, nil, time.Time{})
		if err != nil {
			return err
		}
		if ended {
			m.emit(ctx, Event{Kind: EventDestroyed, Session: handle, UserID: userID})
		}
		if err := m.indexDelete(ctx, userID, []string{handle}); err != nil {
			return err
		}
		if !ended {
			return ErrNotFound
		}
		return nil
	}
	return ErrNotFound
}

// DestroyUser ends every session of userID, and every session renewed from
// one of them, including requests in flight: the call for a password change
// or a disabled account, usable outside any request. Once it returns nil,
// none of those sessions can be read or written again. It costs store calls
// in proportion to the user's sessions: one read of the index, one Remove
// per entry (and one read more for an entry that was no longer live), one
// write of the index. A ctx already done gives its error at once; once
// started, the store calls run on a context that ctx's cancellation does
// not end (a log out everywhere left half done is worse than a slow one),
// each bounded by the commit timeout. An index that cannot be read, even
// one the store reports corrupt, is an error: DestroyUser never reports
// success without ending the sessions.
func (m *Manager) DestroyUser(ctx context.Context, userID string) error {
	return m.destroyUser(ctx, userID, "")
}

// destroyUser ends every session in userID's index but keep.
func (m *Manager) destroyUser(ctx context.Context, userID, keep string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := m.index(ctx, userID, true)
	if err != nil {
		return err
	}
	seen := map[string]bool{keep: true}
	var ended []string
	for _, e := range entries {
		if e.handle == keep {
			continue
		}
		live, err := m.endChain(ctx, e.handle, seen, time.Time{})
		if err != nil {
			return err
		}
		if live {
			m.emit(ctx, Event{Kind: EventDestroyed, Session: e.handle, UserID: userID})
		}
		ended = append(ended, e.handle)
	}
	return m.indexDelete(ctx, userID, ended)
}

// index returns the entries of userID's index; none when it has none. A
// corrupt index reads as empty only for what can afford it (a list, a
// prune); a log-out-everywhere must fail rather than end nothing, so
// strict gives the error.
func (m *Manager) index(ctx context.Context, userID string, strict bool) ([]indexEntry, error) {
	rec, err := m.readKey(ctx, userKey(userID))
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt) && !strict:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("sessions: read user index: %w", err)
	}
	entries := make([]indexEntry, 0, len(rec))
	for h, v := range rec {
		if validHandle(h) {
			d, _ := parseMillis(v)
			entries = append(entries, indexEntry{handle: h, deadline: d})
		}
	}
	return entries, nil
}

// indexAdd adds the session h, created at now, to userID's index, before
// its record is written. With prune (a Login) it first reads the index and
// drops the entries past their deadline in the same write.
func (m *Manager) indexAdd(ctx context.Context, userID, h string, now time.Time, prune bool) error {
	ch := Change{Create: true, Set: Record{h: formatMillis(now.Add(m.cfg.lifetime))}}
	if prune {
		entries, err := m.index(ctx, userID, false)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.deadline.After(now) {
				ch.Delete = append(ch.Delete, e.handle)
			}
		}
	}
	if err := m.write(ctx, userKey(userID), ch, m.cfg.lifetime); err != nil {
		return fmt.Errorf("sessions: write user index: %w", err)
	}
	return nil
}

// indexDelete removes handles, all of them ended, from userID's index.
func (m *Manager) indexDelete(ctx context.Context, userID string, handles []string) error {
	if len(handles) == 0 {
		return nil
	}
	err := m.write(ctx, userKey(userID), Change{Delete: handles}, m.cfg.lifetime)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("sessions: write user index: %w", err)
	}
	return nil
}

// enforceLimit ends the least recently active sessions of userID beyond
// the WithMaxSessions limit, sparing keep, the session just logged in. It
// reads the index after keep's record was written, so of Logins that race,
// the last to read sees every session written before it: however they
// interleave, no more than the limit stay live (two racing at the limit may
// end each other). A failure is logged: the Login itself succeeded.
func (m *Manager) enforceLimit(ctx context.Context, userID, keep string) {
	max := m.cfg.maxSessions
	if max <= 0 {
		return
	}
	entries, err := m.index(ctx, userID, false)
	if err != nil {
		m.logError(ctx, "enforcing the session limit failed", "", err)
		return
	}
	if len(entries) <= max {
		return
	}
	now := m.cfg.now()
	var live []SessionInfo
	for _, e := range entries {
		if e.handle == keep || !e.deadline.After(now) {
			continue
		}
		info, ok, err := m.sessionInfo(ctx, userID, e.handle, now)
		if err != nil {
			m.logError(ctx, "enforcing the session limit failed", "", err)
			return
		}
		if ok {
			live = append(live, info)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].LastActive.After(live[j].LastActive) })
	for _, victim := range live[min(len(live), max-1):] {
		if err := m.DestroySession(ctx, userID, victim.Handle); err != nil && !errors.Is(err, ErrNotFound) {
			m.logError(ctx, "enforcing the session limit failed", "", err)
			return
		}
	}
}
