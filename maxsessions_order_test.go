package sessions

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestMaxSessionsEndsLeastRecentlyActive: a Login past WithMaxSessions(n)
// ends the user's least recently active sessions and keeps the n-1 most
// recently active with the new one (README, G12). Three devices log in in
// one order and are last active in another, each at a distinct time of the
// fake clock, so that neither login order nor map order can pass for
// activity order: the device in use a moment ago must survive a fourth
// Login, and the one left idle longest must not.
func TestMaxSessionsEndsLeastRecentlyActive(t *testing.T) {
	for _, tt := range []struct {
		limit int
		kept  []string // of the three devices, besides the fourth Login
	}{
		{1, nil},
		{2, []string{"phone"}},
		{3, []string{"laptop", "phone"}},
		{4, []string{"laptop", "phone", "tablet"}},
	} {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			clock := newTestClock()
			st := newTestMemoryStore(t)
			m := New(st, WithMaxSessions(tt.limit), WithClock(clock.Now))
			ids := logInDevices(t, m, clock)
			clock.Advance(time.Minute)
			ids["desktop"] = loginAs(t, m, "erin")
			want := append([]string{"desktop"}, tt.kept...)
			if got := liveDevices(t, m, st, ids); fmt.Sprint(got) != fmt.Sprint(sorted(want)) {
				t.Errorf("after a fourth Login under WithMaxSessions(%d), the live devices are %v, want %v (last active: tablet, then laptop, then phone; the least recently active end first)",
					tt.limit, got, sorted(want))
			}
		})
	}
}

// logInDevices logs erin in on three devices under a limit that may end
// some of them, one minute apart in the order tablet, phone, laptop, then
// makes each active again in another order: tablet, laptop, phone. It
// returns the devices' session IDs.
func logInDevices(t *testing.T, m *Manager, clock *testClock) map[string]string {
	t.Helper()
	// Logged in without a limit, so that all three are live whatever the
	// limit under test.
	free := New(m.store, WithClock(clock.Now))
	ids := map[string]string{}
	for _, d := range []string{"tablet", "phone", "laptop"} {
		clock.Advance(time.Minute)
		ids[d] = loginAs(t, free, "erin")
	}
	for _, d := range []string{"tablet", "laptop", "phone"} {
		clock.Advance(time.Minute)
		run(m, ids[d], func(s *Session) { s.Set("last", d) })
	}
	return ids
}

// liveDevices returns, sorted, the devices whose session is still live
// and still erin's: live in the store and listed by UserSessions.
func liveDevices(t *testing.T, m *Manager, st Store, ids map[string]string) []string {
	t.Helper()
	list, err := m.UserSessions(context.Background(), "erin")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, info := range list {
		listed[info.Handle] = true
	}
	var out []string
	for d, id := range ids {
		if live(t, st, id) != listed[handle(id)] {
			t.Errorf("%s: live in the store %v, listed by UserSessions %v", d, live(t, st, id), listed[handle(id)])
		}
		if listed[handle(id)] {
			out = append(out, d)
		}
	}
	return sorted(out)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
