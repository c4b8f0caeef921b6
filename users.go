package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// A user's index is a record in the same Store as the sessions, under
// "u:<hex SHA-256 of the user ID>", with one key per session handle whose
// value is the end of that session's absolute lifetime (Unix ms). It is
// only ever changed with per-key merges (ModeUpsert), so concurrent Logins on
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
// session is bound to; this one stays live, and so does what another tab
// renews it to meanwhile. Call it after a password change ("log out other
// devices"), alone or with Renew. Sessions of the user that are in flight
// or being renewed end too. It does nothing for a session bound to no user,
// nor for one this request found already ended.
func (s *Session) DestroyOthers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.state == loadDone {
		s.ch.others = true
	}
}

// UserSessions returns the live sessions of userID, the most recently
// active first, one per device: a device caught in the middle of a Renew is
// listed once, under its new handle. It costs one store read for the index
// and one per session in it, never a scan of the store. A ctx already done
// gives its error.
func (m *Manager) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix, err := m.index(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	devs, err := m.devices(ctx, userID, ix)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(devs))
	for i, d := range devs {
		out[i] = d.info
	}
	return out, nil
}

// device is one live session of a user, as a devices page shows it.
type device struct {
	info     SessionInfo
	renewing string // the handle it is being renewed from, live for an instant more, or ""
}

// devices reads each session of ix that may be live and returns the live
// ones, the most recently active first. A session live under both its old
// and its new handle (between the last two steps of a Renew) is one device.
func (m *Manager) devices(ctx context.Context, userID string, ix userIndex) ([]device, error) {
	now := m.cfg.now()
	found := make(map[string]device, len(ix))
	for h, deadline := range ix {
		if !deadline.After(now) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, ok, err := m.device(ctx, userID, h, now)
		if err != nil {
			return nil, err
		}
		if ok {
			found[h] = d
		}
	}
	out := make([]device, 0, len(found))
	for _, d := range found {
		if _, ok := found[d.renewing]; !ok {
			d.renewing = ""
		}
		if d.renewing == "" { // else its predecessor, still live, is listed
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].info.LastActive.After(out[j].info.LastActive) })
	return out, nil
}

// device reads the session with handle h and describes it, if it is a live
// session of userID.
func (m *Manager) device(ctx context.Context, userID, h string, now time.Time) (device, bool, error) {
	rec, err := m.readKey(ctx, h)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		return device{}, false, nil
	case err != nil:
		return device{}, false, fmt.Errorf("sessions: read session: %w", err)
	}
	md, ok := parseMeta(rec, &m.cfg)
	if !ok || md.user != userID || md.expired(rec, now) {
		return device{}, false, nil
	}
	deadline, _ := parseMillis(rec[keyDeadline])
	info := SessionInfo{
		Handle: h, UserID: userID, Created: md.login, LastActive: md.touched,
		Expires: deadline, Label: string(rec[keyLabel]),
	}
	return device{info: info, renewing: string(rec[keyFresh])}, true, nil
}

// DestroySession ends the session of userID named by handle (see
// SessionInfo.Handle), and every session renewed from it: the revoke button
// of a devices page. A device that renewed its session since the page was
// drawn no longer has that handle; it is found through its renewals, and
// ends all the same. DestroySession returns ErrNotFound when handle never
// named one of the user's sessions, or when everything it led to had
// already ended, so that one user can never end another's.
func (m *Manager) DestroySession(ctx context.Context, userID, handle string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ix, err := m.index(ctx, userID, true)
	if err != nil {
		return err
	}
	targets, err := m.revokeTargets(ctx, ix, handle)
	if err != nil {
		return err
	}
	done, ended, errs := m.endAll(ctx, userID, targets)
	if err := m.indexDrop(ctx, userID, ix, done); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if ended == 0 {
		return ErrNotFound
	}
	return nil
}

// revokeTargets returns the sessions of ix that a revoke of h ends: h when
// the index lists it, else the sessions of ix renewed from h.
func (m *Manager) revokeTargets(ctx context.Context, ix userIndex, h string) ([]string, error) {
	if _, ok := ix[h]; ok {
		return []string{h}, nil
	}
	if !validHandle(h) {
		return nil, nil
	}
	renewed, err := m.renewals(ctx, h)
	var out []string
	for _, n := range renewed {
		if _, ok := ix[n]; ok {
			out = append(out, n)
		}
	}
	return out, err
}

