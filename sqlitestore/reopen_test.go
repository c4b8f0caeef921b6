package sqlitestore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlitestore"
)

// TestSurvivesReopen checks that records and tombstones outlive the
// process: the database is closed and opened again, as a restart does.
func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db := openDB(t, dsn)
	s, err := sqlitestore.New(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	rec := sessions.Record{"user": []byte(`"alice"`)}
	for _, id := range []string{"kept", "removed"} {
		if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: rec}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove(bg, "removed", time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db.Close()

	s, err = sqlitestore.New(bg, openDB(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Read(bg, "kept"); err != nil || string(got["user"]) != `"alice"` {
		t.Errorf("after reopening, the live record reads (%q, %v)", got, err)
	}
	err = s.Write(bg, "removed", sessions.Change{Mode: sessions.ModeReplace, Set: rec}, time.Minute)
	if !errors.Is(err, sessions.ErrInvalidated) {
		t.Errorf("after reopening, a Write to the removed ID gave %v, want ErrInvalidated: the tombstone must survive a restart", err)
	}
}
