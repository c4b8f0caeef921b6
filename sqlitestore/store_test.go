package sqlitestore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
	"github.com/sessionkit/sessions/sqlitestore"
)

var bg = context.Background()

// fileDB opens a database file of its own in a temporary directory, in WAL
// mode, with a busy timeout so that concurrent writers wait their turn.
func fileDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "sessions.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	return openDB(t, dsn)
}

// memoryDB opens an in-memory database of its own. A shared cache keeps it
// alive while any connection is open; one connection avoids the table locks
// (SQLITE_LOCKED) that a shared cache gives concurrent connections instead
// of waiting.
func memoryDB(t *testing.T) *sql.DB {
	t.Helper()
	db := openDB(t, "file:"+randomName("mem")+"?mode=memory&cache=shared")
	db.SetMaxOpenConns(1)
	return db
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// newStore returns a Store on a table of its own, dropped when t ends.
func newStore(t *testing.T, db *sql.DB, opts ...sqlitestore.Option) *sqlitestore.Store {
	t.Helper()
	table := randomName("sessions")
	s, err := sqlitestore.New(bg, db, append([]sqlitestore.Option{sqlitestore.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatalf("sqlitestore.New: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if _, err := db.Exec(`DROP TABLE IF EXISTS "` + table + `"`); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return s
}

// TestGuarantees runs the guarantees over real HTTP on the store (G1, G2,
// G3, G12 races, under -race), with a quarter of the unsynchronised rounds.
func TestGuarantees(t *testing.T) {
	db := fileDB(t)
	sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newStore(t, db) }, sessionstest.Rounds(0.25))
}

func TestConformanceFile(t *testing.T) {
	db := fileDB(t)
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, db) })
}

func TestConformanceMemory(t *testing.T) {
	db := memoryDB(t)
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, db) })
}
