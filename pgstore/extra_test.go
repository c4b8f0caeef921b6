package pgstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/internal/sqltest"
	"github.com/sessionkit/sessions/pgstore"
)

var bg = context.Background()

// TestStatementsPerCall checks that every Store call is one statement.
func TestStatementsPerCall(t *testing.T) {
	c := &counter{}
	pool := testPool(t, c)
	s := newStore(t, pool, pgstore.WithSweepInterval(0))
	sqltest.StatementsPerCall(t, s, c.n.Load, nil)
}

// TestCorruptRow checks that rows which do not decode give ErrCorrupt.
func TestCorruptRow(t *testing.T) {
	pool := testPool(t, nil)
	table := tableName()
	s, err := pgstore.New(bg, pool, pgstore.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); pool.Exec(bg, `DROP TABLE "`+table+`"`) })
	for i, data := range []string{`{"a": 1}`, `{"~%%": "x"}`, `{"a": "~not base64!"}`, `[1]`, `"x"`} {
		id := "c" + strconv.Itoa(i)
		if _, err := pool.Exec(bg, `INSERT INTO "`+table+`" VALUES ($1, 1, 9000000000000, $2::jsonb)`, id, data); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrCorrupt) {
			t.Errorf("Read of a row holding %s gave %v, want ErrCorrupt", data, err)
		}
	}
}

// TestDeadline runs sqltest.Deadline: the expiry is capped at the record's
// "__deadline", and the deltas that set or drop it.
func TestDeadline(t *testing.T) {
	sqltest.Deadline(t, newStore(t, testPool(t, nil)))
}

// TestSweeper checks that expired records and tombstones are deleted, and
// live ones kept.
func TestSweeper(t *testing.T) {
	pool := testPool(t, nil)
	table := tableName()
	s, err := pgstore.New(bg, pool, pgstore.WithTable(table), pgstore.WithSweepInterval(20*time.Millisecond), pgstore.WithSweepBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); pool.Exec(bg, `DROP TABLE "`+table+`"`) })
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
		if err := pool.QueryRow(bg, `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("the sweeper left %d rows, want 2 (the live record and the live tombstone)", n)
	}
	s.Close()
	if ok, err := s.Exists(bg, "live"); !ok || err != nil {
		t.Errorf("Exists of the live record after Close gave (%v, %v)", ok, err)
	}
}

func TestBadTableName(t *testing.T) {
	pool := testPool(t, nil)
	for _, name := range []string{"", "a;b", `a"b`, strings.Repeat("a", 49), "a.b.c", "1a"} {
		if _, err := pgstore.New(bg, pool, pgstore.WithTable(name)); err == nil {
			t.Errorf("New with table name %q gave no error", name)
		}
	}
}
