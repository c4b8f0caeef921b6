package sessions

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestBlindDeleteIsWritten: a request that only calls Delete (never
// reads) deletes the key, in its one write.
func TestBlindDeleteIsWritten(t *testing.T) {
	st := newTestMemoryStore(t)
	cs := &countingStore{Store: st}
	m := New(cs, WithCookieSecure(false))
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) { Get(r).Set("cart", "full") })
	mux.HandleFunc("/del", func(w http.ResponseWriter, r *http.Request) { Get(r).Delete("cart") })
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, Get(r).GetString("cart")) })
	srv := serve(t, m, mux)
	c := newClient(t, srv, m)
	c.get("/set")
	if c.id == "" {
		t.Fatal("no session")
	}
	cs.take()
	c.get("/del")
	got := cs.take()
	cs.mu.Lock()
	t.Logf("calls of /del: %+v", got)
	cs.mu.Unlock()
	if res := c.get("/get"); res.body != "" {
		t.Errorf("after a write-only Delete the key still reads %q", res.body)
	}
	rec, _ := st.Read(context.Background(), handle(c.id))
	if _, ok := rec["cart"]; ok {
		t.Errorf("store still holds the deleted key: %v", rec)
	}
}
