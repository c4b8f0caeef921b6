package sessions

import (
	"context"
	"testing"
	"time"
)

// TestRenew checks that Renew moves the data to a fresh ID and that the
// old one is dead for good: a write to it is refused (G2). The races of
// Renew with Destroy and with requests in flight are in the guarantee suite
// (TestGuarantees).
func TestRenew(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(t *testing.T) Store) {
		st := newStore(t)
		m := New(st)
		srv := serve(t, m, appHandler())
		c := newClient(t, srv, m)
		c.get("/set?k=cart&v=3")
		x := c.id
		res := c.get("/login?user=alice")
		y, _ := res.cookieID(c.name)
		if y == "" || y == x {
			t.Fatalf("renew set cookie %q, want a fresh ID", res.setCookie)
		}
		if ok, _ := has(context.Background(), st, handle(x)); ok {
			t.Fatal("pre-renew ID exists")
		}
		if err := st.Write(context.Background(), handle(x), Change{Mode: ModeReplace, Set: Record{"a": []byte("1")}}, time.Minute); err != ErrInvalidated {
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
