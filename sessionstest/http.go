package sessionstest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// RunHTTP checks the guarantees of package sessions over real HTTP, with a
// Manager on the Store that newStore returns: a logout sticks against
// requests in flight (G1); a Renew or Login racing a Destroy, in every
// order the suite can force and in unsynchronised rounds, ends the session
// (G2); concurrent requests that change different keys all persist (G3); and
// log-out-everywhere, DestroyOthers, DestroySession, concurrent Logins, the
// session limit and UserSessions hold under the same races (G12). Run it
// under -race. newStore is called once per check and must return an empty
// store (or one whose other contents do not matter: every check uses fresh
// IDs and users).
//
// The Manager logs through each check's t.Log, so `go test` shows its log
// for a failing check, or with -v, and keeps the output of passing checks
// clean however much a store's failures make it log.
//
// Options: Rounds scales the unsynchronised rounds (default 1, the full
// count; testing.Short() divides them by 20).
func RunHTTP(t *testing.T, newStore func(t *testing.T) sessions.Store, opts ...Option) {
	t.Helper()
	c := config{wait: time.Sleep, rounds: 1}
	for _, opt := range opts {
		opt(&c)
	}
	for _, tc := range httpChecks {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			if st == nil {
				t.Fatal("newStore returned a nil Store")
			}
			tc.run(newHTTPSuite(t, st, c))
		})
	}
}

// Header makes RunHTTP carry the session ID in the request and response
// header name (sessions.WithHeader) instead of a cookie.
func Header(name string) Option {
	return func(c *config) { c.header = http.CanonicalHeaderKey(name) }
}

// Rounds multiplies the number of unsynchronised rounds of RunHTTP by f
// (default 1). A slow store may pass 0.1; at least one round always runs.
func Rounds(f float64) Option {
	return func(c *config) { c.rounds = f }
}

var httpChecks = []struct {
	name string
	run  func(*httpSuite)
}{
	{"LogoutSticksAgainstRequestInFlight", (*httpSuite).logoutSticksInFlight},
	{"LogoutSticksUnsynchronised", (*httpSuite).logoutSticksUnsynchronised},
	{"RenewRacingDestroyForced", (*httpSuite).renewRacingDestroyForced},
	{"RenewRacingDestroyUnsynchronised", (*httpSuite).renewRacingDestroyUnsynchronised},
	{"NoLostUpdatesAcrossKeys", (*httpSuite).noLostUpdates},
	{"DestroyUserEndsRequestsInFlight", (*httpSuite).destroyUserInFlight},
	{"DestroyUserRacingRenewForced", (*httpSuite).destroyUserRacingRenewForced},
	{"DestroyUserUnsynchronised", (*httpSuite).destroyUserUnsynchronised},
	{"DestroyOthersKeepsThisSession", (*httpSuite).destroyOthers},
	{"DestroySessionOfOneUserOnly", (*httpSuite).destroySession},
	{"FirstLoginsForced", (*httpSuite).firstLoginsForced},
	{"ConcurrentLoginsAllIndexed", (*httpSuite).concurrentLogins},
	{"MaxSessionsHoldsUnderConcurrentLogins", (*httpSuite).maxSessions},
	{"UserSessionsListsOnlyLiveSessions", (*httpSuite).userSessionsLive},
	// Following renewals without a clock (http_follow.go).
	{"SlowLogoutEndsRenewal", (*httpSuite).slowLogoutEndsRenewal},
	{"LogoutBeforeDelayedRenewal", (*httpSuite).logoutBeforeDelayedRenewal},
	{"PlantedIDCannotEndPresentedLogin", (*httpSuite).plantedIDCannotEndPresentedLogin},
	{"LogoutOfUnknownIDWritesNothing", (*httpSuite).logoutOfUnknownIDWritesNothing},
	{"DestroySessionFollowsRenewal", (*httpSuite).destroySessionFollowsRenewal},
	{"DestroyUserTriesEverySession", (*httpSuite).destroyUserTriesEverySession},
	{"IndexCostsFollowLiveSessions", (*httpSuite).indexCostsFollowLiveSessions},
	{"RenewingDeviceCountsOnce", (*httpSuite).renewingDeviceCounts},
	{"CommittedLoginSurvivesFailure", (*httpSuite).committedLoginSurvivesFailure},
	{"DestroyOthersRacingRenew", (*httpSuite).destroyOthersRacingRenew},
}

// rounds returns n scaled by the Rounds option and testing.Short.
func (h *httpSuite) rounds(n int) int {
	f := h.cfg.rounds
	if testing.Short() {
		f /= 20
	}
	return max(1, int(float64(n)*f))
}

