package sessions

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// FuzzRecord: a stored record with arbitrary metadata (garbage,
// huge, zero or negative numbers, a user without an index) never panics a
// request that reads, touches, renews, logs in, lists devices or ends the
// user's sessions.
func FuzzRecord(f *testing.F) {
	f.Add([]byte("1"), []byte("1"), []byte("999999999999999"), []byte("999999999999999"), []byte("x"), []byte("u"), uint8(0))
	f.Add([]byte("-5"), []byte(""), []byte("0"), []byte("9223372036854"), []byte("1"), []byte(""), uint8(3))
	f.Fuzz(func(t *testing.T, created, deadline, lifetime, idle, persist, user []byte, op uint8) {
		st := NewMemoryStore()
		defer st.Close()
		m := New(st, WithIdleTimeout(time.Hour))
		id, _ := newID()
		now := formatMillis(time.Now())
		rec := Record{keyCreated: now, keyTouched: now}
		if len(created) > 0 {
			rec[keyCreated] = created
		}
		for k, v := range map[string][]byte{keyDeadline: deadline, keyLifetime: lifetime, keyIdle: idle, keyPersist: persist, keyUser: user} {
			if len(v) > 0 {
				rec[k] = v
			}
		}
		if err := st.Write(context.Background(), handle(id), Change{Mode: ModeReplace, Set: rec}, time.Hour); err != nil {
			t.Skip()
		}
		run(m, id, func(s *Session) {
			_ = s.Keys()
			_ = s.ExpiresAt()
			switch op % 6 {
			case 1:
				s.Renew()
			case 2:
				s.Login("someone")
			case 3:
				s.DestroyOthers()
			case 4:
				s.SetLifetime(time.Minute)
				s.SetIdleTimeout(time.Minute)
			case 5:
				s.Destroy()
			}
		})
		if u := string(user); u != "" {
			_, _ = m.UserSessions(context.Background(), u)
			_ = m.DestroyUser(context.Background(), u)
		}
		_ = http.StatusOK
	})
}
