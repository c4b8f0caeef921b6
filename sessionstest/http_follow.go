package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessions"
)

// The checks of this file hold the rules by which a Destroy follows a
// renewal, with no clock: the Manager's clock jumps past any window a
// clock-based rule could use, and two servers' clocks differ.

// skew is how far the checks move or offset a Manager's clock: longer than
// any grace a clock-based follow rule would allow.
const skew = 2 * time.Minute

// followApp adds to the suite's application:
//
//	/login-fail?user=U  Login(U), Commit, then a value that cannot be encoded
//	/others-report      DestroyOthers; the body is "ok <user>" when the
//	                    request found its session live, else "nosession"
func (h *httpSuite) followApp() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h.app())
	mux.HandleFunc("/login-fail", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Login(r.URL.Query().Get("user"))
		if err := s.Commit(); err != nil {
			h.t.Errorf("Commit of a Login: %v", err)
		}
		s.Set("unencodable", make(chan int))
	})
	mux.HandleFunc("/others-report", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		user := s.UserID()
		s.DestroyOthers()
		if user == "" {
			io.WriteString(w, "nosession")
			return
		}
		io.WriteString(w, "ok "+user)
	})
	return mux
}

// followSuite returns a suite on h's store (under the counting and failing
// wrappers) whose Manager's clock is clock, serving followApp.
func (h *httpSuite) followSuite(clock *fakeClock, opts ...sessions.Option) (*httpSuite, *faultStore) {
	fs := &faultStore{Store: h.st.Store}
	l := newHTTPSuite(h.t, fs, h.cfg, append([]sessions.Option{sessions.WithClock(clock.Now)}, opts...)...)
	srv := httptest.NewServer(tagRequests(l.m.Handler(l.followApp())))
	h.t.Cleanup(srv.Close)
	l.url = srv.URL
	return l, fs
}

// faultStore counts the calls that reach the store (and the Writes and
// Removes among them) and can fail Removes.
type faultStore struct {
	sessions.Store
	calls       atomic.Int64
	writes      atomic.Int64
	failRemoves atomic.Int64 // how many of the next Removes fail
}

var errInjected = errors.New("sessionstest: injected store failure")

func (f *faultStore) Read(ctx context.Context, key string) (sessions.Record, error) {
	f.calls.Add(1)
	return f.Store.Read(ctx, key)
}

func (f *faultStore) Write(ctx context.Context, key string, ch sessions.Change, ttl time.Duration) error {
	f.calls.Add(1)
	f.writes.Add(1)
	return f.Store.Write(ctx, key, ch, ttl)
}

func (f *faultStore) Remove(ctx context.Context, key string, ttl time.Duration) error {
	f.calls.Add(1)
	f.writes.Add(1)
	if f.failRemoves.Add(-1) >= 0 {
		return errInjected
	}
	f.failRemoves.Store(0)
	return f.Store.Remove(ctx, key, ttl)
}

// cost returns how many store calls f makes.
func (fs *faultStore) cost(f func()) int64 {
	before := fs.calls.Load()
	f()
	return fs.calls.Load() - before
}

// A logout whose request loaded the session before another tab renewed it
// ends the renewal, however long the logout took and though the browser
// already used the new ID.
func (h *httpSuite) slowLogoutEndsRenewal() {
	clock := &fakeClock{now: time.Now()}
	l, _ := h.followSuite(clock)
	b := l.login(uniqueUser("slowlogout"))
	x := b.cookie()
	done := make(chan response, 1)
	go func() { done <- l.send("/slow?do=destroy", x, "") }()
	<-l.loaded
	clock.Advance(skew)
	b.get("/renew")
	b.get("/whoami")
	clock.Advance(skew)
	l.proceed <- struct{}{}
	b.apply(<-done)
	l.expectAllEnded("a logout that loaded the session before a Renew, committed minutes later", []string{x}, b)
}

// A logout with the old ID, sent while the Renew's response was held back,
// ends the renewal: the delayed cookie then names no session. Minutes pass
// on one server; two servers' clocks differ by minutes.
func (h *httpSuite) logoutBeforeDelayedRenewal() {
	for _, twoServers := range []bool{false, true} {
		clock := &fakeClock{now: time.Now()}
		a, _ := h.followSuite(clock)
		other := a
		if twoServers {
			ahead := &fakeClock{now: clock.Now().Add(skew)}
			other, _ = h.followSuite(ahead)
		}
		b := a.login(uniqueUser("delayed"))
		x := b.cookie()
		delayed := a.send("/renew", x, "")
		if !twoServers {
			clock.Advance(skew)
		}
		if r := b.apply(other.send("/logout", x, "")); r.status != http.StatusOK {
			h.t.Fatalf("logout with the old ID: status %d", r.status)
		}
		b.apply(delayed)
		a.expectAllEnded(fmt.Sprintf("logout before a delayed renewal (two servers %v)", twoServers), []string{x, delayed.id}, b)
	}
}

