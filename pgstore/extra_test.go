package pgstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/pgstore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

var bg = context.Background()

// TestStatementsPerCall checks that every Store call is one statement.
func TestStatementsPerCall(t *testing.T) {
	c := &counter{}
	pool := testPool(t, c)
	s := newStore(t, pool, pgstore.WithSweepInterval(-1))
	sqlstoretest.StatementsPerCall(t, s, c.n.Load, nil)
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

// TestDeadline runs sqlstoretest.Deadline: the expiry is capped at the
// record's "__deadline", and the deltas that set or drop it.
func TestDeadline(t *testing.T) {
	sqlstoretest.Deadline(t, newStore(t, testPool(t, nil)))
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

// TestCorruptRows runs sqlstoretest.CorruptRows on a table whose columns
// take NULL, as one created by hand may.
func TestCorruptRows(t *testing.T) {
	pool := testPool(t, nil)
	table := tableName()
	if _, err := pool.Exec(bg, `CREATE TABLE "`+table+`" (id text COLLATE "C" PRIMARY KEY, state smallint, expires_at bigint, data jsonb)`); err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.New(bg, pool, pgstore.WithTable(table), pgstore.WithSweepInterval(-1))
	t.Cleanup(func() { pool.Exec(bg, `DROP TABLE "`+table+`"`) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sqlstoretest.CorruptRows(t, s, sqlstoretest.Table{
		Insert: func(id string, r sqlstoretest.Row) error {
			_, err := pool.Exec(bg, `INSERT INTO "`+table+`" VALUES ($1, $2, $3, $4::jsonb)`, id, r.State, r.Expires, r.Data)
			return err
		},
		Has: func(id string) (bool, error) {
			var ok bool
			err := pool.QueryRow(bg, `SELECT EXISTS (SELECT 1 FROM "`+table+`" WHERE id = $1)`, id).Scan(&ok)
			return ok, err
		},
		Sweep: s.Sweep,
	})
}

// TestColumnTypes checks that New refuses a table whose columns are not of
// the types the package documents, naming the column and both types, and
// accepts the table it creates, the documented DDL run by hand, and one
// whose columns take NULL.
func TestColumnTypes(t *testing.T) {
	pool := testPool(t, nil)
	doc := `(id text COLLATE "C" PRIMARY KEY, state smallint NOT NULL, expires_at bigint NOT NULL, data jsonb NOT NULL)`
	for _, c := range []struct{ ddl, want string }{
		{strings.Replace(doc, "state smallint", "state integer", 1), "column state is integer, want smallint"},
		{strings.Replace(doc, "expires_at bigint", "expires_at integer", 1), "column expires_at is integer, want bigint"},
		{strings.Replace(doc, "data jsonb", "data json", 1), "column data is json, want jsonb"},
		{strings.Replace(doc, `id text COLLATE "C"`, "id varchar(255)", 1), "column id is character varying(255), want text"},
		{`(id text PRIMARY KEY, state smallint, expires_at bigint)`, "column data is missing"},
	} {
		_, err := newOnTable(t, pool, c.ddl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New on a table %s gave %v, want an error saying %q", c.ddl, err, c.want)
		}
	}
	for _, ddl := range []string{doc, `(id text PRIMARY KEY, state smallint, expires_at bigint, data jsonb)`} {
		if _, err := newOnTable(t, pool, ddl); err != nil {
			t.Errorf("New on a table %s gave %v", ddl, err)
		}
	}
	newStore(t, pool, pgstore.WithCreateTable(true))
}

// newOnTable creates a table with the columns ddl and returns New's answer
// on it, without creating a table.
func newOnTable(t *testing.T, pool *pgxpool.Pool, ddl string) (*pgstore.Store, error) {
	table := tableName()
	if _, err := pool.Exec(bg, `CREATE TABLE "`+table+`" `+ddl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(bg, `DROP TABLE "`+table+`"`) })
	s, err := pgstore.New(bg, pool, pgstore.WithTable(table), pgstore.WithCreateTable(false), pgstore.WithSweepInterval(-1))
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}
