package benchmarks

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/sessionkit/sessions/benchmarks/internal/kit"
)

// sqlPoolSize is the connection pool of every SQL benchmark, for both
// libraries: room for the goroutines of a parallel run.
const sqlPoolSize = 32

// BenchmarkSQL compares this library's SQL stores with scs's on the same
// databases: PostgreSQL (SESSIONS_PG_DSN), MySQL or MariaDB
// (SESSIONS_MYSQL_DSN) and SQLite (a temporary file, always). It reports
// stmts/op, the SQL statements per request, and prep/op, the statements
// prepared per request (a driver that cannot run a statement with
// arguments unprepared prepares it every time).
func BenchmarkSQL(b *testing.B) {
	dbs := []struct{ name, dsnVar string }{
		{"postgres", "SESSIONS_PG_DSN"},
		{"mysql", "SESSIONS_MYSQL_DSN"},
		{"sqlite", ""},
	}
	for _, d := range dbs {
		e := sqlEnv(b, d.name, d.dsnVar)
		if e == nil {
			continue
		}
		for _, sc := range scenarios {
			for _, l := range e.Libs {
				for _, mode := range modes() {
					b.Run(fmt.Sprintf("db=%s/sc=%s/lib=%s/run=%s", e.Name, sc.name, l.Name, mode), func(b *testing.B) {
						lib, err := l.New(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						defer lib.Close()
						e.Counter.Gate(lib)
						s0, p0 := e.Counter.Stmts(), e.Counter.Preps()
						run(b, benchCase{lib: lib, sc: sc, parallelism: redisParallelism}, mode == "parallel")
						b.ReportMetric(float64(e.Counter.Stmts()-s0)/float64(b.N), "stmts/op")
						b.ReportMetric(float64(e.Counter.Preps()-p0)/float64(b.N), "prep/op")
					})
				}
			}
		}
	}
}

// sqlEnv opens database db for a benchmark run, or returns nil when its
// DSN is not set (SQLite needs none).
func sqlEnv(b *testing.B, db, dsnVar string) *kit.SQLEnv {
	dsn := ""
	if dsnVar != "" {
		if dsn = os.Getenv(dsnVar); dsn == "" {
			return nil
		}
	}
	e, err := kit.OpenSQL(context.Background(), db, dsn, fmt.Sprintf("sessionkit_bench_%d", os.Getpid()), sqlPoolSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := e.Close(); err != nil {
			b.Error(err)
		}
	})
	return e
}
