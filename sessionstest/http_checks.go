package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sessionkit/sessions"
)

// G1: a request that read the session before a logout commits after it:
// its write is refused, it sends no cookie, and the old ID stays dead.
func (h *httpSuite) logoutSticksInFlight() {
	for _, action := range []string{"set", "clear", "renew"} {
		b := h.login(uniqueUser("g1"))
		x := b.cookie()
		done := make(chan response, 1)
		go func() { done <- h.send("/slow?do="+action, x, "") }()
		<-h.loaded
		b.get("/logout")
		h.proceed <- struct{}{}
		r := b.apply(<-done)
		if r.status != http.StatusOK || r.body != "refused" {
			h.t.Errorf("%s after logout: status %d body %q, want 200 and a refused write", action, r.status, r.body)
		}
		if r.id != "" {
			h.t.Errorf("%s after logout sent a session cookie", action)
		}
		h.expectAllEnded(action+" after logout", []string{x}, b)
	}
}

// G1 unsynchronised: a logout and a write race, in no forced order.
func (h *httpSuite) logoutSticksUnsynchronised() {
	for i := 0; i < h.rounds(500); i++ {
		b := h.login(uniqueUser("g1u"))
		x := b.cookie()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); jitter(); b.getAs("/logout", x, "") }()
		go func() { defer wg.Done(); b.getAs("/set?k=bg&v=1", x, "") }()
		wg.Wait()
		h.expectAllEnded(fmt.Sprintf("round %d", i), []string{x}, b)
		if h.t.Failed() {
			return
		}
	}
}

// G2 forced: the Renew is stopped at each of its store calls in turn while
// a logout with the old ID runs to the end, and the other way round; the
// browser applies the responses in the order they arrive.
func (h *httpSuite) renewRacingDestroyForced() {
	for _, first := range []string{"renew", "logout"} {
		for k := 1; ; k++ {
			if !h.raceAt(first, k, "/renew", "/logout") {
				break
			}
			if h.t.Failed() {
				return
			}
		}
	}
}

// raceAt logs a browser in, stops the request tagged first at its k-th
// store call, runs the other request to the end, then lets the first
// finish. It reports whether the first request reached its k-th call.
func (h *httpSuite) raceAt(first string, k int, renewPath, endPath string) bool {
	b := h.login(uniqueUser("g2"))
	x := b.cookie()
	h.st.takeReplaced()
	paths := map[string]string{"renew": renewPath, "logout": endPath}
	second := "logout"
	if first == "logout" {
		second = "renew"
	}
	reached, release := h.st.pause(first, k)
	defer release()
	done := make(chan response, 1)
	go func() { done <- h.send(paths[first], x, first) }()
	select {
	case <-reached:
	case r := <-done:
		b.apply(r)
		return false
	}
	b.getAs(paths[second], x, second)
	release()
	b.apply(<-done)
	h.expectAllEnded(fmt.Sprintf("%s stopped at store call %d, %s ran meanwhile", first, k, second), []string{x}, b)
	return true
}

// G2 unsynchronised: a Renew and a logout of one session race.
func (h *httpSuite) renewRacingDestroyUnsynchronised() {
	for i := 0; i < h.rounds(2000); i++ {
		b := h.login(uniqueUser("g2u"))
		x := b.cookie()
		h.st.takeReplaced()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); b.getAs("/renew", x, "") }()
		go func() { defer wg.Done(); jitter(); b.getAs("/logout", x, "") }()
		wg.Wait()
		h.expectAllEnded(fmt.Sprintf("round %d", i), []string{x}, b)
		if h.t.Failed() {
			return
		}
	}
}

// G3: requests that change different keys of one session all persist.
func (h *httpSuite) noLostUpdates() {
	b := h.newBrowser()
	b.get("/set?k=base&v=0")
	const n = 30
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.send(fmt.Sprintf("/set?k=k%d&v=%d", i, i), b.cookie(), "")
		}()
	}
	wg.Wait()
	rec, err := h.st.Read(context.Background(), handleOf(b.cookie()))
	if err != nil {
		h.t.Fatalf("reading the session: %v", err)
	}
	for i := 0; i < n; i++ {
		if got := string(rec[fmt.Sprintf("k%d", i)]); got != strconv.Quote(strconv.Itoa(i)) {
			h.t.Errorf("key k%d = %q after %d concurrent writes of different keys: lost", i, got, n)
		}
	}
}

