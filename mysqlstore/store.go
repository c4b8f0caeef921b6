package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore"
)

// maxTTL bounds every ttl, so that now plus ttl never overflows a BIGINT.
const maxTTL = 100 * 365 * 24 * time.Hour

// maxDeadlockRetries bounds how often a write statement that InnoDB chose
// as a deadlock victim is run again. A victim's statement was rolled back
// whole, so running it again is safe.
const maxDeadlockRetries = 5

// Store is a sessions.Store backed by a MySQL or MariaDB table. It is safe
// for concurrent use, and several processes may share one table.
type Store struct {
	db   *sql.DB
	opts options

	replace, create, delta, touch, remove, read, exists, sweep, sweepNull, lock, whole *sql.Stmt

	expand   func(string) string
	mu       sync.Mutex
	removing map[removingKey]*sql.Stmt // create and delta statements that delete keys

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Store that keeps records in a table of db, creating the
// table when it is missing (see WithCreateTable), prepares its statements
// and starts its sweeper (see WithSweepInterval). db must use the
// go-sql-driver/mysql driver, on MySQL 8.0 or MariaDB 10.6 or later. It does
// not own db: Close leaves it open.
//
// New fails on an existing table whose columns are not of the types in the
// package doc, naming the column, the type it has and the type it needs.
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysqlstore: New: nil db")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkTable(o.table); err != nil {
		return nil, err
	}
	s := &Store{db: db, opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.setup(ctx); err != nil {
		s.closeStatements()
		return nil, err
	}
	go s.sweepLoop()
	return s, nil
}

// setup creates the table when asked to, checks its columns and prepares
// the statements, in the server's dialect.
func (s *Store) setup(ctx context.Context) error {
	mariadb, err := isMariaDB(ctx, s.db)
	if err != nil {
		return err
	}
	r := replacer(s.opts.table, s.opts.table+"_expires_at_idx", mariadb)
	s.expand = func(q string) string { return expand(r, q) }
	if s.opts.createTable {
		if _, err := s.db.ExecContext(ctx, s.expand(ddl)); err != nil {
			return fmt.Errorf("mysqlstore: creating table %s: %w", s.opts.table, err)
		}
	}
	if err := s.checkColumns(ctx, mariadb); err != nil {
		return err
	}
	s.removing = make(map[removingKey]*sql.Stmt)
	return s.prepare(ctx, s.expand)
}

// isMariaDB reports whether db is a MariaDB server, whose JSON functions
// differ from MySQL's.
func isMariaDB(ctx context.Context, db *sql.DB) (bool, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return false, fmt.Errorf("mysqlstore: reading the server's version: %w", err)
	}
	return strings.Contains(version, "MariaDB"), nil
}

func (s *Store) prepare(ctx context.Context, expand func(string) string) error {
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.replace, sqlReplace}, {&s.create, sqlCreate}, {&s.delta, sqlDelta}, {&s.touch, sqlTouch},
		{&s.remove, sqlRemove}, {&s.read, sqlRead}, {&s.exists, sqlExists}, {&s.sweep, sqlSweep},
		{&s.sweepNull, sqlSweepNull}, {&s.lock, sqlLock}, {&s.whole, sqlWhole},
	} {
		stmt, err := s.db.PrepareContext(ctx, expand(p.query))
		if err != nil {
			return fmt.Errorf("mysqlstore: preparing statements: %w", err)
		}
		*p.stmt = stmt
	}
	return nil
}

func (s *Store) closeStatements() {
	for _, st := range []*sql.Stmt{
		s.replace, s.create, s.delta, s.touch, s.remove, s.read, s.exists, s.sweep, s.sweepNull, s.lock, s.whole,
	} {
		if st != nil {
			st.Close()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.removing {
		st.Close()
	}
}

// removingKey names a statement of removingStmt.
type removingKey struct {
	create bool
	n      int
}

// removingStmt returns the create (or delta) statement that deletes n keys,
// prepared once per n: n is at most lockedKeys, beyond which a change takes
// writeLocked.
func (s *Store) removingStmt(ctx context.Context, create bool, n int) (*sql.Stmt, error) {
	q := sqlDelta
	if create {
		q = sqlCreate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := removingKey{create, n}
	if st, ok := s.removing[k]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.expand(removingKeys(q, n)))
	if err != nil {
		return nil, err
	}
	s.removing[k] = st
	return st, nil
}

// Close stops the sweeper, waits for a sweep in progress to end, and
// releases the prepared statements: the Store must not be used after it. It
// always returns nil and may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.closeStatements()
	})
	return nil
}

// Read returns the live record under id, or sessions.ErrNotFound. A row
// that is not a record it can read (data that does not decode, a NULL
// state or expiry) gives an error wrapping sessions.ErrCorrupt.
func (s *Store) Read(ctx context.Context, id string) (sessions.Record, error) {
	var live sql.NullBool
	var data []byte
	err := s.read.QueryRowContext(ctx, id).Scan(&live, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sessions.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: read: %w", err)
	}
	if !live.Valid {
		return nil, fmt.Errorf("mysqlstore: read: the row's state or expiry is NULL: %w", sessions.ErrCorrupt)
	}
	rec, err := sqlstore.DecodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: read: %w", err)
	}
	return rec, nil
}

// Exists reports whether a live record is stored under id: a corrupt row
// (see Read) counts as none.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := s.exists.QueryRowContext(ctx, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("mysqlstore: exists: %w", err)
	}
	return ok, nil
}

