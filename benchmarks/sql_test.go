package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	scsmysql "github.com/alexedwards/scs/mysqlstore"
	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/sessionkit/sessions/benchmarks/internal/kit"
	"github.com/sessionkit/sessions/mysqlstore"
	"github.com/sessionkit/sessions/pgstore"
	"github.com/sessionkit/sessions/sqlitestore"
)

// sqlPoolSize is the connection pool of every SQL benchmark, for both
// libraries: room for the goroutines of a parallel run.
const sqlPoolSize = 32

// sqlEnv is one database, with a constructor for each library on it. Both
// libraries share one pool, so they run on the same driver settings.
type sqlEnv struct {
	name    string // "postgres", "mysql" or "sqlite", in every benchmark name
	counter *kit.StmtCounter
	libs    []sqlLib
}

type sqlLib struct {
	name string
	new  func() (*kit.Lib, error)
}

// BenchmarkSQL compares this library's SQL stores with scs's on the same
// databases: PostgreSQL (SESSIONS_PG_DSN), MySQL or MariaDB
// (SESSIONS_MYSQL_DSN) and SQLite (a temporary file, always). It reports
// stmts/op, the SQL statements per request, and prep/op, the statements
// prepared per request (a driver that cannot run a statement with
// arguments unprepared prepares it every time).
func BenchmarkSQL(b *testing.B) {
	envs := []func(b *testing.B) *sqlEnv{pgEnv, mysqlEnv, sqliteEnv}
	for _, newEnv := range envs {
		e := newEnv(b)
		if e == nil {
			continue
		}
		for _, sc := range scenarios {
			for _, l := range e.libs {
				for _, mode := range modes() {
					b.Run(fmt.Sprintf("db=%s/sc=%s/lib=%s/run=%s", e.name, sc.name, l.name, mode), func(b *testing.B) {
						lib, err := l.new()
						if err != nil {
							b.Fatal(err)
						}
						defer lib.Close()
						e.counter.Gate(lib)
						s0, p0 := e.counter.Stmts(), e.counter.Preps()
						run(b, benchCase{lib: lib, sc: sc, parallelism: redisParallelism}, mode == "parallel")
						b.ReportMetric(float64(e.counter.Stmts()-s0)/float64(b.N), "stmts/op")
						b.ReportMetric(float64(e.counter.Preps()-p0)/float64(b.N), "prep/op")
					})
				}
			}
		}
	}
}

var bg = context.Background()

func benchName(prefix string) string { return fmt.Sprintf("%s_%d", prefix, os.Getpid()) }

func pgEnv(b *testing.B) *sqlEnv {
	dsn := os.Getenv("SESSIONS_PG_DSN")
	if dsn == "" {
		return nil
	}
	c := &kit.StmtCounter{}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = sqlPoolSize
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(bg, cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	ours, theirs := benchName("bench_ours"), benchName("bench_scs")
	mustExec(b, db, `CREATE TABLE `+theirs+` (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`)
	mustExec(b, db, `CREATE INDEX `+theirs+`_expiry_idx ON `+theirs+` (expiry)`)
	b.Cleanup(func() {
		mustExec(b, db, `DROP TABLE IF EXISTS `+theirs+`, `+ours)
		db.Close()
		pool.Close()
	})
	return &sqlEnv{name: "postgres", counter: c, libs: []sqlLib{
		{"ours", func() (*kit.Lib, error) {
			st, err := pgstore.New(bg, pool, pgstore.WithTable(ours), pgstore.WithSweepInterval(0))
			if err != nil {
				return nil, err
			}
			return kit.OursSQL(st, "postgres", func() { st.Close() }), nil
		}},
		{"scs", func() (*kit.Lib, error) {
			st := postgresstore.NewWithConfig(db, postgresstore.Config{TableName: theirs})
			return kit.SCSSQL(st, "postgres"), nil
		}},
	}}
}

func mysqlEnv(b *testing.B) *sqlEnv {
	dsn := os.Getenv("SESSIONS_MYSQL_DSN")
	if dsn == "" {
		return nil
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		b.Fatal(err)
	}
	// scs's MySQL store always uses the table "sessions": give the run a
	// database of its own.
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	dbName := benchName("sessionkit_bench")
	mustExec(b, admin, "CREATE DATABASE "+dbName)
	cfg.DBName = dbName
	c := &kit.StmtCounter{}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(c.WrapConnector(conn))
	db.SetMaxOpenConns(sqlPoolSize)
	db.SetMaxIdleConns(sqlPoolSize)
	mustExec(b, db, `CREATE TABLE sessions (token CHAR(43) PRIMARY KEY, data BLOB NOT NULL, expiry TIMESTAMP(6) NOT NULL, KEY sessions_expiry_idx (expiry))`)
	b.Cleanup(func() {
		db.Close()
		mustExec(b, admin, "DROP DATABASE IF EXISTS "+dbName)
		admin.Close()
	})
	return &sqlEnv{name: "mysql", counter: c, libs: []sqlLib{
		{"ours", func() (*kit.Lib, error) {
			st, err := mysqlstore.New(bg, db, mysqlstore.WithTable("bench_ours"), mysqlstore.WithSweepInterval(0))
			if err != nil {
				return nil, err
			}
			return kit.OursSQL(st, "mysql", func() { st.Close() }), nil
		}},
		{"scs", func() (*kit.Lib, error) {
			return kit.SCSSQL(scsmysql.NewWithCleanupInterval(db, 0), "mysql"), nil
		}},
	}}
}

func sqliteEnv(b *testing.B) *sqlEnv {
	dir, err := os.MkdirTemp("", "sessionkit-bench-")
	if err != nil {
		b.Fatal(err)
	}
	dsn := "file:" + filepath.Join(dir, "sessions.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	c := &kit.StmtCounter{}
	db := sql.OpenDB(c.WrapConnector(kit.DSNConnector{DSN: dsn, Drv: &sqlite.Driver{}}))
	db.SetMaxOpenConns(sqlPoolSize)
	db.SetMaxIdleConns(sqlPoolSize)
	mustExec(b, db, `CREATE TABLE scs_sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)`)
	mustExec(b, db, `CREATE INDEX scs_sessions_expiry_idx ON scs_sessions (expiry)`)
	b.Cleanup(func() {
		db.Close()
		os.RemoveAll(dir)
	})
	return &sqlEnv{name: "sqlite", counter: c, libs: []sqlLib{
		{"ours", func() (*kit.Lib, error) {
			st, err := sqlitestore.New(bg, db, sqlitestore.WithSweepInterval(0))
			if err != nil {
				return nil, err
			}
			return kit.OursSQL(st, "sqlite", func() { st.Close() }), nil
		}},
		{"scs", func() (*kit.Lib, error) {
			st := sqlite3store.NewWithConfig(db, sqlite3store.Config{TableName: "scs_sessions"})
			return kit.SCSSQL(st, "sqlite"), nil
		}},
	}}
}

func mustExec(b *testing.B, db *sql.DB, q string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, q); err != nil {
		b.Fatalf("%s: %v", q, err)
	}
}