// UserKey returns the store key of userID's index, as the Manager writes it.
func userKey(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "u:" + hex.EncodeToString(sum[:])
}

// handleOf returns the handle of a session ID.
func handleOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

type tagKey struct{}

// tagged returns ctx marked with tag, which pausingStore matches.
func tagged(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, tagKey{}, tag)
}

// pausingStore wraps a Store: it can stop the calls of one tagged request
// at its k-th store call until released, and it records the keys of every
// whole record written (Replace), so that a check can look for sessions
// left live.
type pausingStore struct {
	sessions.Store
	mu       sync.Mutex
	tag      string
	at, n    int
	reached  chan struct{}
	release  chan struct{}
	replaced []string
}

// pause stops the k-th store call of the request tagged tag. It returns a
// channel closed when that call is reached.
func (p *pausingStore) pause(tag string, k int) (reached <-chan struct{}, release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tag, p.at, p.n = tag, k, 0
	p.reached, p.release = make(chan struct{}), make(chan struct{})
	rel := p.release
	var once sync.Once
	return p.reached, func() { once.Do(func() { close(rel) }) }
}

func (p *pausingStore) step(ctx context.Context) {
	tag, _ := ctx.Value(tagKey{}).(string)
	p.mu.Lock()
	if tag == "" || tag != p.tag {
		p.mu.Unlock()
		return
	}
	p.n++
	if p.n != p.at {
		p.mu.Unlock()
		return
	}
	reached, release := p.reached, p.release
	p.mu.Unlock()
	close(reached)
	<-release
}

func (p *pausingStore) Read(ctx context.Context, id string) (sessions.Record, error) {
	p.step(ctx)
	return p.Store.Read(ctx, id)
}

func (p *pausingStore) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	p.step(ctx)
	if ch.Mode == sessions.ModeReplace {
		p.mu.Lock()
		p.replaced = append(p.replaced, id)
		p.mu.Unlock()
	}
	return p.Store.Write(ctx, id, ch, ttl)
}

func (p *pausingStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	p.step(ctx)
	return p.Store.Remove(ctx, id, ttl)
}

// takeReplaced returns the keys written with Replace since the last call.
func (p *pausingStore) takeReplaced() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.replaced
	p.replaced = nil
	return out
}

// httpSuite is one check's server: a Manager on the store under test,
// behind the suite's application.
type httpSuite struct {
	t   *testing.T
	cfg config
	st  *pausingStore
	m   *sessions.Manager
	url string
	// slow requests report on loaded once they have read their session,
	// then wait for proceed.
	loaded  chan string
	proceed chan struct{}
}

func newHTTPSuite(t *testing.T, st sessions.Store, c config, opts ...sessions.Option) *httpSuite {
	h := &httpSuite{t: t, cfg: c, st: &pausingStore{Store: st},
		loaded: make(chan string, 64), proceed: make(chan struct{})}
	base := []sessions.Option{sessions.WithCookieSecure(false), sessions.WithLogger(testLogger(t))}
	if c.header != "" {
		base = append(base, sessions.WithHeader(c.header))
	}
	h.m = sessions.New(h.st, append(base, opts...)...)
	srv := httptest.NewServer(tagRequests(h.m.Handler(h.app())))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// testLogger returns a logger that writes each record, at every level, as
// one t.Log line: `go test` shows them only for a failing test or with -v.
// Records that come after the test has ended, when t.Log would panic, are
// dropped.
func testLogger(t testing.TB) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(w.end)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		// t.Log has a time of its own under -v; the record's would be noise.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// testLogWriter passes what a slog.TextHandler writes, one record a Write,
// to t.Log.
type testLogWriter struct {
	t     testing.TB
	mu    sync.Mutex
	ended bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// end stops the logging, as the test ends.
func (w *testLogWriter) end() {
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
}

// tagRequests marks each request's context with its X-Test-Tag header.
func tagRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tag := r.Header.Get("X-Test-Tag"); tag != "" {
			r = r.WithContext(tagged(r.Context(), tag))
		}
		next.ServeHTTP(w, r)
	})
}

// app is the application the checks drive:
//
//	/login?user=U     Login(U)
//	/renew            Renew
//	/whoami           "<user>|<value of k>"
//	/set?k=K&v=V      Set without reading
//	/logout           Destroy
//	/others           DestroyOthers
//	/slow?do=ACTION   reads, reports on loaded, waits for proceed, then does
//	                  ACTION (set, clear, renew, destroy) and Commits: the
//	                  body is "refused" when the store refused the write
func (h *httpSuite) app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Login(r.URL.Query().Get("user"))
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Renew() })
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		fmt.Fprintf(w, "%s|%s", s.UserID(), s.GetString("k"))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Destroy() })
	mux.HandleFunc("/others", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).DestroyOthers() })
	mux.HandleFunc("/slow", h.slow)
	return mux
}

