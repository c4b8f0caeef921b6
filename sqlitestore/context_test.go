package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// A call whose context ends while every connection of the pool is taken
// gives up with the context's error: the statements run detached from the
// context, but the wait for a connection does not.
func TestWaitForConnectionHonoursContext(t *testing.T) {
	db := fileDB(t)
	db.SetMaxOpenConns(1)
	s := newStore(t, db)
	held, err := db.Conn(bg) // the application holds the only connection
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	calls := map[string]func(ctx context.Context) error{
		"Read":   func(ctx context.Context) error { _, err := s.Read(ctx, "x"); return err },
		"Exists": func(ctx context.Context) error { _, err := s.Exists(ctx, "x"); return err },
		"Write": func(ctx context.Context) error {
			return s.Write(ctx, "x", sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("b")}}, time.Minute)
		},
		"Remove": func(ctx context.Context) error { return s.Remove(ctx, "x", time.Minute) },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s with no free connection: %v, want context.DeadlineExceeded", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s with no free connection still waits 10s after its 50ms deadline", name)
		}
		cancel()
	}
}

// A write waiting for a lock that another connection holds reads the clock
// when it runs, after the wait: a record that expired meanwhile, and that a
// read in between reported gone, stays gone.
func TestWriteReadsClockAfterLockWait(t *testing.T) {
	dsn := "file:" + filepath.Join(t.TempDir(), "s.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, other := openDB(t, dsn), openDB(t, dsn)
	s := newStore(t, db)
	if err := s.Write(bg, "id", sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	lock, err := other.Conn(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Write(bg, "id", sessions.Change{Set: sessions.Record{"b": []byte("2")}}, time.Hour)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.Read(bg, "id"); errors.Is(err, sessions.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the record did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := lock.ExecContext(bg, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a delta that waited for the lock while its record expired gave %v, want ErrNotFound", err)
	}
	if _, err := s.Read(bg, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a record that had expired came back: Read gave %v", err)
	}
}
