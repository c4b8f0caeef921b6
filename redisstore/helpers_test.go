package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// newSessionID returns a fresh, well-formed session ID, as the Manager makes
// them: 32 random bytes in unpadded base64url.
func newSessionID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleOf returns the handle of the session with ID id, the id its store
// is given: the lowercase hex SHA-256 of the ID (see Session.Handle).
func handleOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// testID returns a fresh id of the form the Manager gives a store: the
// handle of a new session ID.
func testID(t testing.TB) string {
	t.Helper()
	return handleOf(newSessionID(t))
}

// ignore returns nil when err is want, and an error otherwise.
func ignore(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("got nil, want %v", want)
	}
	return err
}

// testClock is a settable clock for sessions.WithClock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// run serves one request carrying the session id through m with f as the
// handler, and returns the recorded response and the session's ID after it.
func run(m *sessions.Manager, id string, f func(s *sessions.Session)) (*httptest.ResponseRecorder, string) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if id != "" {
		r.Header.Set("Cookie", m.CookieName()+"="+id)
	}
	w := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f(sessions.Get(r))
	})).ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge >= 0 {
			return w, c.Value
		}
	}
	return w, id
}

// loginAs logs a new session in as user and returns its ID.
func loginAs(t *testing.T, m *sessions.Manager, user string) string {
	t.Helper()
	_, id := run(m, "", func(s *sessions.Session) { s.Login(user) })
	if id == "" {
		t.Fatal("Login set no cookie")
	}
	return id
}

// live reports whether st holds the session with ID id as live.
func live(t *testing.T, st sessions.Store, id string) bool {
	t.Helper()
	_, err := st.Read(context.Background(), handleOf(id))
	if err != nil && !errors.Is(err, sessions.ErrNotFound) {
		t.Fatal(err)
	}
	ok := err == nil
	return ok
}

// logBuffer collects log records for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serve starts a test server running h under m.
func serve(t *testing.T, m *sessions.Manager, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(m.Handler(h))
	t.Cleanup(srv.Close)
	return srv
}

// client talks to a test server and carries one session cookie by hand (a
// Secure cookie, the default, is one net/http/cookiejar withholds on http).
type client struct {
	t    *testing.T
	url  string
	name string
	id   string
}

func newClient(t *testing.T, srv *httptest.Server, m *sessions.Manager) *client {
	return &client{t: t, url: srv.URL, name: m.CookieName()}
}

// result is what a request returned.
type result struct {
	status    int
	body      string
	setCookie []string
}

// get sends a GET with the client's cookie and applies the response's
// cookie to the client, as a browser would.
func (c *client) get(path string) result {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.id != "" {
		req.Header.Set("Cookie", c.name+"="+c.id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Name != c.name:
		case ck.MaxAge < 0:
			c.id = ""
		default:
			c.id = ck.Value
		}
	}
	return result{status: resp.StatusCode, body: string(b), setCookie: resp.Header.Values("Set-Cookie")}
}
