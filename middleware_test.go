package sessions

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStoreCallsPerRequest counts the store calls of each kind of request
// (G4): untouched 0, read-only 1 read, modified 1 read and 1 write, new 1
// write, Destroy 1 remove, Renew 1 read, 1 remove and 1 write.
func TestStoreCallsPerRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		st := &countingStore{Store: newStore(t)}
		clock := newTestClock()
		m := New(st, WithIdleTimeout(30*time.Minute), WithTouchInterval(time.Minute), WithClock(clock.Now))
		srv := serve(t, m, appHandler())
		c := newClient(t, srv, m)

		steps := []struct {
			name  string
			path  string
			tick  time.Duration
			want  counts
			setsC bool
		}{
			{"new session write", "/set?k=a&v=1", 0, counts{0, 1, 0}, true},
			{"untouched", "/none", 0, counts{0, 0, 0}, false},
			{"read-only", "/get?k=a", 0, counts{1, 0, 0}, false},
			{"read-only inside touch interval", "/get?k=a", 30 * time.Second, counts{1, 0, 0}, false},
			{"read-only after touch interval", "/get?k=a", 45 * time.Second, counts{1, 1, 0}, false},
			{"read-only right after a touch", "/get?k=a", time.Second, counts{1, 0, 0}, false},
			{"write-only", "/set?k=b&v=2", 0, counts{0, 1, 0}, false},
			{"read, then write", "/rset?k=b&v=3", 0, counts{1, 1, 0}, false},
			{"read, then write the same value", "/rset?k=b&v=3", 0, counts{1, 0, 0}, false},
			{"renew (successor, remove, new record)", "/login?user=u", 0, counts{1, 2, 1}, true},
			{"destroy", "/logout", 0, counts{1, 0, 1}, true}, // Destroy reads: what it ends depends on it
			{"untouched after logout", "/none", 0, counts{0, 0, 0}, false},
		}
		st.take()
		for _, s := range steps {
			clock.Advance(s.tick)
			res := c.get(s.path)
			if res.status != http.StatusOK {
				t.Fatalf("%s: status %d", s.name, res.status)
			}
			if got := st.take(); got != s.want {
				t.Errorf("%s: store calls %+v, want %+v", s.name, got, s.want)
			}
			if got := len(res.setCookie) > 0; got != s.setsC {
				t.Errorf("%s: Set-Cookie %q, want one: %v", s.name, res.setCookie, s.setsC)
			}
		}
	})
}

// TestStreamingFlush: the client receives a flushed first chunk, with the
// session cookie, while the handler still runs; nothing is buffered.
func TestStreamingFlush(t *testing.T) {
	m := New(newTestMemoryStore(t))
	release := make(chan struct{})
	srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	}))
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before the server's cleanup
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if len(resp.Cookies()) != 1 {
		t.Fatalf("cookie not in the headers of a streamed response: %q", resp.Header.Values("Set-Cookie"))
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	unblock()
	line, _ = br.ReadString('\n')
	if line != "second\n" {
		t.Fatalf("second chunk %q", line)
	}
}

// TestResponseController: http.NewResponseController reaches Flush and the
// deadlines through the wrapper.
func TestResponseController(t *testing.T) {
	m := New(newTestMemoryStore(t))
	errs := make(chan error, 3)
	srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
		io.WriteString(w, "x")
		errs <- rc.Flush()
	}))
	res := send(t, http.MethodGet, srv.URL, m.CookieName(), "")
	if res.body != "x" {
		t.Fatalf("body %q", res.body)
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("ResponseController call %d: %v", i, err)
		}
	}
}

// TestHijack: a handler that hijacks the connection after changing its
// session gets the connection, and the change is stored.
func TestHijack(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	mux := http.NewServeMux()
	mux.Handle("/", appHandler())
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("upgraded", "yes")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		brw.Flush()
	})
	srv := serve(t, m, mux)
	c := newClient(t, srv, m)
	c.get("/set?k=a&v=1")
	res := c.get("/ws")
	if res.body != "hi" {
		t.Fatalf("hijacked response %q", res.body)
	}
	if got := c.get("/get?k=upgraded").body; got != "yes" {
		t.Fatalf("change before hijack not stored: %q", got)
	}
}

// TestReadFrom: io.Copy to the wrapper commits first and copies the body.
func TestReadFrom(t *testing.T) {
	m := New(newTestMemoryStore(t))
	srv := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("wrapper is not an io.ReaderFrom")
		}
		io.Copy(w, strings.NewReader(strings.Repeat("z", 100000)))
	}))
	res := send(t, http.MethodGet, srv.URL, m.CookieName(), "")
	if len(res.body) != 100000 || len(res.cookies) != 1 {
		t.Fatalf("body %d bytes, cookies %q", len(res.body), res.setCookie)
	}
}

