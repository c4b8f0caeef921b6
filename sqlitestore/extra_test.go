package sqlitestore_test

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/internal/sqltest"
	"github.com/sessionkit/sessions/sqlitestore"
)

// TestStatementsPerCall checks that every Store call is one statement,
// but for the two that run a second to save the first a cost on every
// call: a refused write, and a Replace under an ID that has a row.
func TestStatementsPerCall(t *testing.T) {
	var n atomic.Int64
	drv := memoryDB(t).Driver()
	db := sqltest.OpenCounting(drv, "file:"+randomName("count")+"?mode=memory&cache=shared", &n)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	s := newStore(t, db, sqlitestore.WithSweepInterval(0))
	sqltest.StatementsPerCall(t, s, n.Load, map[string]int64{"Write Replace again": 2, "Write refused": 2})
}

// TestCorruptRow checks that rows which do not decode give ErrCorrupt.
func TestCorruptRow(t *testing.T) {
	db := fileDB(t)
	table := randomName("sessions")
	s, err := sqlitestore.New(bg, db, sqlitestore.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Exec(`DROP TABLE "` + table + `"`) })
	for i, data := range []string{`{"a": 1}`, `{"~%%": "x"}`, `{"a": "~not base64!"}`, `[1]`, `"x"`} {
		id := "c" + strconv.Itoa(i)
		if _, err := db.Exec(`INSERT INTO "`+table+`" (id, state, expires_at, data) VALUES (?, 1, 9000000000000, ?)`, id, data); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrCorrupt) {
			t.Errorf("Read of a row holding %s gave %v, want ErrCorrupt", data, err)
		}
	}
}

