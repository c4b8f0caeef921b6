package mysqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/mysqlstore"
	"github.com/sessionkit/sessions/sessionstest"
)

var bg = context.Background()

// testDSN returns SESSIONS_MYSQL_DSN. Without it the test is skipped,
// except under CI=true, where it fails.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SESSIONS_MYSQL_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SESSIONS_MYSQL_DSN is not set: CI must run against a MySQL or MariaDB server")
		}
		t.Skip("SESSIONS_MYSQL_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test)")
	}
	return dsn
}

func testDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(bg); err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return db
}

// driverOf returns the MySQL driver, for the statement counter.
func driverOf() *mysql.MySQLDriver { return &mysql.MySQLDriver{} }

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// newStore returns a Store on a table of its own, dropped when t ends.
func newStore(t *testing.T, db *sql.DB, opts ...mysqlstore.Option) *mysqlstore.Store {
	t.Helper()
	table := randomName("sessions")
	s, err := mysqlstore.New(bg, db, append([]mysqlstore.Option{mysqlstore.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatalf("mysqlstore.New: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if _, err := db.Exec("DROP TABLE IF EXISTS `" + table + "`"); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return s
}

// TestGuarantees runs the guarantees over real HTTP on the store (G1, G2,
// G3, G12 races, under -race), with a quarter of the unsynchronised rounds.
func TestGuarantees(t *testing.T) {
	db := testDB(t)
	sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newStore(t, db) }, sessionstest.Rounds(0.25))
}

func TestConformance(t *testing.T) {
	db := testDB(t)
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, db) })
}

// TestConformanceSimultaneousAssignment runs the suite with MariaDB's
// SIMULTANEOUS_ASSIGNMENT mode, under which every expression of a SET list
// sees the old row. MySQL has no such mode.
func TestConformanceSimultaneousAssignment(t *testing.T) {
	db := simultaneousDB(t)
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, db) })
}

// simultaneousDB returns a pool whose connections run in MariaDB's
// SIMULTANEOUS_ASSIGNMENT mode, and skips t on MySQL.
func simultaneousDB(t *testing.T) *sql.DB {
	cfg, err := mysql.ParseDSN(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if !isMariaDB(t, testDB(t)) {
		t.Skip("the server is not MariaDB")
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'STRICT_TRANS_TABLES,SIMULTANEOUS_ASSIGNMENT'"
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var mode string
	if err := db.QueryRow("SELECT @@SESSION.sql_mode").Scan(&mode); err != nil || !strings.Contains(mode, "SIMULTANEOUS_ASSIGNMENT") {
		t.Fatalf("sql_mode is %q (%v), want SIMULTANEOUS_ASSIGNMENT", mode, err)
	}
	return db
}

// isMariaDB reports whether db is a MariaDB server.
func isMariaDB(t *testing.T, db *sql.DB) bool {
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(version, "MariaDB")
}