// TestChangesAfterFirstByte: a change to an existing session after the body
// started is still stored; a change that needs a cookie (a new session, a
// renew) is reported to the error handler instead.
func TestChangesAfterFirstByte(t *testing.T) {
	st := newTestMemoryStore(t)
	var handled atomic.Value
	m := New(st, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		handled.Store(err)
	}))
	mux := http.NewServeMux()
	mux.Handle("/", appHandler())
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body first")
		w.(http.Flusher).Flush()
		s := Get(r)
		s.Set("late", "stored")
		if r.URL.Query().Get("renew") != "" {
			s.Renew()
		}
	})
	srv := serve(t, m, mux)
	c := newClient(t, srv, m)
	c.get("/set?k=a&v=1")
	id := c.id

	c.get("/late")
	if got := c.get("/get?k=late").body; got != "stored" {
		t.Fatalf("late change to an existing session: %q, want stored", got)
	}
	if handled.Load() != nil {
		t.Fatalf("error handler called for a late change that needed no cookie: %v", handled.Load())
	}
	if c.id != id {
		t.Fatal("ID changed")
	}

	res := send(t, http.MethodGet, srv.URL+"/late", c.name, "")
	if len(res.setCookie) != 0 {
		t.Fatal("a cookie after the headers?")
	}
	err, _ := handled.Load().(error)
	if !errors.Is(err, ErrHeadersWritten) {
		t.Fatalf("late new session: error handler got %v, want ErrHeadersWritten", err)
	}

	handled = atomic.Value{}
	c.get("/late?renew=1")
	err, _ = handled.Load().(error)
	if !errors.Is(err, ErrHeadersWritten) {
		t.Fatalf("late renew: error handler got %v, want ErrHeadersWritten", err)
	}
	if ok, _ := has(context.Background(), st, handle(id)); !ok {
		t.Fatal("a late renew that could not send its cookie removed the session")
	}
}

// TestCommitSurvivesHangUp: the client hangs up while the handler runs; the
// handler's change is stored all the same (G6).
func TestCommitSurvivesHangUp(t *testing.T) {
	st := newTestMemoryStore(t)
	m := New(st)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", appHandler())
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		s := Get(r)
		<-r.Context().Done()
		s.Set("after", "hangup")
	})
	srv := serve(t, m, mux)
	c := newClient(t, srv, m)
	c.get("/set?k=a&v=1")

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /hangup HTTP/1.1\r\nHost: x\r\nCookie: "+c.name+"="+c.id+"\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler never saw the hang-up")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec, err := readRecord(t, st, c.id)
		if err == nil && string(rec["after"]) == `"hangup"` {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("change made after the client hung up was not stored: %q %v", rec, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHandlerPanicCommitsNothing: a handler that panics after a change
// leaves the store as it was.
func TestHandlerPanicCommitsNothing(t *testing.T) {
	st := &countingStore{Store: newTestMemoryStore(t)}
	m := New(st)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Set("a", "1")
		panic("boom")
	}))
	func() {
		defer func() { recover() }()
		h.ServeHTTP(newRecorder(), newRequest(""))
	}()
	if n := st.take(); n.writes != 0 {
		t.Fatalf("a panicking handler committed %d writes", n.writes)
	}
}

// TestWriteOnlyRequests: a request that only writes costs one store call and
// never outlives the absolute lifetime: the store caps the record's expiry at
// the deadline kept in its metadata, and a write past it starts a new
// session. A write-only request with an unknown ID never adopts it. The cap
// is a property of the built-in stores, beyond the contract (a store without
// it keeps such a record a little longer but never serves it), so the blob
// store is not among the stores here.
func TestWriteOnlyRequests(t *testing.T) {
	forEachBuiltinStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		st := &countingStore{Store: newStore(t)}
		// The second write comes at once, far inside the lifetime; only the
		// third waits, until well past it: a late request only waits longer.
		m := New(st, WithLifetime(2*time.Second))
		srv := serve(t, m, appHandler())
		c := newClient(t, srv, m)
		c.get("/set?k=a&v=1")
		start := time.Now() // after the session's creation: its deadline is before start+2s
		first := c.id

		st.take()
		if res := c.get("/set?k=b&v=2"); len(res.setCookie) != 0 {
			t.Fatalf("write-only request on a live session sent Set-Cookie %q", res.setCookie)
		}
		if n := st.take(); n != (counts{0, 1, 0}) {
			t.Fatalf("write-only request: store calls %+v, want one write", n)
		}

		time.Sleep(2500*time.Millisecond - time.Since(start))
		c.get("/set?k=c&v=3")
		if c.id == first {
			t.Fatal("a write-only request after the absolute lifetime kept the old ID: the store extended the record past its deadline")
		}
		if got := c.get("/get?k=a").body; got != "" {
			t.Fatalf("old value %q survived the absolute lifetime", got)
		}
		if got := c.get("/get?k=c").body; got != "3" {
			t.Fatalf("the new session lacks the write that started it: %q", got)
		}

		unknown, _ := newID()
		res := send(t, http.MethodGet, srv.URL+"/set?k=a&v=1", c.name, unknown)
		if id, _ := res.cookieID(c.name); id == "" || id == unknown {
			t.Fatalf("write-only request with an unknown ID: cookie %q", res.setCookie)
		}
		if ok, _ := has(context.Background(), st, handle(unknown)); ok {
			t.Fatal("the unknown ID was created")
		}
	})
}
