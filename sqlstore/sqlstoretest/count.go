package sqlstoretest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
)

// CountingConnector returns a connector whose connections call count for
// each statement they run (prepared false, whether the statement was
// prepared or not) and for each statement they prepare (prepared true).
// BeginTx counts as a statement run. Open a database on it with
// sql.OpenDB.
func CountingConnector(conn driver.Connector, count func(prepared bool)) driver.Connector {
	return countingConnector{Connector: conn, count: count}
}

// OpenCounting opens a database through drv at dsn that adds the
// statements it runs to n; preparing is not counted.
func OpenCounting(drv driver.Driver, dsn string, n *atomic.Int64) *sql.DB {
	return sql.OpenDB(CountingConnector(DSN{Name: dsn, Drv: drv}, func(prepared bool) {
		if !prepared {
			n.Add(1)
		}
	}))
}

// DSN is a driver.Connector for a driver that has none of its own: it
// opens each connection with Drv.Open(Name).
type DSN struct {
	Name string        // the data source name
	Drv  driver.Driver // the driver
}

// Connect opens a connection with the driver.
func (d DSN) Connect(context.Context) (driver.Conn, error) { return d.Drv.Open(d.Name) }

// Driver returns the driver.
func (d DSN) Driver() driver.Driver { return d.Drv }

type countingConnector struct {
	driver.Connector
	count func(prepared bool)
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: conn, count: cc.count}, nil
}

type countConn struct {
	driver.Conn
	count func(prepared bool)
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
	cn.count(true)
	return &countStmt{Stmt: st, count: cn.count}, nil
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
		cn.count(false)
	}
	return res, err
}

// QueryContext counts a query as ExecContext counts a statement.
func (cn *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.count(false)
	}
	return rows, err
}

func (cn *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.count(false)
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
	count func(prepared bool)
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.count(false)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.count(false)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *countStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
