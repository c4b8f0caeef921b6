package mysqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/internal/sqlcount"
	"github.com/sessionkit/sessions/internal/sqltest"
	"github.com/sessionkit/sessions/mysqlstore"
)

// TestStatementsPerCall checks that every Store call is one statement.
func TestStatementsPerCall(t *testing.T) {
	var n atomic.Int64
	db := sqlcount.Open(driverOf(), testDSN(t), &n)
	t.Cleanup(func() { db.Close() })
	s := newStore(t, db, mysqlstore.WithSweepInterval(0))
	sqltest.StatementsPerCall(t, s, n.Load, nil)
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

// TestDeadline runs sqltest.Deadline: the expiry is capped at the record's
// "__deadline", and the deltas that set or drop it.
func TestDeadline(t *testing.T) {
	sqltest.Deadline(t, newStore(t, testDB(t)))
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
				if err := s.Write(ctx, id, sessions.Change{Create: true, Set: sessions.Record{k: []byte(k)}}, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			del := append([]string(nil), keys...)
			rand.Shuffle(len(del), func(i, j int) { del[i], del[j] = del[j], del[i] })
			del = del[:2+round%5]
			if err := s.Write(ctx, id, sessions.Change{Create: create, Set: sessions.Record{"kept": []byte("1")}, Delete: del}, time.Hour); err != nil {
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