// G12: DestroyUser ends the user's sessions, also those with a request in
// flight that read before and writes after.
func (h *httpSuite) destroyUserInFlight() {
	user := uniqueUser("g12")
	var bs []*browser
	var ids []string
	for i := 0; i < 5; i++ {
		b := h.login(user)
		bs, ids = append(bs, b), append(ids, b.cookie())
	}
	done := make(chan response, len(bs))
	for _, b := range bs {
		go func() { done <- h.send("/slow?do=set", b.cookie(), "") }()
		<-h.loaded
	}
	if err := h.m.DestroyUser(context.Background(), user); err != nil {
		h.t.Fatalf("DestroyUser: %v", err)
	}
	for range bs {
		h.proceed <- struct{}{}
	}
	for range bs {
		if r := <-done; r.body != "refused" || r.id != "" {
			h.t.Errorf("a request in flight during DestroyUser answered %q with cookie %v, want a refused write and none", r.body, r.id != "")
		}
	}
	h.expectAllEnded("after DestroyUser", ids, bs...)
	h.expectNoSessions(user)
}

// G12 forced: a Renew of one of the user's sessions is stopped at each of
// its store calls while DestroyUser runs, and the other way round.
func (h *httpSuite) destroyUserRacingRenewForced() {
	for _, first := range []string{"renew", "destroyuser"} {
		for k := 1; ; k++ {
			if !h.destroyUserAt(first, k) {
				break
			}
			if h.t.Failed() {
				return
			}
		}
	}
}

func (h *httpSuite) destroyUserAt(first string, k int) bool {
	user := uniqueUser("g12f")
	b, other := h.login(user), h.login(user)
	x := b.cookie()
	h.st.takeReplaced()
	destroy := func() {
		ctx := tagged(context.Background(), "destroyuser")
		if err := h.m.DestroyUser(ctx, user); err != nil {
			h.t.Errorf("DestroyUser: %v", err)
		}
	}
	reached, release := h.st.pause(first, k)
	defer release()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if first == "renew" {
			b.getAs("/renew", x, "renew")
		} else {
			destroy()
		}
	}()
	select {
	case <-reached:
	case <-done:
		return false
	}
	if first == "renew" {
		destroy()
	} else {
		b.getAs("/renew", x, "renew")
	}
	release()
	<-done
	h.expectAllEnded(fmt.Sprintf("%s stopped at store call %d", first, k), []string{x, other.cookie()}, b, other)
	h.expectNoSessions(user)
	return true
}

// G12 unsynchronised: requests of five sessions of one user (reads, writes,
// renewals) race with DestroyUser.
func (h *httpSuite) destroyUserUnsynchronised() {
	for i := 0; i < h.rounds(300); i++ {
		user := uniqueUser("g12u")
		var bs []*browser
		var ids []string
		for j := 0; j < 5; j++ {
			b := h.login(user)
			bs, ids = append(bs, b), append(ids, b.cookie())
		}
		var wg sync.WaitGroup
		for j, b := range bs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := [...]string{"/set?k=bg&v=1", "/renew", "/whoami", "/renew", "/set?k=x&v=2"}[j]
				b.getAs(path, ids[j], "")
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			jitter()
			if err := h.m.DestroyUser(context.Background(), user); err != nil {
				h.t.Errorf("DestroyUser: %v", err)
			}
		}()
		wg.Wait()
		h.expectAllEnded(fmt.Sprintf("round %d", i), ids, bs...)
		if h.t.Failed() {
			return
		}
	}
}

