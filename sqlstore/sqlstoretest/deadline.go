package sqlstoretest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// WithMargin runs try with a margin of 1 s, then 2, 4 and 8 s, until try
// reports that the steps it had to finish inside the margin did. A test of
// an expiry asserts what happens past a deadline; a loaded machine that
// runs the steps before it late gets more room, never a failure.
func WithMargin(t *testing.T, try func(margin time.Duration) (fitted bool)) {
	t.Helper()
	for margin := time.Second; margin <= 8*time.Second; margin *= 2 {
		if try(margin) {
			return
		}
		t.Logf("the steps before the deadline took longer than %v: again with more room", margin)
	}
	t.Fatal("the steps before the deadline did not fit in 8 s")
}

// millis is the time d from now, as the Manager writes "__deadline".
func millis(d time.Duration) []byte {
	return []byte(strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10))
}

// Deadline checks that s caps a record's expiry at its "__deadline", that
// a delta past it gives ErrNotFound, and the deltas that set or drop it,
// as SetLifetime does: a deadline already past ends the record, a new one
// caps this write's expiry and the later ones', and a record without one
// lives for its ttl.
func Deadline(t *testing.T, s sessions.Store) {
	bg := context.Background()
	write := func(id string, ch sessions.Change) error { return s.Write(bg, id, ch, time.Minute) }
	x := sessions.Change{Set: sessions.Record{"x": []byte("1")}}
	deadline := func(d time.Duration) sessions.Change {
		return sessions.Change{Set: sessions.Record{"__deadline": millis(d)}}
	}
	t.Run("CapsExpiry", func(t *testing.T) {
		WithMargin(t, func(margin time.Duration) bool {
			id := "d" + margin.String()
			end := time.Now().Add(margin)
			ch := deadline(margin)
			ch.Mode = sessions.ModeReplace
			if err := write(id, ch); err != nil {
				t.Fatal(err)
			}
			err := write(id, x)
			if time.Now().After(end) {
				return false
			}
			if err != nil {
				t.Fatalf("a delta before the deadline gave %v", err)
			}
			time.Sleep(time.Until(end) + 500*time.Millisecond)
			if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read past the record's deadline gave %v, want ErrNotFound: the expiry must be capped at __deadline", err)
			}
			if err := write(id, x); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("a delta past the record's deadline gave %v, want ErrNotFound", err)
			}
			return true
		})
	})
	t.Run("DeltaSetsPastDeadline", func(t *testing.T) {
		ch := deadline(time.Hour)
		ch.Mode = sessions.ModeReplace
		if err := write("past", ch); err != nil {
			t.Fatal(err)
		}
		if err := write("past", deadline(-time.Second)); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("a delta that sets a deadline already past gave %v, want ErrNotFound", err)
		}
		if _, err := s.Read(bg, "past"); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Read after a delta set a deadline already past gave %v, want ErrNotFound", err)
		}
	})
	t.Run("DeltaSetsAndDropsDeadline", func(t *testing.T) {
		WithMargin(t, func(margin time.Duration) bool {
			later, dropped := "later"+margin.String(), "dropped"+margin.String()
			end := time.Now().Add(margin)
			for _, w := range []struct {
				id string
				ch sessions.Change
			}{
				{later, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"__deadline": millis(time.Hour)}}},
				{dropped, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"__deadline": millis(margin)}}},
				{later, deadline(margin)},
				{later, x},
				{dropped, sessions.Change{Delete: []string{"__deadline"}}},
			} {
				err := write(w.id, w.ch)
				if time.Now().After(end) {
					return false
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(time.Until(end) + 500*time.Millisecond)
			if _, err := s.Read(bg, later); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read past a deadline a delta set gave %v, want ErrNotFound", err)
			}
			if err := write(dropped, x); err != nil {
				t.Errorf("a delta to a record whose deadline was dropped gave %v", err)
			}
			if _, err := s.Read(bg, dropped); err != nil {
				t.Errorf("Read of a record whose deadline was dropped gave %v, want it live for its ttl", err)
			}
			return true
		})
	})
}
