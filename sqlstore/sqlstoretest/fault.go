//go:build unix

package sqlstoretest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// faultApp is an HTTP server on a Manager over the store under test, which
// counts the panics of its handlers and the failures that reach the
// Manager's error handler.
type faultApp struct {
	t       *testing.T
	srv     *httptest.Server
	cookie  string // the session cookie's name
	panics  atomic.Int64
	handled atomic.Int64
}

func newFaultApp(t *testing.T, store sessions.Store) *faultApp {
	a := &faultApp{t: t}
	m := sessions.New(store,
		// A bound on a hang only: a stopped database refuses at once, and a
		// commit on a loaded machine may take a while.
		sessions.WithCommitTimeout(5*time.Second),
		sessions.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		sessions.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			a.handled.Add(1)
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		}),
	)
	a.cookie = m.CookieName()
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Set("v", r.URL.Query().Get("v"))
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, sessions.Get(r).GetString("v"))
	})
	mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Set("n", s.GetInt("n")+1)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Destroy()
		io.WriteString(w, "ok")
	})
	h := m.Handler(mux)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.panics.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// do sends a request carrying session cookie id (none when empty), and
// returns the status, the body, and the session ID the response set ("" for
// none, "-" for a deleting cookie).
func (a *faultApp) do(path, id string) (int, string, string) {
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if id != "" {
		req.AddCookie(&http.Cookie{Name: a.cookie, Value: id})
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error(), ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	set := ""
	for _, c := range resp.Cookies() {
		if c.Name == a.cookie {
			set = c.Value
			if c.MaxAge < 0 || c.Value == "" {
				set = "-"
			}
		}
	}
	return resp.StatusCode, string(body), set
}

// mustSession creates a session holding v and returns its ID.
func (a *faultApp) mustSession(v string) string {
	code, body, id := a.do("/set?v="+url.QueryEscape(v), "")
	if code != http.StatusOK || id == "" || id == "-" {
		a.t.Fatalf("creating a session: status %d, body %q, cookie %q", code, body, id)
	}
	return id
}

// mustLogout destroys the session id, answered 200.
func (a *faultApp) mustLogout(id string) {
	if code, body, _ := a.do("/logout", id); code != http.StatusOK {
		a.t.Fatalf("logout: status %d, body %q", code, body)
	}
}

// expectLoggedOut checks that the destroyed session id can neither be read
// nor written again.
func (a *faultApp) expectLoggedOut(id, what string) {
	a.t.Helper()
	if code, body, _ := a.do("/get", id); code != http.StatusOK || body != "" {
		a.t.Errorf("%s: a read with the destroyed ID gave status %d, body %q, want 200 and no value", what, code, body)
	}
	a.do("/set?v=mallory", id)
	if _, body, _ := a.do("/get", id); body != "" {
		a.t.Errorf("%s: a write with the destroyed ID brought the session back: it reads %q", what, body)
	}
}

// loadResult counts the responses of the load.
type loadResult struct {
	ok, unavailable, other, afterRestart atomic.Int64
}

// runLoad runs workers that each increment a counter of their own session
// until stop is closed. restarted is closed once the database is up again.
func (a *faultApp) runLoad(workers int, stop, restarted <-chan struct{}) (*loadResult, *sync.WaitGroup) {
	res := &loadResult{}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := ""
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _, set := a.do("/inc", id)
				if set != "" && set != "-" {
					id = set
				}
				switch code {
				case http.StatusOK:
					res.ok.Add(1)
					select {
					case <-restarted:
						res.afterRestart.Add(1)
					default:
					}
				case http.StatusServiceUnavailable:
					res.unavailable.Add(1)
					time.Sleep(10 * time.Millisecond)
				default:
					res.other.Add(1)
				}
			}
		}()
	}
	return res, &wg
}

// RunRestartFault crashes the database under load with stop, brings it back
// with start, and checks that no handler panics, that failures reach the
// error handler, that service resumes, and that logouts answered 200 before
// the crash still hold after it.
func RunRestartFault(t *testing.T, store sessions.Store, stop, start func()) {
	a := newFaultApp(t, store)
	early := a.mustSession("early")
	a.mustLogout(early)
	quit, restarted := make(chan struct{}), make(chan struct{})
	res, wg := a.runLoad(8, quit, restarted)
	time.Sleep(300 * time.Millisecond)
	late := a.mustSession("late")
	a.mustLogout(late)
	stop()
	time.Sleep(500 * time.Millisecond)
	start()
	close(restarted)
	resumed := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, _, _ := a.do("/inc", ""); code == http.StatusOK {
			resumed = true
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(quit)
	wg.Wait()
	t.Logf("load: %d answered 200, %d answered 503 through the error handler (%d failures handled), %d other; %d answered 200 after the restart",
		res.ok.Load(), res.unavailable.Load(), a.handled.Load(), res.other.Load(), res.afterRestart.Load())
	if !resumed || res.afterRestart.Load() == 0 {
		t.Errorf("service did not resume within 30 s of the database's restart")
	}
	if n := a.panics.Load(); n != 0 {
		t.Errorf("%d handlers panicked", n)
	}
	if a.handled.Load() == 0 || res.unavailable.Load() == 0 {
		t.Errorf("no failure reached the error handler while the database was down")
	}
	if n := res.other.Load(); n != 0 {
		t.Errorf("%d responses were neither 200 nor the error handler's 503", n)
	}
	a.expectLoggedOut(early, "a logout answered 200 well before the restart")
	a.expectLoggedOut(late, "a logout answered 200 just before the crash")
}
