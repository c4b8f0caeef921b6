package kit

import (
	"context"
	"database/sql/driver"
	"net/http"
	"sync/atomic"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessions"
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
	return countingConnector{Connector: conn, c: c}
}

// DSNConnector is a driver.Connector for a driver that has none of its own.
type DSNConnector struct {
	DSN string
	Drv driver.Driver
}

// Connect opens a connection with the driver.
func (d DSNConnector) Connect(context.Context) (driver.Conn, error) { return d.Drv.Open(d.DSN) }

// Driver returns the driver.
func (d DSNConnector) Driver() driver.Driver { return d.Drv }

type countingConnector struct {
	driver.Connector
	c *StmtCounter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: conn, c: cc.c}, nil
}

type countConn struct {
	driver.Conn
	c *StmtCounter
}

func (cn *countConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *countConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	cn.c.countPrep()
	return &countStmt{Stmt: st, c: cn.c}, nil
}

// ExecContext counts a statement the driver runs without preparing it; a
// driver that answers driver.ErrSkip prepares it instead, and the prepared
// statement's run is counted.
func (cn *countConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.countStmt()
	}
	return res, err
}

func (cn *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.countStmt()
	}
	return rows, err
}

func (cn *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.countStmt()
	return cn.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (cn *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (cn *countConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countStmt struct {
	driver.Stmt
	c *StmtCounter
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.countStmt()
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.countStmt()
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *countStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