// An ID planted before a Login cannot log the victim out once the victim's
// browser has used the new ID; before that, a logout with the old ID ends
// the renewal, whenever it comes.
func (h *httpSuite) plantedIDCannotEndPresentedLogin() {
	for _, presented := range []bool{true, false} {
		clock := &fakeClock{now: time.Now()}
		l, _ := h.followSuite(clock)
		attacker := l.newBrowser()
		attacker.get("/set?k=theme&v=dark")
		planted := attacker.cookie()
		victim := l.newBrowser()
		victim.getAs("/login?user="+uniqueUser("victim"), planted, "")
		if presented {
			victim.get("/whoami")
		} else {
			clock.Advance(skew)
		}
		attacker.getAs("/logout", planted, "")
		if got := l.user(victim.cookie()) != ""; got != presented {
			h.t.Errorf("victim had used its new ID: %v; after a logout with the planted ID it is logged in: %v, want %v", presented, got, presented)
		}
	}
}

// A logout with a well-formed ID that never was a session writes nothing.
func (h *httpSuite) logoutOfUnknownIDWritesNothing() {
	var raw [32]byte
	rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	clock := &fakeClock{now: time.Now()}
	l, fs := h.followSuite(clock)
	before := fs.writes.Load()
	if r := l.send("/logout", id, ""); r.status != http.StatusOK {
		h.t.Errorf("logout with an unknown ID: status %d", r.status)
	}
	if n := fs.writes.Load() - before; n != 0 {
		h.t.Errorf("a logout with an ID that never was a session made %d store writes, want none", n)
	}
}

// DestroySession with the handle a devices page showed ends the device
// even when it renewed since (and used its new ID, or not).
func (h *httpSuite) destroySessionFollowsRenewal() {
	for _, presented := range []bool{true, false} {
		clock := &fakeClock{now: time.Now()}
		l, _ := h.followSuite(clock)
		user := uniqueUser("revoke")
		d, keep := l.login(user), l.login(user)
		shown := handleOf(d.cookie())
		d.get("/renew")
		if presented {
			d.get("/whoami")
		}
		clock.Advance(skew)
		if err := l.m.DestroySession(context.Background(), user, shown); err != nil {
			h.t.Errorf("DestroySession of a device that renewed since (presented %v): %v", presented, err)
		}
		if l.user(d.cookie()) != "" {
			h.t.Errorf("DestroySession left a device that renewed since logged in (presented %v)", presented)
		}
		if l.user(keep.cookie()) != user {
			h.t.Error("DestroySession ended another device")
		}
	}
}

// DestroyUser tries every session when a store call fails, and a retry
// ends the rest.
func (h *httpSuite) destroyUserTriesEverySession() {
	clock := &fakeClock{now: time.Now()}
	l, fs := h.followSuite(clock)
	user := uniqueUser("tryall")
	bs := make([]*browser, 5)
	for i := range bs {
		bs[i] = l.login(user)
	}
	fs.failRemoves.Store(1)
	err := l.m.DestroyUser(context.Background(), user)
	if !errors.Is(err, errInjected) {
		h.t.Errorf("DestroyUser with a failing Remove gave %v, want the store's error", err)
	}
	live := 0
	for _, b := range bs {
		if l.user(b.cookie()) != "" {
			live++
		}
	}
	if live > 1 {
		h.t.Errorf("DestroyUser with one failing Remove left %d of 5 sessions live, want at most the one that failed", live)
	}
	if err := l.m.DestroyUser(context.Background(), user); err != nil {
		h.t.Errorf("DestroyUser again: %v", err)
	}
	l.expectAllEnded("after DestroyUser is retried", nil, bs...)
}

