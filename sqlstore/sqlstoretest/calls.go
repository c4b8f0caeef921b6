package sqlstoretest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// StatementsPerCall runs every kind of Store call on s once (each Write
// mode, Read, Exists, Remove of a record and of nothing, a refused Write)
// and fails t unless each ran exactly one statement, as counted by count,
// or as many as want gives for the call's name.
func StatementsPerCall(t *testing.T, s sessions.Store, count func() int64, want map[string]int64) {
	t.Helper()
	bg := context.Background()
	id, tomb := "a1", "a2"
	calls := []struct {
		name string
		call func() error
	}{
		{"Write Replace", func() error {
			return s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute)
		}},
		{"Write Replace again", func() error {
			return s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute)
		}},
		{"Write delta", func() error {
			return s.Write(bg, id, sessions.Change{Set: sessions.Record{"b": []byte("2")}, Delete: []string{"a"}}, time.Minute)
		}},
		{"Write Create", func() error {
			return s.Write(bg, "u:1", sessions.Change{Mode: sessions.ModeUpsert, Set: sessions.Record{"h": []byte("1")}}, time.Minute)
		}},
		{"Write touch", func() error { return s.Write(bg, id, sessions.Change{}, time.Minute) }},
		{"Read", func() error { _, err := s.Read(bg, id); return err }},
		{"Remove", func() error { return s.Remove(bg, id, time.Minute) }},
		{"Remove (no record)", func() error { return expect(s.Remove(bg, tomb, time.Minute), sessions.ErrNotFound) }},
		{"Write refused", func() error {
			return expect(s.Write(bg, tomb, sessions.Change{Set: sessions.Record{"a": nil}}, time.Minute), sessions.ErrInvalidated)
		}},
	}
	for _, c := range calls {
		before := count()
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := count() - before
		t.Logf("%-20s %d statement(s)", c.name, n)
		w, ok := want[c.name]
		if !ok {
			w = 1
		}
		if n != w {
			t.Errorf("%s ran %d statements, want %d", c.name, n, w)
		}
	}
}

// expect turns err into nil when it is want, and into an error otherwise.
func expect(err, want error) error {
	switch {
	case errors.Is(err, want):
		return nil
	case err == nil:
		return fmt.Errorf("got nil, want %v", want)
	}
	return err
}
