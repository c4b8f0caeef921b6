package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/mysqlstore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// TestStatementsPerCall checks that every Store call is one statement.
func TestStatementsPerCall(t *testing.T) {
	var n atomic.Int64
	db := sqlstoretest.OpenCounting(driverOf(), testDSN(t), &n)
	t.Cleanup(func() { db.Close() })
	s := newStore(t, db, mysqlstore.WithSweepInterval(-1))
	sqlstoretest.StatementsPerCall(t, s, n.Load, nil)
}

// TestCorruptRow checks that rows which do not decode give ErrCorrupt.
func TestCorruptRow(t *testing.T) {
	db := testDB(t)
	table := randomName("sessions")
	s, err := mysqlstore.New(bg, db, mysqlstore.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Exec("DROP TABLE `" + table + "`") })
	for i, data := range []string{`{"a": 1}`, `{"~%%": "x"}`, `{"a": "~not base64!"}`, `[1]`, `"x"`} {
		id := "c" + strconv.Itoa(i)
		if _, err := db.Exec("INSERT INTO `"+table+"` VALUES (?, 1, 9000000000000, ?)", id, data); err != nil {
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
	sqlstoretest.Deadline(t, newStore(t, testDB(t)))
}

// TestSweeper checks that expired records and tombstones are deleted, and
// live ones kept.
func TestSweeper(t *testing.T) {
	db := testDB(t)
	table := randomName("sessions")
	s, err := mysqlstore.New(bg, db, mysqlstore.WithTable(table), mysqlstore.WithSweepInterval(20*time.Millisecond), mysqlstore.WithSweepBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Exec("DROP TABLE `" + table + "`") })
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
		if err := db.QueryRow("SELECT count(*) FROM `" + table + "`").Scan(&n); err != nil {
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

func TestBadTableName(t *testing.T) {
	db := testDB(t)
	for _, name := range []string{"", "a;b", `a"b`, strings.Repeat("a", 49), "a.b", "1a"} {
		if _, err := mysqlstore.New(bg, db, mysqlstore.WithTable(name)); err == nil {
			t.Errorf("New with table name %q gave no error", name)
		}
	}
}

// TestDeltaDeletesInAnyOrder: a delta or a Create that deletes several keys
// deletes them all, whatever order the record holds them in and the change
// lists them in (MariaDB's JSON_MERGE_PATCH does not).
func TestDeltaDeletesInAnyOrder(t *testing.T) {
	s := newStore(t, testDB(t))
	ctx := context.Background()
	keys := []string{"d", "a", "b", "c", "e", "f"}
	for round := 0; round < 40; round++ {
		for _, create := range []bool{false, true} {
			id := fmt.Sprintf("u:%064d", round*2+map[bool]int{false: 0, true: 1}[create])
			for _, k := range keys {
				if err := s.Write(ctx, id, sessions.Change{Mode: sessions.ModeUpsert, Set: sessions.Record{k: []byte(k)}}, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			del := append([]string(nil), keys...)
			rand.Shuffle(len(del), func(i, j int) { del[i], del[j] = del[j], del[i] })
			del = del[:2+round%5]
			ch := sessions.Change{Set: sessions.Record{"kept": []byte("1")}, Delete: del}
			if create {
				ch.Mode = sessions.ModeUpsert
			}
			if err := s.Write(ctx, id, ch, time.Hour); err != nil {
				t.Fatal(err)
			}
			rec, err := s.Read(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range del {
				if _, ok := rec[k]; ok {
					t.Fatalf("round %d (create %v): deleting %q left %q in the record", round, create, del, k)
				}
			}
			if len(rec) != len(keys)-len(del)+1 {
				t.Fatalf("round %d: record %q after deleting %q", round, rec, del)
			}
		}
	}
}

// TestCorruptRows runs sqlstoretest.CorruptRows on a table whose columns
// take NULL, as one created by hand may, reading the SET lists both ways.
func TestCorruptRows(t *testing.T) {
	t.Run("LeftToRight", func(t *testing.T) { corruptRows(t, testDB(t)) })
	t.Run("SimultaneousAssignment", func(t *testing.T) { corruptRows(t, simultaneousDB(t)) })
}

// corruptRows runs sqlstoretest.CorruptRows on db. On MariaDB, whose JSON
// column is text with a check, it also stores text that is not JSON.
func corruptRows(t *testing.T, db *sql.DB) {
	table := randomName("sessions")
	if _, err := db.Exec("CREATE TABLE `" + table + "` (id VARBINARY(255) NOT NULL PRIMARY KEY, state TINYINT, expires_at BIGINT, data JSON, KEY (expires_at))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE `" + table + "`") })
	s, err := mysqlstore.New(bg, db, mysqlstore.WithTable(table), mysqlstore.WithSweepInterval(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	insert, malformed := "INSERT INTO `"+table+"` VALUES (?, ?, ?, ?)", ""
	if isMariaDB(t, db) {
		insert, malformed = "SET STATEMENT check_constraint_checks = 0 FOR "+insert, `{"a":`
	}
	sqlstoretest.CorruptRows(t, s, sqlstoretest.Table{
		Insert: func(id string, r sqlstoretest.Row) error {
			_, err := db.Exec(insert, id, r.State, r.Expires, r.Data)
			return err
		},
		Has: func(id string) (bool, error) {
			var ok bool
			err := db.QueryRow("SELECT EXISTS (SELECT 1 FROM `"+table+"` WHERE id = ?)", id).Scan(&ok)
			return ok, err
		},
		Sweep:     s.Sweep,
		Malformed: malformed,
	})
}

// TestColumnTypes checks that New refuses a table whose columns are not of
// the types the package documents, naming the column and both types, and
// accepts the table it creates, the documented DDL run by hand, and one
// whose columns take NULL.
func TestColumnTypes(t *testing.T) {
	db := testDB(t)
	doc := "(id VARBINARY(255) NOT NULL PRIMARY KEY, state TINYINT NOT NULL, expires_at BIGINT NOT NULL, data JSON NOT NULL, KEY (expires_at))"
	jsonAs := "json"
	if isMariaDB(t, db) {
		jsonAs = "longtext without CHECK (json_valid(`data`))"
	}
	for _, c := range []struct{ ddl, want string }{
		{strings.Replace(doc, "state TINYINT", "state INT", 1), "column state is int, want tinyint"},
		{strings.Replace(doc, "expires_at BIGINT", "expires_at INT", 1), "column expires_at is int, want bigint"},
		{strings.Replace(doc, "data JSON", "data TEXT", 1), "column data is text, want json"},
		{strings.Replace(doc, "data JSON", "data LONGTEXT", 1), "column data is " + jsonAs + ", want json"},
		{strings.Replace(doc, "id VARBINARY(255)", "id VARCHAR(255)", 1), "column id is varchar(255), want varbinary(255)"},
		{strings.Replace(doc, "id VARBINARY(255)", "id VARBINARY(64)", 1), "column id is varbinary(64), want varbinary(255)"},
		{"(id VARBINARY(255) PRIMARY KEY, state TINYINT, expires_at BIGINT)", "column data is missing"},
	} {
		_, err := newOnTable(t, db, c.ddl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New on a table %s gave %v, want an error saying %q", c.ddl, err, c.want)
		}
	}
	for _, ddl := range []string{doc, strings.Replace(doc, "id VARBINARY(255)", "id VARBINARY(70)", 1),
		"(id VARBINARY(255) PRIMARY KEY, state TINYINT UNSIGNED, expires_at BIGINT, data JSON)"} {
		if _, err := newOnTable(t, db, ddl); err != nil {
			t.Errorf("New on a table %s gave %v", ddl, err)
		}
	}
	newStore(t, db, mysqlstore.WithCreateTable(true))
}

// newOnTable creates a table with the columns ddl and returns New's answer
// on it, without creating a table.
func newOnTable(t *testing.T, db *sql.DB, ddl string) (*mysqlstore.Store, error) {
	table := randomName("sessions")
	if _, err := db.Exec("CREATE TABLE `" + table + "` " + ddl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE `" + table + "`") })
	s, err := mysqlstore.New(bg, db, mysqlstore.WithTable(table), mysqlstore.WithCreateTable(false), mysqlstore.WithSweepInterval(-1))
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}