// The store calls of a Login, UserSessions and DestroyUser depend on the
// user's live sessions, not on how often the user logged in and out.
func (h *httpSuite) indexCostsFollowLiveSessions() {
	clock := &fakeClock{now: time.Now()}
	l, fs := h.followSuite(clock)
	costs := func(user string) [3]int64 {
		var c [3]int64
		c[0] = fs.cost(func() { l.login(user) })
		c[1] = fs.cost(func() { l.m.UserSessions(context.Background(), user) })
		c[2] = fs.cost(func() { l.m.DestroyUser(context.Background(), user) })
		return c
	}
	fresh, busy := uniqueUser("fresh"), uniqueUser("busy")
	l.login(fresh)
	l.login(busy)
	for i := 0; i < 50; i++ {
		b := l.login(busy)
		b.get("/renew")
		b.get("/logout")
	}
	want, got := costs(fresh), costs(busy)
	if got != want {
		h.t.Errorf("store calls of Login, UserSessions, DestroyUser with one live session: %v after 50 login/renew/logout cycles, %v without", got, want)
	}
}

// A device in the middle of a Renew, stopped at each of its store calls in
// turn, is listed once by UserSessions; and a Login past a limit of one,
// run meanwhile, leaves at most one session live.
func (h *httpSuite) renewingDeviceCounts() {
	for k := 1; ; k++ {
		clock := &fakeClock{now: time.Now()}
		l, _ := h.followSuite(clock, sessions.WithMaxSessions(1))
		user := uniqueUser("midrenew")
		a := l.login(user)
		reached, release := l.st.pause("renew", k)
		done := make(chan response, 1)
		go func() { done <- l.send("/renew", a.cookie(), "renew") }()
		select {
		case r := <-done:
			release()
			a.apply(r)
			return
		case <-reached:
		}
		infos, err := l.m.UserSessions(context.Background(), user)
		if err != nil || len(infos) != 1 {
			h.t.Errorf("Renew stopped at store call %d: UserSessions lists %d devices (%v), want 1", k, len(infos), err)
		}
		b := l.login(user)
		release()
		a.apply(<-done)
		if l.user(a.cookie()) != "" && l.user(b.cookie()) != "" {
			h.t.Errorf("Renew stopped at store call %d while another device logged in: 2 sessions live past a limit of 1", k)
		}
	}
}

// A Login committed with Commit survives a later failure in the same
// request: the error response still carries the new session's ID.
func (h *httpSuite) committedLoginSurvivesFailure() {
	clock := &fakeClock{now: time.Now()}
	l, _ := h.followSuite(clock)
	user := uniqueUser("committed")
	r := l.send("/login-fail?user="+user, "", "")
	if r.status != http.StatusInternalServerError {
		h.t.Errorf("a request that failed after its Login committed: status %d, want 500", r.status)
	}
	if r.id == "" || l.user(r.id) != user {
		h.t.Errorf("the error response after a committed Login carries ID %q, logged in as %q; want the new session", r.id, l.user(r.id))
	}
}

// DestroyOthers racing a Renew of the same session in another tab, each
// stopped at every store call in turn while the other runs, never ends the
// current device, and ends the other device whenever it found its session
// live.
func (h *httpSuite) destroyOthersRacingRenew() {
	for _, first := range []string{"others", "renew"} {
		for k := 1; ; k++ {
			if !h.othersRaceAt(first, k) {
				break
			}
		}
	}
}

// othersRaceAt runs one round of destroyOthersRacingRenew and reports
// whether first reached its k-th store call.
func (h *httpSuite) othersRaceAt(first string, k int) bool {
	clock := &fakeClock{now: time.Now()}
	l, _ := h.followSuite(clock)
	user := uniqueUser("othersrenew")
	me, other := l.login(user), l.login(user)
	x := me.cookie()
	paths := map[string]string{"others": "/others-report", "renew": "/renew"}
	second := map[string]string{"others": "renew", "renew": "others"}[first]
	reached, release := l.st.pause(first, k)
	defer release()
	bodies := map[string]string{}
	done := make(chan response, 1)
	go func() { done <- l.send(paths[first], x, first) }()
	select {
	case r := <-done:
		me.apply(r)
		return false
	case <-reached:
	}
	r := me.getAs(paths[second], x, second)
	bodies[second] = r.body
	release()
	bodies[first] = me.apply(<-done).body
	what := fmt.Sprintf("%s stopped at store call %d, %s ran meanwhile", first, k, second)
	if l.user(me.cookie()) != user {
		h.t.Errorf("%s: the current device was logged out", what)
	}
	if bodies["others"] == "ok "+user && l.user(other.cookie()) != "" {
		h.t.Errorf("%s: DestroyOthers found its session live and left the other device logged in", what)
	}
	return true
}