func (h *httpSuite) slow(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	user := s.UserID()
	h.loaded <- user
	<-h.proceed
	switch r.URL.Query().Get("do") {
	case "set":
		s.Set("bg", "1")
	case "clear":
		s.Clear()
		s.Set("bg", "1")
	case "renew":
		s.Renew()
	case "destroy":
		s.Destroy()
	}
	if err := s.Commit(); err != nil {
		io.WriteString(w, "refused")
		return
	}
	io.WriteString(w, "ok "+user)
}

// response is what one request returned.
type response struct {
	status int
	body   string
	id     string // the session ID the response set
	ended  bool   // the response deleted the cookie
}

// send makes a request carrying the session ID id ("" for none), tagged
// with tag ("" for none). It is safe to call from any goroutine.
func (h *httpSuite) send(path, id, tag string) response {
	req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
	if err != nil {
		h.t.Error(err)
		return response{}
	}
	switch {
	case id == "":
	case h.cfg.header == "Authorization":
		req.Header.Set("Authorization", "Bearer "+id)
	case h.cfg.header != "":
		req.Header.Set(h.cfg.header, id)
	default:
		req.AddCookie(&http.Cookie{Name: h.m.CookieName(), Value: id})
	}
	if tag != "" {
		req.Header.Set("X-Test-Tag", tag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Error(err)
		return response{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, body: string(b)}
	if h.cfg.header != "" {
		if v, ok := resp.Header[h.cfg.header]; ok {
			out.id = strings.TrimPrefix(v[0], "Bearer ")
			out.ended = out.id == ""
		}
		return out
	}
	for _, c := range resp.Cookies() {
		if c.Name == h.m.CookieName() {
			out.id, out.ended = c.Value, c.MaxAge < 0
		}
	}
	return out
}

// browser is one browser's cookie jar for the session: it applies each
// response's Set-Cookie in the order the responses arrive.
type browser struct {
	h  *httpSuite
	mu sync.Mutex
	id string
}

func (h *httpSuite) newBrowser() *browser { return &browser{h: h} }

func (b *browser) cookie() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id
}

// apply takes a response's cookie, as a browser does on arrival.
func (b *browser) apply(r response) response {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case r.ended:
		b.id = ""
	case r.id != "":
		b.id = r.id
	}
	return r
}

// get sends path with the browser's cookie and applies the response.
func (b *browser) get(path string) response { return b.apply(b.h.send(path, b.cookie(), "")) }

// getAs is get with the cookie id, the one the browser held when the
// request started, and tag.
func (b *browser) getAs(path, id, tag string) response { return b.apply(b.h.send(path, id, tag)) }

// login logs a new browser in as user and returns it.
func (h *httpSuite) login(user string) *browser {
	h.t.Helper()
	b := h.newBrowser()
	if r := b.get("/login?user=" + user); r.status != http.StatusOK || b.cookie() == "" {
		h.t.Fatalf("log in as %q: status %d, cookie %q", user, r.status, b.cookie())
	}
	return b
}

// user returns the user a request with id sees ("" for none).
func (h *httpSuite) user(id string) string {
	if id == "" {
		return ""
	}
	u, _, _ := strings.Cut(h.send("/whoami", id, "").body, "|")
	return u
}

// live reports whether the store holds a live session under the ID id.
func (h *httpSuite) live(id string) bool {
	ok, err := has(context.Background(), h.st, handleOf(id))
	if err != nil {
		h.t.Errorf("Exists: %v", err)
	}
	return ok
}

// expectAllEnded checks that no session written since the last call, and
// none of ids, is live, and that the browsers hold no live session.
func (h *httpSuite) expectAllEnded(what string, ids []string, browsers ...*browser) {
	h.t.Helper()
	for _, key := range h.st.takeReplaced() {
		if ok, _ := has(context.Background(), h.st, key); ok {
			h.t.Errorf("%s: session %.12s written meanwhile is still live in the store", what, key)
		}
	}
	for _, id := range ids {
		if id != "" && h.live(id) {
			h.t.Errorf("%s: session %.12s is still live", what, handleOf(id))
		}
	}
	for i, b := range browsers {
		if u := h.user(b.cookie()); u != "" {
			h.t.Errorf("%s: browser %d is still logged in as %q", what, i, u)
		}
	}
}

// jitter sleeps between 0 and 200 microseconds.
func jitter() { time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) }

// uniqueUser returns a user ID no other check uses.
func uniqueUser(prefix string) string { return fmt.Sprintf("%s-%d", prefix, rand.Uint64()) }