// renewals returns every handle that h was renewed to, down the chain, as
// the successor records tell.
func (m *Manager) renewals(ctx context.Context, h string) ([]string, error) {
	seen := map[string]bool{h: true}
	var out []string
	for queue := []string{h}; len(queue) > 0; queue = queue[1:] {
		next, err := m.successors(ctx, queue[0])
		if err != nil {
			return out, err
		}
		for _, n := range next {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
				queue = append(queue, n)
			}
		}
	}
	return out, nil
}

// DestroyUser ends every session of userID, and every session renewed from
// one of them, including requests in flight: the call for a password change
// or a disabled account, usable outside any request. Once it returns nil,
// none of those sessions can be read or written again. It costs store calls
// in proportion to the user's live sessions: one read of the index, one
// Remove per entry (and one read more for an entry that was no longer
// live), one write of the index.
//
// A ctx already done gives its error at once; once started, the store calls
// run on a context that ctx's cancellation does not end (a log out
// everywhere left half done is worse than a slow one), each bounded by the
// commit timeout, several at a time. A failed call stops no other: every
// session is tried, and the errors of those that could not be ended are
// returned joined. An index that cannot be read, even one the store
// reports corrupt, is an error: DestroyUser never reports success without
// ending the sessions.
func (m *Manager) DestroyUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ix, err := m.index(ctx, userID, true)
	if err != nil {
		return err
	}
	return m.endIndexed(ctx, userID, ix, nil)
}

// destroyOthers carries out DestroyOthers for the session keep of userID:
// every other session ends but keep and what keep was renewed to (another
// tab of the same device may have renewed it meanwhile). live reports that
// the store confirmed keep live at commit; otherwise one of its renewals
// must be, or nothing ends: a request on a session that was destroyed
// meanwhile (a stolen cookie after a log out everywhere) must not end the
// sessions the user logged in with since. The index is read before the
// renewals: a Renew records its successor before its index entry, so every
// renewal of keep that the index lists is among the renewals read.
func (m *Manager) destroyOthers(ctx context.Context, userID string, keeps []string, live bool) error {
	ix, err := m.index(ctx, userID, true)
	if err != nil {
		return err
	}
	var renewed []string
	for _, keep := range keeps {
		r, err := m.renewals(ctx, keep)
		if err != nil {
			return err
		}
		renewed = append(renewed, r...)
	}
	for i := 0; i < len(renewed) && !live; i++ {
		_, err := m.readKey(ctx, renewed[i])
		live = err == nil
	}
	if !live {
		m.log(ctx, slog.LevelInfo, "DestroyOthers not carried out: the session ended before the request committed", "")
		return nil
	}
	spare := map[string]bool{}
	for _, h := range append(renewed, keeps...) {
		spare[h] = true
	}
	return m.endIndexed(ctx, userID, ix, spare)
}

// endIndexed ends every session of ix, userID's index, but those in spare,
// and drops the ended ones from the index.
func (m *Manager) endIndexed(ctx context.Context, userID string, ix userIndex, spare map[string]bool) error {
	targets := make([]string, 0, len(ix))
	for h := range ix {
		if !spare[h] {
			targets = append(targets, h)
		}
	}
	done, _, errs := m.endAll(ctx, userID, targets)
	if err := m.indexDrop(ctx, userID, ix, done); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// endParallel is how many sessions endAll ends at once.
const endParallel = 16

// endAll ends the sessions handles of userID and what they were renewed to,
// several at a time, so that one slow or failing call (a replica that lags,
// with the Redis store's WithWaitReplicas) neither delays nor stops the
// others. It returns the handles it finished, how many sessions were live,
// and the errors of the others. The events are emitted on the caller's goroutine, and a panic of
// the store is carried there too.
func (m *Manager) endAll(ctx context.Context, userID string, handles []string) (done []string, live int, errs []error) {
	type result struct {
		ended []string
		err   error
		panic any
	}
	results := make([]result, len(handles))
	var wg sync.WaitGroup
	sem := make(chan struct{}, endParallel)
	for i, h := range handles {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() {
				results[i].panic = recover()
				<-sem
				wg.Done()
			}()
			results[i].ended, results[i].err = m.endChain(ctx, h)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.panic != nil {
			panic(r.panic)
		}
		for _, e := range r.ended {
			m.emit(ctx, Event{Kind: EventDestroyed, Handle: e, UserID: userID})
		}
		live += len(r.ended)
		if r.err != nil {
			errs = append(errs, r.err)
		} else {
			done = append(done, handles[i])
		}
	}
	return done, live, errs
}

// userIndex is a user's index as read: the handle of each session, with
// the end of its absolute lifetime.
type userIndex map[string]time.Time

// index returns userID's index; an empty one when it has none. A corrupt
// index reads as empty only for what can afford it (a list, a prune); a
// log-out-everywhere must fail rather than end nothing, so strict gives the
// error.
func (m *Manager) index(ctx context.Context, userID string, strict bool) (userIndex, error) {
	rec, err := m.readKey(ctx, userKey(userID))
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt) && !strict:
		return userIndex{}, nil
	case err != nil:
		return nil, fmt.Errorf("sessions: read user index: %w", err)
	}
	ix := make(userIndex, len(rec))
	for h, v := range rec {
		if validHandle(h) {
			ix[h], _ = parseMillis(v)
		}
	}
	return ix, nil
}

