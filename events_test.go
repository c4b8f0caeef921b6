package sessions

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog collects events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(_ context.Context, e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// take returns the kinds seen since the last call, store calls left out,
// and the events themselves.
func (l *eventLog) take() ([]EventKind, []Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var kinds []EventKind
	for _, e := range l.events {
		if e.Kind != EventStoreCall {
			kinds = append(kinds, e.Kind)
		}
	}
	evs := l.events
	l.events = nil
	return kinds, evs
}

func TestEvents(t *testing.T) {
	log := &eventLog{}
	clock := newTestClock()
	st := &failingStore{Store: newTestMemoryStore(t)}
	m := New(st, WithEvents(log.add), WithClock(clock.Now), WithIdleTimeout(time.Hour))
	_, id := run(m, "", func(s *Session) { s.Set("a", "1") })
	_, id = run(m, id, func(s *Session) { s.Login("alice") })
	_, id = run(m, id, func(s *Session) { s.Renew() })
	run(m, id, func(s *Session) {
		_ = s.GetString("a")
		st.Store.Remove(context.Background(), handle(id), time.Hour)
		s.Set("a", "2")
	})
	_, other := run(m, "", func(s *Session) { s.Set("a", "1") })
	clock.Advance(2 * time.Hour)
	run(m, other, func(s *Session) { _ = s.GetString("a") })
	_, id3 := run(m, "", func(s *Session) { s.Set("a", "1") })
	run(m, id3, func(s *Session) { s.Destroy() })
	kinds, evs := log.take()
	want := []EventKind{EventCreated, EventLogin, EventRenewed, EventRefused, EventCreated, EventExpired, EventCreated, EventDestroyed}
	if !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for _, e := range evs {
		for _, raw := range []string{id, other, id3} {
			if strings.Contains(e.Handle+e.Previous, raw) {
				t.Fatalf("event %+v carries a raw session ID", e)
			}
		}
		if e.Kind == EventLogin && (e.UserID != "alice" || e.Handle == "") {
			t.Errorf("login event %+v lacks its user or handle", e)
		}
		if e.Kind == EventStoreCall && (e.Op == "" || e.Duration <= 0) {
			t.Errorf("store call event %+v lacks its op or duration", e)
		}
	}

	st.failWrite = true
	w, _ := run(m, id3, func(s *Session) { s.Set("a", "1") })
	_, evs = log.take()
	failed := slices.IndexFunc(evs, func(e Event) bool { return e.Kind == EventStoreCall && errors.Is(e.Err, errStoreDown) })
	if w.Code != http.StatusInternalServerError || failed < 0 || evs[failed].Op != "write" {
		t.Fatalf("a failed write gave status %d and events %+v, want a store call event with the error", w.Code, evs)
	}
}