// Write applies ch to the record under id, following the rules of
// sessions.Store: the tombstone check, the change of only ch's keys and the
// new expiry happen in the database, on the locked row, in one statement
// (JSON_MERGE_PATCH and JSON_REMOVE) for a change of up to 16 keys, or in a
// transaction that merges in Go for a larger one (see writeLocked). The
// expiry is capped at the record's "__deadline", and a delta to a record
// past it gives sessions.ErrNotFound. A Write in sessions.ModeUpsert to a
// live record never shortens its expiry: it becomes the later of the one it
// has and ttl from now, under that cap.
//
// A row that is not a record Read can return (see Read) counts as none: a
// delta or touch gives sessions.ErrNotFound and leaves it as it is, a
// Create or Replace overwrites it (a Create keeps its expiry, as it keeps
// a live record's, when that is later and has not passed). The statements
// check the stored data before they merge into it, so that no write
// reports success for a value that Read could not return. A row whose
// state is NULL may be a tombstone: it refuses every Write with
// sessions.ErrInvalidated until its expiry passes, or until the sweeper
// deletes it if that cannot be read.
func (s *Store) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	state, err := s.write(ctx, id, ch, ttlMillis(ttl))
	switch {
	case err != nil:
		return fmt.Errorf("mysqlstore: write: %w", err)
	case state >= stateRemoved:
		return sessions.ErrInvalidated
	case state == stateDead && ch.Mode != sessions.ModeReplace && (ch.Mode != sessions.ModeUpsert || ch.IsTouch()):
		// No live row matched, or the record is past its deadline.
		return sessions.ErrNotFound
	}
	return nil
}

// write runs ch and returns the state the statements reported.
func (s *Store) write(ctx context.Context, id string, ch sessions.Change, ms int64) (int64, error) {
	dl, keep := sqlstore.DeadlineOf(ch)
	switch {
	case ch.Mode == sessions.ModeReplace:
		data := sqlstore.EncodeRecord(ch.Set)
		return s.exec(ctx, s.replace, id, ms, dl, ms, data, data, false, ms, dl, ms, ms, dl, ms)
	case ch.IsTouch():
		return s.exec(ctx, s.touch, ms, ms, ms, ms, id)
	case len(ch.Set)+len(ch.Delete) > lockedKeys:
		return s.writeLocked(ctx, id, ch, ms)
	}
	p, paths := sqlstore.EncodeRecord(ch.Set), deletePaths(ch.Set, ch.Delete)
	if ch.Mode == sessions.ModeUpsert {
		args := append(append([]any{id, ms, dl, ms, p}, paths...), p, p, ms, keep, dl, ms, ms, dl, ms)
		return s.execMerge(ctx, true, len(paths), args)
	}
	args := append(append([]any{ms, dl, keep, ms}, paths...), p, ms, dl, keep, ms, id)
	return s.execMerge(ctx, false, len(paths), args)
}

// Remove deletes the record under id and leaves a tombstone for at least
// ttl in one statement, never shortening one that lasts longer. It returns
// sessions.ErrNotFound when no live record was there; of concurrent Removes
// of one live record, exactly one returns nil. A corrupt record (see Read)
// counts as no live record, and a row whose expiry cannot be read gets the
// tombstone's.
func (s *Store) Remove(ctx context.Context, id string, ttl time.Duration) error {
	ms := ttlMillis(ttl)
	state, err := s.exec(ctx, s.remove, id, ms, ms, ms)
	if err != nil {
		return fmt.Errorf("mysqlstore: remove: %w", err)
	}
	if state != stateRemoved {
		return sessions.ErrNotFound
	}
	return nil
}

// execMerge runs the create (or delta) statement that deletes n keys.
func (s *Store) execMerge(ctx context.Context, create bool, n int, args []any) (int64, error) {
	switch {
	case n == 0 && create:
		return s.exec(ctx, s.create, args...)
	case n == 0:
		return s.exec(ctx, s.delta, args...)
	}
	stmt, err := s.removingStmt(ctx, create, n)
	if err != nil {
		return 0, err
	}
	return s.exec(ctx, stmt, args...)
}

// exec runs a write statement and returns the state it reported through
// LAST_INSERT_ID, running it again if InnoDB rolled it back to break a
// deadlock.
func (s *Store) exec(ctx context.Context, stmt *sql.Stmt, args ...any) (int64, error) {
	return s.run(func() (sql.Result, error) { return stmt.ExecContext(ctx, args...) })
}

// run runs a write statement, again when InnoDB chose it as a deadlock
// victim, and returns the state it reported.
func (s *Store) run(exec func() (sql.Result, error)) (int64, error) {
	for try := 0; ; try++ {
		res, err := exec()
		if isDeadlock(err) && try < maxDeadlockRetries {
			continue
		}
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
}

// isDeadlock reports whether err is InnoDB's choice of the statement as a
// deadlock victim, after which the transaction was rolled back whole.
func isDeadlock(err error) bool {
	var myErr *mysql.MySQLError
	return errors.As(err, &myErr) && myErr.Number == 1213
}

// ttlMillis converts ttl to whole milliseconds, bounded by maxTTL.
func ttlMillis(ttl time.Duration) int64 {
	if ttl > maxTTL {
		ttl = maxTTL
	}
	return ttl.Milliseconds()
}
