package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlitestore"
)

// BenchmarkLayout measures the layout this package uses, one row per
// record with its keys in a JSON object changed by json_patch, against one
// row per key, changed in a transaction (the header row's check and
// expiry, an upsert of each key set, a delete of the keys removed). Both
// on a WAL file. "small" is a typical session (six short values), "large"
// one that also holds a 64 KiB value; each delta sets one short key.
func BenchmarkLayout(b *testing.B) {
	for _, size := range []string{"small", "large"} {
		rec := sessions.Record{"__created": []byte("1700000000000"), "__touched": []byte("1700000000000"),
			"user": []byte(`"alice"`), "role": []byte(`"admin"`), "n": []byte("1"), "theme": []byte(`"dark"`)}
		if size == "large" {
			rec["blob"] = []byte(`"` + strings.Repeat("x", 64<<10) + `"`)
		}
		b.Run("layout=json/size="+size, func(b *testing.B) { benchJSON(b, rec) })
		b.Run("layout=rows/size="+size, func(b *testing.B) { benchRows(b, rec) })
	}
}

func layoutDB(b *testing.B) *sql.DB {
	dsn := "file:" + filepath.Join(b.TempDir(), "s.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchJSON(b *testing.B, rec sessions.Record) {
	s, err := sqlitestore.New(bg, layoutDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(bg, "id", sessions.Change{Mode: sessions.ModeReplace, Set: rec}, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("op=delta", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ch := sessions.Change{Set: sessions.Record{"n": []byte(fmt.Sprint(i))}}
			if err := s.Write(bg, "id", ch, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Read(bg, "id"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rowStore is the row-per-key layout, just enough of it to measure.
type rowStore struct {
	db                                *sql.DB
	head, upsert, del, read, readHead *sql.Stmt
}

func newRowStore(b *testing.B, db *sql.DB) *rowStore {
	for _, q := range []string{
		`CREATE TABLE head (id TEXT PRIMARY KEY, state INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
		`CREATE TABLE kv (id TEXT NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (id, k)) WITHOUT ROWID`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	prep := func(q string) *sql.Stmt {
		st, err := db.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	now := `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
	return &rowStore{
		db: db,
		head: prep(`UPDATE head SET expires_at = CASE WHEN state = 1 THEN ` + now + ` + ?2 ELSE expires_at END
			WHERE id = ?1 AND expires_at > ` + now + ` RETURNING state`),
		upsert:   prep(`INSERT INTO kv (id, k, v) VALUES (?, ?, ?) ON CONFLICT (id, k) DO UPDATE SET v = excluded.v`),
		del:      prep(`DELETE FROM kv WHERE id = ? AND k = ?`),
		readHead: prep(`SELECT 1 FROM head WHERE id = ? AND state = 1 AND expires_at > ` + now),
		read:     prep(`SELECT k, v FROM kv WHERE id = ?`),
	}
}

func (s *rowStore) delta(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var state int
	if err := tx.StmtContext(ctx, s.head).QueryRowContext(ctx, id, ttl.Milliseconds()).Scan(&state); err != nil {
		return err
	}
	for k, v := range ch.Set {
		if _, err := tx.StmtContext(ctx, s.upsert).ExecContext(ctx, id, []byte(k), v); err != nil {
			return err
		}
	}
	for _, k := range ch.Delete {
		if _, err := tx.StmtContext(ctx, s.del).ExecContext(ctx, id, []byte(k)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *rowStore) get(ctx context.Context, id string) (sessions.Record, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var one int
	if err := tx.StmtContext(ctx, s.readHead).QueryRowContext(ctx, id).Scan(&one); err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, s.read).QueryContext(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r := sessions.Record{}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		r[string(k)] = v
	}
	return r, rows.Err()
}

func benchRows(b *testing.B, rec sessions.Record) {
	db := layoutDB(b)
	s := newRowStore(b, db)
	if _, err := db.Exec(`INSERT INTO head VALUES ('id', 1, 9000000000000)`); err != nil {
		b.Fatal(err)
	}
	if err := s.delta(bg, "id", sessions.Change{Set: rec}, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("op=delta", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ch := sessions.Change{Set: sessions.Record{"n": []byte(fmt.Sprint(i))}}
			if err := s.delta(bg, "id", ch, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.get(bg, "id"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