// TestDeadline checks that the expiry is capped at the record's
// "__deadline" and that a delta past it gives ErrNotFound.
func TestDeadline(t *testing.T) {
	// The delta follows at once, far inside the 2 s before the deadline.
	s := newStore(t, fileDB(t))
	deadline := []byte(strconv.FormatInt(time.Now().Add(2*time.Second).UnixMilli(), 10))
	if err := s.Write(bg, "d", sessions.Change{Replace: true, Set: sessions.Record{"__deadline": deadline}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(bg, "d", sessions.Change{Set: sessions.Record{"x": []byte("1")}}, time.Minute); err != nil {
		t.Fatalf("a delta before the deadline gave %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // well past the deadline: lateness only waits longer
	if _, err := s.Read(bg, "d"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read past the record's deadline gave %v, want ErrNotFound: the expiry must be capped at __deadline", err)
	}
	if err := s.Write(bg, "d", sessions.Change{Set: sessions.Record{"x": []byte("2")}}, time.Minute); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a delta past the record's deadline gave %v, want ErrNotFound", err)
	}
}

// TestDeltaChangesDeadline checks the deltas that set or drop
// "__deadline", as SetLifetime does: a deadline already past ends the
// record, a new one caps this write's expiry and the later ones', and a
// record without one lives for its ttl.
func TestDeltaChangesDeadline(t *testing.T) {
	s := newStore(t, fileDB(t))
	ms := func(d time.Duration) []byte { return []byte(strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10)) }
	write := func(id string, ch sessions.Change) error { return s.Write(bg, id, ch, time.Minute) }
	x := sessions.Change{Set: sessions.Record{"x": []byte("1")}}
	for id, d := range map[string]time.Duration{"past": time.Hour, "later": time.Hour, "dropped": time.Second} {
		if err := write(id, sessions.Change{Replace: true, Set: sessions.Record{"__deadline": ms(d)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := write("past", sessions.Change{Set: sessions.Record{"__deadline": ms(-time.Second)}}); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a delta that sets a deadline already past gave %v, want ErrNotFound", err)
	}
	if _, err := s.Read(bg, "past"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after a delta set a deadline already past gave %v, want ErrNotFound", err)
	}
	// The writes follow at once, far inside the 1 s deadlines.
	for _, w := range []struct {
		id string
		ch sessions.Change
	}{
		{"later", sessions.Change{Set: sessions.Record{"__deadline": ms(time.Second)}}},
		{"later", x},
		{"dropped", sessions.Change{Delete: []string{"__deadline"}}},
	} {
		if err := write(w.id, w.ch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1500 * time.Millisecond) // past the 1 s deadlines: lateness only waits longer
	if _, err := s.Read(bg, "later"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read past a deadline a delta set gave %v, want ErrNotFound", err)
	}
	if err := write("dropped", x); err != nil {
		t.Errorf("a delta to a record whose deadline was dropped gave %v", err)
	}
	if _, err := s.Read(bg, "dropped"); err != nil {
		t.Errorf("Read of a record whose deadline was dropped gave %v, want it live for its ttl", err)
	}
}

// TestSweeper checks that expired records and tombstones are deleted, and
// live ones kept.
func TestSweeper(t *testing.T) {
	db := fileDB(t)
	table := randomName("sessions")
	s, err := sqlitestore.New(bg, db, sqlitestore.WithTable(table), sqlitestore.WithSweepInterval(20*time.Millisecond), sqlitestore.WithSweepBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Exec(`DROP TABLE "` + table + `"`) })
	for i := 0; i < 10; i++ {
		id := strconv.Itoa(i)
		if err := s.Write(bg, id, sessions.Change{Replace: true, Set: sessions.Record{"a": nil}}, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		s.Remove(bg, "t"+id, time.Millisecond)
	}
	if err := s.Write(bg, "live", sessions.Change{Replace: true, Set: sessions.Record{"a": nil}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(bg, "tomb", time.Minute); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatal(err)
	}
	var n int
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("the sweeper left %d rows, want 2 (the live record and the live tombstone)", n)
	}
}

// TestBusyTimeoutRequired checks that New refuses a pool of connections
// that would fail concurrent writes with SQLITE_BUSY.
func TestBusyTimeoutRequired(t *testing.T) {
	db := openDB(t, "file:"+filepath.Join(t.TempDir(), "s.db"))
	if _, err := sqlitestore.New(bg, db); err == nil {
		t.Fatal("New on a pool without busy timeout gave no error")
	}
	db.SetMaxOpenConns(1)
	s, err := sqlitestore.New(bg, db)
	if err != nil {
		t.Fatalf("New on a single connection gave %v", err)
	}
	s.Close()
}

func TestBadTableName(t *testing.T) {
	db := fileDB(t)
	for _, name := range []string{"", "a;b", `a"b`, strings.Repeat("a", 49), "a.b", "1a"} {
		if _, err := sqlitestore.New(bg, db, sqlitestore.WithTable(name)); err == nil {
			t.Errorf("New with table name %q gave no error", name)
		}
	}
}

// TestTableWithoutDeadline checks that New refuses a table created without
// the deadline column, naming it, and that the migration in the package
// doc makes the table usable with its records' deadlines kept.
func TestTableWithoutDeadline(t *testing.T) {
	db := fileDB(t)
	table := randomName("old")
	deadline := time.Now().Add(time.Second).UnixMilli()
	for _, q := range []string{
		`CREATE TABLE "` + table + `" (id TEXT NOT NULL PRIMARY KEY, state INTEGER NOT NULL,
			expires_at INTEGER NOT NULL, data TEXT NOT NULL)`,
		`INSERT INTO "` + table + `" VALUES ('d', 1, ` + strconv.FormatInt(deadline, 10) + `, '{"__deadline":"` + strconv.FormatInt(deadline, 10) + `"}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := sqlitestore.New(bg, db, sqlitestore.WithTable(table), sqlitestore.WithSweepInterval(0))
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("New on a table without the deadline column gave %v, want an error naming the column", err)
	}
	for _, q := range []string{
		`ALTER TABLE "` + table + `" ADD COLUMN deadline INTEGER`,
		`UPDATE "` + table + `" SET deadline = CAST(json_extract(data, '$.__deadline') AS INTEGER)
			WHERE state = 1 AND json_type(data, '$.__deadline') = 'text'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sqlitestore.New(bg, db, sqlitestore.WithTable(table), sqlitestore.WithSweepInterval(0))
	if err != nil {
		t.Fatalf("New after the migration: %v", err)
	}
	defer s.Close()
	// At once, far inside the 1 s left: a delta keeps the migrated deadline.
	if err := s.Write(bg, "d", sessions.Change{Set: sessions.Record{"x": []byte("1")}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the deadline: lateness only waits longer
	if _, err := s.Read(bg, "d"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read past a migrated record's deadline gave %v, want ErrNotFound", err)
	}
}
