package sessions

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// pausingApp is appHandler plus /slow?do=ACTION, which loads the session,
// reports on loaded, waits for proceed, then does ACTION: "set" (sets bg=1),
// "clear" (clears, then sets bg=1), "renew", "destroy" or "touch" (nothing).
func pausingApp(loaded chan<- struct{}, proceed <-chan struct{}) http.Handler {
	app := appHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			app.ServeHTTP(w, r)
			return
		}
		s := Get(r)
		user := s.GetString("user")
		loaded <- struct{}{}
		<-proceed
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
		io.WriteString(w, user)
	})
}

// TestLogoutSticksForced is the race of DESIGN.md's picture, forced: REQ2
// loads the session, REQ1 logs out and commits, then REQ2 writes. The old ID
// must stay dead and REQ2's response must carry no cookie for it.
func TestLogoutSticksForced(t *testing.T) {
	for _, action := range []string{"set", "clear", "renew"} {
		t.Run(action, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
				st := &countingStore{Store: newStore(t)}
				m := New(st)
				loaded, proceed := make(chan struct{}), make(chan struct{})
				srv := serve(t, m, pausingApp(loaded, proceed))
				c := newClient(t, srv, m)
				c.get("/login?user=alice")
				x := c.id
				if x == "" {
					t.Fatal("login set no cookie")
				}

				req2 := make(chan result, 1)
				go func() { req2 <- send(t, http.MethodGet, srv.URL+"/slow?do="+action, c.name, x) }()
				<-loaded
				res1 := c.get("/logout")
				if _, deleted := res1.cookieID(c.name); !deleted {
					t.Fatalf("logout did not delete the cookie: %q", res1.setCookie)
				}
				st.take()
				close(proceed)
				res2 := <-req2

				if res2.status != http.StatusOK {
					t.Fatalf("REQ2 status %d, want 200 (a refused write is not an error)", res2.status)
				}
				if len(res2.setCookie) != 0 {
					t.Fatalf("REQ2 sent Set-Cookie %q after the logout; want none", res2.setCookie)
				}
				if ok, err := st.Exists(context.Background(), handle(x)); err != nil || ok {
					t.Fatalf("old ID exists after logout and REQ2's write: %v %v", ok, err)
				}
				if _, err := readRecord(t, st, x); err == nil {
					t.Fatal("old ID readable after logout")
				}
				if action == "renew" && st.sessionWrites() != 0 {
					t.Fatal("a renew that lost the race to a logout still wrote the session under a new ID")
				}
				if got := send(t, http.MethodGet, srv.URL+"/get?k=user", c.name, x); got.body != "" || len(got.setCookie) != 0 {
					t.Fatalf("a later request with the old ID read %q / got cookie %q", got.body, got.setCookie)
				}
			})
		})
	}
}

// TestRenew checks that Renew moves the data to a fresh ID, kills the old
// one, and that a concurrent request still holding the old ID cannot bring
// it back.
func TestRenew(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		st := newStore(t)
		m := New(st)
		loaded, proceed := make(chan struct{}), make(chan struct{})
		srv := serve(t, m, pausingApp(loaded, proceed))
		c := newClient(t, srv, m)
		c.get("/set?k=cart&v=3")
		x := c.id

		req2 := make(chan result, 1)
		go func() { req2 <- send(t, http.MethodGet, srv.URL+"/slow?do=set", c.name, x) }()
		<-loaded
		res := c.get("/login?user=alice")
		y, _ := res.cookieID(c.name)
		if y == "" || y == x {
			t.Fatalf("renew set cookie %q, want a fresh ID", res.setCookie)
		}
		close(proceed)
		res2 := <-req2
		if len(res2.setCookie) != 0 {
			t.Fatalf("request with the pre-renew ID got Set-Cookie %q", res2.setCookie)
		}
		if ok, _ := st.Exists(context.Background(), handle(x)); ok {
			t.Fatal("pre-renew ID exists again")
		}
		if err := st.Write(context.Background(), handle(x), Change{Replace: true, Set: Record{"a": []byte("1")}}, time.Minute); err != ErrInvalidated {
			t.Fatalf("write to the pre-renew ID: %v, want ErrInvalidated", err)
		}
		rec, err := readRecord(t, st, y)
		if err != nil {
			t.Fatal(err)
		}
		if string(rec["cart"]) != `"3"` || string(rec["user"]) != `"alice"` {
			t.Fatalf("renewed record %q lacks the moved data", rec)
		}
		if got := c.get("/get?k=cart"); got.body != "3" {
			t.Fatalf("cart after renew = %q", got.body)
		}
	})
}

// TestNoLostUpdates: two requests that overlap (both load before either
// commits) and change different keys must both persist.
func TestNoLostUpdates(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	forEachStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		st := newStore(t)
		m := New(st)
		var barrier sync.WaitGroup
		mux := http.NewServeMux()
		mux.Handle("/", appHandler())
		mux.HandleFunc("/overlap", func(w http.ResponseWriter, r *http.Request) {
			s := Get(r)
			s.GetString("x") // load
			barrier.Done()
			barrier.Wait()
			s.Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
		})
		srv := serve(t, m, mux)
		c := newClient(t, srv, m)
		c.get("/set?k=base&v=0")
		for i := 0; i < rounds; i++ {
			barrier.Add(2)
			v := strconv.Itoa(i)
			var wg sync.WaitGroup
			wg.Add(2)
			for _, k := range []string{"a", "b"} {
				go func() { defer wg.Done(); send(t, http.MethodGet, srv.URL+"/overlap?k="+k+"&v="+v, c.name, c.id) }()
			}
			wg.Wait()
			rec, err := readRecord(t, st, c.id)
			if err != nil {
				t.Fatal(err)
			}
			want := strconv.Quote(v)
			if string(rec["a"]) != want || string(rec["b"]) != want || string(rec["base"]) != `"0"` {
				t.Fatalf("round %d: record a=%s b=%s base=%s, want a=b=%s: an update was lost", i, rec["a"], rec["b"], rec["base"], want)
			}
		}
	})
}
