package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/pgstore"
	"github.com/sessionkit/sessions/sessionstest"
)

// testPool connects to the server named by SESSIONS_PG_DSN. Without it the
// test is skipped, except under CI=true, where it fails.
func testPool(t *testing.T, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("SESSIONS_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SESSIONS_PG_DSN is not set: CI must run against a PostgreSQL server")
		}
		t.Skip("SESSIONS_PG_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test)")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parsing SESSIONS_PG_DSN: %v", err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// tableName returns a table name no other test run uses.
func tableName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "sessions_test_" + hex.EncodeToString(b)
}

// newStore returns a Store on a table of its own, dropped when t ends.
func newStore(t *testing.T, pool *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	table := tableName()
	s, err := pgstore.New(context.Background(), pool, append([]pgstore.Option{pgstore.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatalf("pgstore.New: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if _, err := pool.Exec(context.Background(), `DROP TABLE IF EXISTS "`+table+`"`); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return s
}

// TestGuarantees runs the guarantees over real HTTP on the store (G1, G2,
// G3, G12 races, under -race), with a quarter of the unsynchronised rounds.
func TestGuarantees(t *testing.T) {
	pool := testPool(t, nil)
	sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newStore(t, pool) }, sessionstest.Rounds(0.25))
}

func TestConformance(t *testing.T) {
	pool := testPool(t, nil)
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, pool) })
}

// counter counts the statements sent to the server.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