// indexTTL is the expiry of an index that holds ix after a write: the last
// deadline it lists, and never less than this Manager's lifetime. Every
// index write is a ModeUpsert, which never shortens the expiry, so servers
// whose lifetimes differ (a rolling deploy) keep the index as long as its
// longest session, even when their writes race.
func (m *Manager) indexTTL(ix userIndex, now time.Time) time.Duration {
	ttl := m.cfg.lifetime
	for _, d := range ix {
		ttl = max(ttl, d.Sub(now))
	}
	return ttl
}

// indexAdd adds the session h, which ends at deadline, to userID's index
// before its record is written, and drops the entries a lifetime past their
// deadline in the same write. It returns the index as written.
func (m *Manager) indexAdd(ctx context.Context, userID, h string, deadline time.Time) (userIndex, error) {
	ix, err := m.index(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	now := m.cfg.now()
	ch := Change{Mode: ModeUpsert, Set: Record{h: formatMillis(deadline)}}
	for e, d := range ix {
		// Past its deadline by a whole lifetime: no server's clock is that
		// far behind, so no server still serves the session.
		if !d.Add(m.cfg.lifetime).After(now) {
			ch.Delete = append(ch.Delete, e)
			delete(ix, e)
		}
	}
	ix[h] = deadline
	if err := m.write(ctx, userKey(userID), ch, m.indexTTL(ix, now)); err != nil {
		return nil, fmt.Errorf("sessions: write user index: %w", err)
	}
	return ix, nil
}

// indexDelete removes handles, all of them ended, from userID's index.
func (m *Manager) indexDelete(ctx context.Context, userID string, handles []string) error {
	if len(handles) == 0 {
		return nil
	}
	ix, err := m.index(ctx, userID, false)
	if err != nil {
		return err
	}
	return m.indexDrop(ctx, userID, ix, handles)
}

// indexDrop removes handles from userID's index, which read as ix. It
// writes nothing when ix lists none of them.
func (m *Manager) indexDrop(ctx context.Context, userID string, ix userIndex, handles []string) error {
	var del []string
	for _, h := range handles {
		if _, ok := ix[h]; ok {
			del = append(del, h)
			delete(ix, h)
		}
	}
	if len(del) == 0 {
		return nil
	}
	err := m.write(ctx, userKey(userID), Change{Mode: ModeUpsert, Delete: del}, m.indexTTL(ix, m.cfg.now()))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("sessions: write user index: %w", err)
	}
	return nil
}

// enforceLimit ends the least recently active devices of userID beyond the
// WithMaxSessions limit, sparing keep, the session just logged in. It reads
// the index after keep's record was written, so of Logins that race, the
// last to read sees every session written before it; a device in the middle
// of a Renew is live under its old or its new handle, both listed, and
// counts once. However they interleave, no more than the limit stay live
// (two racing at the limit may end each other). A failure is logged: the
// Login itself succeeded.
func (m *Manager) enforceLimit(ctx context.Context, userID, keep string) {
	limit := m.cfg.maxSessions
	if limit <= 0 {
		return
	}
	ix, err := m.index(ctx, userID, false)
	if err == nil && len(ix) > limit {
		err = m.endOldest(ctx, userID, ix, keep, limit)
	}
	m.logError(ctx, "enforcing the session limit failed", "", err)
}

// endOldest ends the least recently active devices of ix but keep, so that
// limit remain with keep.
func (m *Manager) endOldest(ctx context.Context, userID string, ix userIndex, keep string, limit int) error {
	devs, err := m.devices(ctx, userID, ix)
	if err != nil {
		return err
	}
	var victims []string
	kept := 1
	for _, d := range devs {
		if d.info.Handle == keep || d.renewing == keep {
			continue
		}
		if kept < limit {
			kept++
			continue
		}
		victims = append(victims, d.info.Handle)
		if d.renewing != "" {
			victims = append(victims, d.renewing)
		}
	}
	done, _, errs := m.endAll(ctx, userID, victims)
	errs = append(errs, m.indexDrop(ctx, userID, ix, done))
	return errors.Join(errs...)
}
