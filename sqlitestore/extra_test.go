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
	"github.com/sessionkit/sessions/sqlitestore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// TestStatementsPerCall checks that every Store call is one statement,
// but for the two that run a second to save the first a cost on every
// call: a refused write, and a Replace under an ID that has a row.
func TestStatementsPerCall(t *testing.T) {
	var n atomic.Int64
	drv := memoryDB(t).Driver()
	db := sqlstoretest.OpenCounting(drv, "file:"+randomName("count")+"?mode=memory&cache=shared", &n)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	s := newStore(t, db, sqlitestore.WithSweepInterval(-1))
	sqlstoretest.StatementsPerCall(t, s, n.Load, map[string]int64{"Write Replace again": 2, "Write refused": 2})
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

// TestDeadline runs sqlstoretest.Deadline: the expiry is capped at the
// record's "__deadline", and the deltas that set or drop it.
func TestDeadline(t *testing.T) {
	sqlstoretest.Deadline(t, newStore(t, fileDB(t)))
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
		if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": nil}}, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		s.Remove(bg, "t"+id, time.Millisecond)
	}
	if err := s.Write(bg, "live", sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": nil}}, time.Minute); err != nil {
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
	name := randomName("old")
	table := `"` + name + `"`
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE ` + table + ` (id TEXT NOT NULL PRIMARY KEY, state INTEGER NOT NULL,
		expires_at INTEGER NOT NULL, data TEXT NOT NULL)`)
	_, err := sqlitestore.New(bg, db, sqlitestore.WithTable(name), sqlitestore.WithSweepInterval(-1))
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("New on a table without the deadline column gave %v, want an error naming the column", err)
	}
	exec(`ALTER TABLE ` + table + ` ADD COLUMN deadline INTEGER`)
	s, err := sqlitestore.New(bg, db, sqlitestore.WithTable(name), sqlitestore.WithSweepInterval(-1))
	if err != nil {
		t.Fatalf("New after adding the column: %v", err)
	}
	defer s.Close()
	sqlstoretest.WithMargin(t, func(margin time.Duration) bool {
		id, end := "d"+margin.String(), time.Now().Add(margin)
		dl := strconv.FormatInt(end.UnixMilli(), 10)
		// A row as the earlier version left it, then the doc's fill.
		exec(`INSERT INTO `+table+` (id, state, expires_at, data) VALUES (?, 1, ?, ?)`, id, dl, `{"__deadline":"`+dl+`"}`)
		exec(`UPDATE ` + table + ` SET deadline = CAST(json_extract(data, '$.__deadline') AS INTEGER)
			WHERE state = 1 AND json_type(data, '$.__deadline') = 'text'`)
		err := s.Write(bg, id, sessions.Change{Set: sessions.Record{"x": []byte("1")}}, time.Minute)
		if time.Now().After(end) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(end) + 500*time.Millisecond)
		if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Read past a migrated record's deadline gave %v, want ErrNotFound", err)
		}
		return true
	})
}

// TestCorruptRows runs sqlstoretest.CorruptRows on a table whose columns
// take NULL, as one created by hand may; SQLite's columns also take text
// that is not JSON, and text for an expiry.
func TestCorruptRows(t *testing.T) {
	db := fileDB(t)
	table := randomName("sessions")
	if _, err := db.Exec(`CREATE TABLE "` + table + `" (id TEXT PRIMARY KEY, state INTEGER, expires_at INTEGER, deadline INTEGER, data TEXT)`); err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.New(bg, db, sqlitestore.WithTable(table), sqlitestore.WithSweepInterval(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sqlstoretest.CorruptRows(t, s, sqlstoretest.Table{
		Insert: func(id string, r sqlstoretest.Row) error {
			_, err := db.Exec(`INSERT INTO "`+table+`" (id, state, expires_at, data) VALUES (?, ?, ?, ?)`, id, r.State, r.Expires, r.Data)
			return err
		},
		Has: func(id string) (bool, error) {
			var ok bool
			err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM "`+table+`" WHERE id = ?)`, id).Scan(&ok)
			return ok, err
		},
		Sweep:      s.Sweep,
		Malformed:  `{"a":`,
		TextExpiry: true,
	})
}
