package sessions

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recordingStore remembers every key written with Replace: every session
// record ever created.
type recordingStore struct {
	Store
	mu       sync.Mutex
	replaced []string
}

func (r *recordingStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if ch.Mode == ModeReplace {
		r.mu.Lock()
		r.replaced = append(r.replaced, id)
		r.mu.Unlock()
	}
	return r.Store.Write(ctx, id, ch, ttl)
}

// TestStressLogoutWins: one logged-in session, and at once on its ID:
// two Renews, a write-only Set, a Clear and Set,
// a DestroyOthers from a second session, and a Destroy, with DestroyUser
// racing in half the rounds. Once all have committed no session of the user
// descending from the destroyed one may be live.
func TestStressLogoutWins(t *testing.T) {
	for _, sf := range AllTestStores()[:2] {
		t.Run(sf.Name, func(t *testing.T) {
			for round := 0; round < 150; round++ {
				st := &recordingStore{Store: sf.New(t)}
				m := New(st)
				user := fmt.Sprintf("u%d", round)
				x := loginAs(t, m, user)
				other := loginAs(t, m, user)
				ops := []func(){
					func() { run(m, x, func(s *Session) { _ = s.UserID(); s.Renew() }) },
					func() { run(m, x, func(s *Session) { _ = s.UserID(); s.Renew() }) },
					func() { run(m, x, func(s *Session) { s.Set("bg", "1") }) },
					func() { run(m, x, func(s *Session) { s.Clear(); s.Set("c", "1") }) },
					func() { run(m, other, func(s *Session) { s.DestroyOthers() }) },
					func() { run(m, x, func(s *Session) { s.Destroy() }) },
				}
				if round%2 == 1 {
					ops = append(ops, func() { _ = m.DestroyUser(context.Background(), user) })
				}
				var wg sync.WaitGroup
				for _, op := range ops {
					wg.Add(1)
					go func() { defer wg.Done(); op() }()
				}
				wg.Wait()
				st.mu.Lock()
				keys := append([]string(nil), st.replaced...)
				st.mu.Unlock()
				for _, k := range keys {
					rec, err := st.Read(context.Background(), k)
					if err != nil || string(rec[keyUser]) != user || k == handle(other) {
						continue
					}
					t.Fatalf("round %d: session %s of %s is live after Destroy (and DestroyOthers) committed", round, k[:12], user)
				}
			}
		})
	}
}

// TestStressMaxSessions: concurrent first Logins of one user under
// WithMaxSessions(2) never leave more than 2 live sessions once all have
// committed.
func TestStressMaxSessions(t *testing.T) {
	for round := 0; round < 100; round++ {
		st := &recordingStore{Store: newTestMemoryStore(t)}
		m := New(st, WithMaxSessions(2))
		user := fmt.Sprintf("m%d", round)
		loginAs(t, m, user)
		var wg sync.WaitGroup
		for i := 0; i < 5; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); run(m, "", func(s *Session) { s.Login(user) }) }()
		}
		wg.Wait()
		list, err := m.UserSessions(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 2 {
			t.Fatalf("round %d: %d live sessions under WithMaxSessions(2)", round, len(list))
		}
	}
}
