package kit

import (
	"context"
	"database/sql/driver"
	"net/http"
	"sync/atomic"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// OursSQL is this library on one of its SQL stores; store names the
// database ("postgres", "mysql", "sqlite"). closers run on Close.
func OursSQL(st sessions.Store, store string, closers ...func()) *Lib {
	l := ours(st, store)
	l.closers = append(l.closers, closers...)
	return l
}

// SCSSQL is github.com/alexedwards/scs/v2 on one of its SQL stores.
func SCSSQL(st scs.Store, store string, closers ...func()) *Lib {
	l := scsLib(st, store)
	l.closers = append(l.closers, closers...)
	return l
}

// StmtCounter counts the SQL statements, and the statements prepared, that
// run while a request of a gated handler is in flight: seeding and checking
// sessions between the timed runs is not counted. It is a pgx tracer, and
// wraps database/sql connectors (WrapConnector).
type StmtCounter struct {
	inflight, stmts, preps atomic.Int64
}

// Gate wraps every handler of l but Seed and Dump, so that their statements
// are counted.
func (c *StmtCounter) Gate(l *Lib) *Lib {
	for op, h := range l.handlers {
		if op == Seed || op == Dump {
			continue
		}
		l.handlers[op] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.inflight.Add(1)
			defer c.inflight.Add(-1)
			h.ServeHTTP(w, r)
		})
	}
	return l
}

// Stmts returns the statements counted so far.
func (c *StmtCounter) Stmts() int64 { return c.stmts.Load() }

// Preps returns the statements prepared so far.
func (c *StmtCounter) Preps() int64 { return c.preps.Load() }

func (c *StmtCounter) countStmt() {
	if c.inflight.Load() > 0 {
		c.stmts.Add(1)
	}
}

func (c *StmtCounter) countPrep() {
	if c.inflight.Load() > 0 {
		c.preps.Add(1)
	}
}

// TraceQueryStart counts a statement sent by pgx.
func (c *StmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.countStmt()
	return ctx
}

// TraceQueryEnd does nothing.
func (c *StmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TracePrepareStart counts a statement prepared by pgx (its statement
// cache prepares each statement once per connection).
func (c *StmtCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.countPrep()
	return ctx
}

// TracePrepareEnd does nothing.
func (c *StmtCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// WrapConnector returns a connector whose connections count into c.
func (c *StmtCounter) WrapConnector(conn driver.Connector) driver.Connector {
	return sqlstoretest.CountingConnector(conn, func(prepared bool) {
		if prepared {
			c.countPrep()
		} else {
			c.countStmt()
		}
	})
}
