package filestore

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

func TestHTTP(t *testing.T) {
	runHTTP(t, func(t *testing.T) sessions.Store { return newTestStore(t) })
}

// runHTTP checks, over real HTTP through a Manager, the two races a store
// decides: a logout that a slower request of the same session must not
// undo, and two requests that change different keys at once.
func runHTTP(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Run("LogoutSticks", func(t *testing.T) { logoutSticks(t, newStore(t)) })
	t.Run("ConcurrentKeysPersist", func(t *testing.T) { concurrentKeysPersist(t, newStore(t)) })
}

// app serves /login (sets user=alice), /logout (Destroy), /get?key=K (the
// value of K) and /slow?key=K, which loads the session, sends on loaded,
// waits for proceed to close, then sets K=1.
func app(loaded chan<- struct{}, proceed <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		key := r.URL.Query().Get("key")
		switch r.URL.Path {
		case "/login":
			s.Set("user", "alice")
		case "/logout":
			s.Destroy()
		case "/get":
			io.WriteString(w, s.GetString(key))
		case "/slow":
			s.GetString("user")
			loaded <- struct{}{}
			<-proceed
			s.Set(key, "1")
		}
	})
}

type httpEnv struct {
	t     *testing.T
	store sessions.Store
	name  string
	url   string
}

func newHTTPEnv(t *testing.T, store sessions.Store, loaded chan<- struct{}, proceed <-chan struct{}) *httpEnv {
	m := sessions.New(store)
	srv := httptest.NewServer(m.Handler(app(loaded, proceed)))
	t.Cleanup(srv.Close)
	return &httpEnv{t: t, store: store, name: m.CookieName(), url: srv.URL}
}

// get requests path with the session ID id ("" for none) and returns the
// body and the session cookie the response set, if any.
func (e *httpEnv) get(path, id string) (body string, set *http.Cookie) {
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Error(err)
		return "", nil
	}
	if id != "" {
		req.AddCookie(&http.Cookie{Name: e.name, Value: id})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return "", nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		e.t.Errorf("GET %s: status %d, want 200", path, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == e.name {
			set = c
		}
	}
	return string(b), set
}

func (e *httpEnv) login() string {
	_, c := e.get("/login", "")
	if c == nil || c.Value == "" {
		e.t.Fatal("/login set no session cookie")
	}
	return c.Value
}

// logoutSticks is the race in which most session libraries bring a logged
// out session back: request B loads the session, request A logs out, then
// B writes. B's write must be refused, with no Set-Cookie, and the old ID
// must stay dead.
func logoutSticks(t *testing.T, store sessions.Store) {
	loaded, proceed := make(chan struct{}), make(chan struct{})
	e := newHTTPEnv(t, store, loaded, proceed)
	x := e.login()
	type response struct{ set *http.Cookie }
	b := make(chan response, 1)
	go func() {
		_, set := e.get("/slow?key=bg", x)
		b <- response{set}
	}()
	<-loaded
	if _, set := e.get("/logout", x); set == nil || set.MaxAge >= 0 {
		t.Fatalf("/logout sent %v, want a cookie with Max-Age=0", set)
	}
	close(proceed)
	if res := <-b; res.set != nil {
		t.Errorf("request B, which wrote after the logout, sent Set-Cookie %v; want none", res.set)
	}
	h := testID(x)
	if ok, err := store.Exists(bg, h); ok || err != nil {
		t.Errorf("after the logout and B's write, Exists gave %v, %v; want false, nil", ok, err)
	}
	if err := store.Write(bg, h, sessions.Change{Set: sessions.Record{"user": []byte(`"alice"`)}}, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
		t.Errorf("a Write under the logged out ID gave %v, want ErrInvalidated", err)
	}
	if user, _ := e.get("/get?key=user", x); user != "" {
		t.Errorf("the logged out ID still reads user %q", user)
	}
}

// concurrentKeysPersist sends two requests that both load the session
// before either writes, each setting its own key: both keys must persist.
func concurrentKeysPersist(t *testing.T, store sessions.Store) {
	loaded, proceed := make(chan struct{}), make(chan struct{})
	e := newHTTPEnv(t, store, loaded, proceed)
	x := e.login()
	done := make(chan struct{}, 2)
	for _, key := range []string{"a", "b"} {
		go func() {
			e.get("/slow?key="+key, x)
			done <- struct{}{}
		}()
	}
	<-loaded
	<-loaded
	close(proceed)
	<-done
	<-done
	for _, key := range []string{"a", "b", "user"} {
		if v, _ := e.get("/get?key="+key, x); v == "" {
			t.Errorf("key %q was lost: two requests that changed different keys must both persist", key)
		}
	}
}