// expectNoSessions checks that UserSessions lists none of user's sessions.
func (h *httpSuite) expectNoSessions(user string) {
	h.t.Helper()
	infos, err := h.m.UserSessions(context.Background(), user)
	if err != nil {
		h.t.Errorf("UserSessions: %v", err)
	}
	if len(infos) != 0 {
		h.t.Errorf("UserSessions lists %d sessions of a user logged out everywhere", len(infos))
	}
}

// DestroyOthers ends every other session of the user, one in flight too,
// and keeps the current one.
func (h *httpSuite) destroyOthers() {
	user := uniqueUser("others")
	me, b, c := h.login(user), h.login(user), h.login(user)
	stranger := h.login(uniqueUser("stranger"))
	done := make(chan response, 1)
	go func() { done <- h.send("/slow?do=set", b.cookie(), "") }()
	<-h.loaded
	if r := me.get("/others"); r.status != http.StatusOK {
		h.t.Fatalf("DestroyOthers: status %d", r.status)
	}
	h.proceed <- struct{}{}
	if r := <-done; r.body != "refused" {
		h.t.Errorf("a request in flight on another session answered %q after DestroyOthers, want a refused write", r.body)
	}
	if h.user(me.cookie()) != user {
		h.t.Error("DestroyOthers ended the current session")
	}
	if h.user(stranger.cookie()) == "" {
		h.t.Error("DestroyOthers ended another user's session")
	}
	h.st.takeReplaced()
	h.expectAllEnded("after DestroyOthers", []string{b.cookie(), c.cookie()}, b, c)
	infos, err := h.m.UserSessions(context.Background(), user)
	if err != nil || len(infos) != 1 || infos[0].Handle != handleOf(me.cookie()) {
		h.t.Errorf("UserSessions after DestroyOthers = %v, %v; want only the current session", infos, err)
	}
}

// DestroySession ends one session of the user, and refuses a handle that
// is not one of the user's.
func (h *httpSuite) destroySession() {
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	a1, a2, b1 := h.login(alice), h.login(alice), h.login(bob)
	ctx := context.Background()
	if err := h.m.DestroySession(ctx, alice, handleOf(b1.cookie())); !errors.Is(err, sessions.ErrNotFound) {
		h.t.Errorf("DestroySession of another user's handle gave %v, want ErrNotFound", err)
	}
	if h.user(b1.cookie()) != bob {
		h.t.Error("DestroySession ended another user's session")
	}
	if err := h.m.DestroySession(ctx, alice, handleOf(a2.cookie())); err != nil {
		h.t.Errorf("DestroySession: %v", err)
	}
	if h.user(a2.cookie()) != "" || h.user(a1.cookie()) != alice {
		h.t.Error("DestroySession did not end exactly the session it named")
	}
	if err := h.m.DestroySession(ctx, alice, handleOf(a2.cookie())); !errors.Is(err, sessions.ErrNotFound) {
		h.t.Errorf("DestroySession of an ended session gave %v, want ErrNotFound", err)
	}
}

// Two first Logins of one user, the first stopped at each of its store
// calls in turn while the second runs to the end: both land in the index.
func (h *httpSuite) firstLoginsForced() {
	for k := 1; ; k++ {
		user := uniqueUser("first")
		reached, release := h.st.pause("a", k)
		done := make(chan response, 1)
		go func() { done <- h.send("/login?user="+user, "", "a") }()
		select {
		case <-reached:
		case <-done:
			release()
			return
		}
		b := h.send("/login?user="+user, "", "b")
		release()
		a := <-done
		infos, err := h.m.UserSessions(context.Background(), user)
		if err != nil || len(infos) != 2 {
			h.t.Fatalf("login a stopped at store call %d, login b ran meanwhile: UserSessions lists %d sessions (%v), want both", k, len(infos), err)
		}
		if h.user(a.id) != user || h.user(b.id) != user {
			h.t.Fatalf("login a stopped at store call %d: a session is not logged in", k)
		}
	}
}

