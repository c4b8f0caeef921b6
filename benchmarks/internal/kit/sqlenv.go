package kit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	scsmysql "github.com/alexedwards/scs/mysqlstore"
	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/sessionkit/sessions/mysqlstore"
	"github.com/sessionkit/sessions/pgstore"
	"github.com/sessionkit/sessions/sqlitestore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// SQLEnv is one database with a constructor for this library's store and
// one for scs's on it. Both share one pool, so they run on the same driver
// settings, and every statement of a gated handler counts into Counter.
type SQLEnv struct {
	Name    string // "postgres", "mysql" or "sqlite"
	Counter *StmtCounter
	Libs    []SQLLib // ours, then scs
	closers []func() error
}

// SQLLib names a library and builds it on its SQL store.
type SQLLib struct {
	Name string
	New  func(ctx context.Context) (*Lib, error)
}

// Close drops what OpenSQL created (tables, the MySQL database, the SQLite
// file) and closes the pools.
func (e *SQLEnv) Close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i]())
	}
	return errors.Join(errs...)
}

// Lib returns the constructor of the library called name, or nil.
func (e *SQLEnv) Lib(name string) func(ctx context.Context) (*Lib, error) {
	for _, l := range e.Libs {
		if l.Name == name {
			return l.New
		}
	}
	return nil
}

// OpenSQL sets up database db ("postgres" or "mysql" at dsn, or "sqlite"
// in a temporary file) with pools of poolSize connections. Its tables, and
// on MySQL its database, are named after tag, so that runs in parallel
// never share one.
func OpenSQL(ctx context.Context, db, dsn, tag string, poolSize int) (*SQLEnv, error) {
	e := &SQLEnv{Name: db, Counter: &StmtCounter{}}
	var err error
	switch db {
	case "postgres":
		err = e.openPostgres(ctx, dsn, tag, poolSize)
	case "mysql":
		err = e.openMySQL(ctx, dsn, tag, poolSize)
	case "sqlite":
		err = e.openSQLite(ctx, poolSize)
	default:
		err = fmt.Errorf("unknown database %q (want postgres, mysql or sqlite)", db)
	}
	if err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

func (e *SQLEnv) onClose(f func() error) { e.closers = append(e.closers, f) }

func (e *SQLEnv) openPostgres(ctx context.Context, dsn, tag string, poolSize int) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(poolSize)
	cfg.ConnConfig.Tracer = e.Counter
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	e.onClose(func() error { err := db.Close(); pool.Close(); return err })
	ours, theirs := tag+"_ours", tag+"_scs"
	e.onClose(func() error { return exec(db, `DROP TABLE IF EXISTS `+theirs+`, `+ours) })
	if err := exec(db, `CREATE TABLE `+theirs+` (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
		`CREATE INDEX `+theirs+`_expiry_idx ON `+theirs+` (expiry)`); err != nil {
		return err
	}
	e.Libs = []SQLLib{
		{"ours", func(ctx context.Context) (*Lib, error) {
			st, err := pgstore.New(ctx, pool, pgstore.WithTable(ours), pgstore.WithSweepInterval(-1))
			if err != nil {
				return nil, err
			}
			return OursSQL(st, "postgres", func() { st.Close() }), nil
		}},
		{"scs", func(context.Context) (*Lib, error) {
			st := postgresstore.NewWithConfig(db, postgresstore.Config{TableName: theirs})
			return SCSSQL(st, "postgres"), nil
		}},
	}
	return nil
}

func (e *SQLEnv) openMySQL(ctx context.Context, dsn, tag string, poolSize int) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	// scs's MySQL store always uses the table "sessions": give the run a
	// database of its own.
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	e.onClose(admin.Close)
	dbName := tag
	if err := exec(admin, "CREATE DATABASE "+dbName); err != nil {
		return err
	}
	e.onClose(func() error { return exec(admin, "DROP DATABASE IF EXISTS "+dbName) })
	cfg.DBName = dbName
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(e.Counter.WrapConnector(conn))
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	e.onClose(db.Close)
	if err := exec(db, `CREATE TABLE sessions (token CHAR(43) PRIMARY KEY, data BLOB NOT NULL, expiry TIMESTAMP(6) NOT NULL, KEY sessions_expiry_idx (expiry))`); err != nil {
		return err
	}
	e.Libs = []SQLLib{
		{"ours", func(ctx context.Context) (*Lib, error) {
			st, err := mysqlstore.New(ctx, db, mysqlstore.WithTable("bench_ours"), mysqlstore.WithSweepInterval(-1))
			if err != nil {
				return nil, err
			}
			return OursSQL(st, "mysql", func() { st.Close() }), nil
		}},
		{"scs", func(context.Context) (*Lib, error) {
			return SCSSQL(scsmysql.NewWithCleanupInterval(db, 0), "mysql"), nil
		}},
	}
	return nil
}

func (e *SQLEnv) openSQLite(ctx context.Context, poolSize int) error {
	dir, err := os.MkdirTemp("", "sessionkit-bench-")
	if err != nil {
		return err
	}
	e.onClose(func() error { return os.RemoveAll(dir) })
	dsn := "file:" + filepath.Join(dir, "sessions.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db := sql.OpenDB(e.Counter.WrapConnector(sqlstoretest.DSN{Name: dsn, Drv: &sqlite.Driver{}}))
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	e.onClose(db.Close)
	if err := exec(db, `CREATE TABLE scs_sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)`,
		`CREATE INDEX scs_sessions_expiry_idx ON scs_sessions (expiry)`); err != nil {
		return err
	}
	e.Libs = []SQLLib{
		{"ours", func(ctx context.Context) (*Lib, error) {
			st, err := sqlitestore.New(ctx, db, sqlitestore.WithSweepInterval(-1))
			if err != nil {
				return nil, err
			}
			return OursSQL(st, "sqlite", func() { st.Close() }), nil
		}},
		{"scs", func(context.Context) (*Lib, error) {
			st := sqlite3store.NewWithConfig(db, sqlite3store.Config{TableName: "scs_sessions"})
			return SCSSQL(st, "sqlite"), nil
		}},
	}
	return nil
}

// exec runs each statement, with a bound of its own.
func exec(db *sql.DB, stmts ...string) error {
	for _, q := range stmts {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := db.ExecContext(ctx, q)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