// Concurrent first Logins of one user on many goroutines all land in the
// index: DestroyUser afterwards reaches every one.
func (h *httpSuite) concurrentLogins() {
	user := uniqueUser("many")
	const n = 20
	bs := make([]*browser, n)
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() { defer wg.Done(); bs[i] = h.newBrowser(); bs[i].get("/login?user=" + user) }()
	}
	wg.Wait()
	infos, err := h.m.UserSessions(context.Background(), user)
	if err != nil || len(infos) != n {
		h.t.Errorf("UserSessions after %d concurrent Logins lists %d sessions (%v), want all", n, len(infos), err)
	}
	if err := h.m.DestroyUser(context.Background(), user); err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.cookie())
	}
	h.st.takeReplaced()
	h.expectAllEnded("DestroyUser after concurrent Logins", ids, bs...)
}

// WithMaxSessions: however many Logins race, no more than the limit stay
// live once they have all committed.
func (h *httpSuite) maxSessions() {
	const limit = 3
	l := newHTTPSuite(h.t, h.st.Store, h.cfg, sessions.WithMaxSessions(limit))
	user := uniqueUser("limit")
	for i := 0; i < limit; i++ {
		l.login(user)
	}
	var wg sync.WaitGroup
	bs := make([]*browser, 8)
	for i := range bs {
		wg.Add(1)
		go func() { defer wg.Done(); bs[i] = l.newBrowser(); bs[i].get("/login?user=" + user) }()
	}
	wg.Wait()
	infos, err := l.m.UserSessions(context.Background(), user)
	if err != nil || len(infos) > limit {
		h.t.Errorf("UserSessions after concurrent Logins past a limit of %d lists %d (%v)", limit, len(infos), err)
	}
	liveBrowsers := 0
	for _, b := range bs {
		if l.user(b.cookie()) != "" {
			liveBrowsers++
		}
	}
	if liveBrowsers > limit {
		h.t.Errorf("%d browsers are logged in after concurrent Logins past a limit of %d", liveBrowsers, limit)
	}
	// Logins one after another: each past the limit ends the least
	// recently active other session, and the new one stays.
	var last *browser
	for i := 0; i <= limit; i++ {
		last = l.login(user)
	}
	if infos, _ = l.m.UserSessions(context.Background(), user); len(infos) != limit || l.user(last.cookie()) != user {
		h.t.Errorf("Logins one after another past a limit of %d left %d sessions, the newest live: %v", limit, len(infos), l.user(last.cookie()) == user)
	}
}

// UserSessions lists the live sessions only: not one destroyed, nor the old
// ID of one renewed, nor one expired; and the index drops expired entries.
func (h *httpSuite) userSessionsLive() {
	clock := &fakeClock{now: time.Now()}
	l := newHTTPSuite(h.t, h.st.Store, h.cfg, sessions.WithClock(clock.Now), sessions.WithLifetime(time.Hour))
	user := uniqueUser("devices")
	kept, renewed, ended := l.login(user), l.login(user), l.login(user)
	old := renewed.cookie()
	renewed.get("/renew")
	ended.get("/logout")
	infos, err := l.m.UserSessions(context.Background(), user)
	got := map[string]bool{}
	for _, in := range infos {
		got[in.Handle] = true
		if in.UserID != user || in.Created.IsZero() || in.LastActive.IsZero() {
			h.t.Errorf("SessionInfo %+v lacks its user or times", in)
		}
	}
	if err != nil || len(infos) != 2 || !got[handleOf(kept.cookie())] || !got[handleOf(renewed.cookie())] || got[handleOf(old)] {
		h.t.Errorf("UserSessions = %+v (%v), want exactly the kept and the renewed session", infos, err)
	}
	clock.Advance(2 * time.Hour)
	if infos, _ := l.m.UserSessions(context.Background(), user); len(infos) != 0 {
		h.t.Errorf("UserSessions lists %d sessions past their lifetime", len(infos))
	}
	fresh := l.login(user)
	rec, err := h.st.Read(context.Background(), userKey(user))
	if err != nil || len(rec) != 1 || rec[handleOf(fresh.cookie())] == nil {
		h.t.Errorf("the index after a Login past every old session's lifetime holds %d entries (%v), want only the new one", len(rec), err)
	}
}

// fakeClock is a clock for WithClock that moves only when advanced.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
