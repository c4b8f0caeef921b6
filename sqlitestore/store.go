package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore"
)

// maxTTL bounds every ttl, so that now plus ttl never overflows an integer.
const maxTTL = 100 * 365 * 24 * time.Hour

// Store is a sessions.Store backed by an SQLite table. It is safe for
// concurrent use.
type Store struct {
	db   *sql.DB
	opts options

	sql statements

	// writer admits one write statement of this process at a time. SQLite
	// runs one writer at a time anyway, and its busy handler retries by
	// sleeping, which lets a steady stream of writers starve one of them
	// (a Remove racing many Writes waited seconds for its turn); a queue in
	// Go hands the lock over in order, without sleeping.
	writer chan struct{}

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Store that keeps records in a table of db, creating the
// table and its index when they are missing (see WithCreateTable), checks
// that its statements prepare, and starts its sweeper (see
// WithSweepInterval). db must use
// the modernc.org/sqlite driver (or another SQLite 3.42 or later). It does
// not own db: Close leaves it open.
//
// New fails when db may open several connections and its busy timeout is
// zero: concurrent writes would then fail with SQLITE_BUSY instead of
// waiting their turn. Set one in the DSN (_pragma=busy_timeout(5000)), or
// call db.SetMaxOpenConns(1).
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: New: nil db")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkTable(o.table); err != nil {
		return nil, err
	}
	if err := checkBusyTimeout(ctx, db); err != nil {
		return nil, err
	}
	s := &Store{db: db, opts: o, writer: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	stmts, ddl := buildStatements(o.table, o.table+"_expires_at_idx")
	s.sql = stmts
	if o.createTable {
		for _, q := range ddl {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("sqlitestore: creating table %s: %w", o.table, err)
			}
		}
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	go s.sweepLoop()
	return s, nil
}

func checkBusyTimeout(ctx context.Context, db *sql.DB) error {
	if db.Stats().MaxOpenConnections == 1 {
		return nil
	}
	var ms int
	if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		return fmt.Errorf("sqlitestore: reading busy_timeout: %w", err)
	}
	if ms == 0 {
		return errors.New("sqlitestore: the database has no busy timeout and allows several connections: " +
			"concurrent writes would fail with SQLITE_BUSY; add _pragma=busy_timeout(5000) to the DSN or call db.SetMaxOpenConns(1)")
	}
	return nil
}

// check prepares each statement once, so that a table the statements do
// not fit fails New rather than the first request. The driver prepares a
// statement each time it runs it, so a prepared statement kept for later
// would save nothing.
func (s *Store) check(ctx context.Context) error {
	for _, query := range s.sql.all() {
		stmt, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("sqlitestore: preparing statements on table %s (see the DDL in the package doc): %w", s.opts.table, err)
		}
		stmt.Close()
	}
	return nil
}

// Close stops the sweeper and waits for a sweep in progress to end. It
// always returns nil and may be called more than once; the Store's other
// methods keep working after it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

// Read returns the live record under id, or sessions.ErrNotFound. A row
// that is not a record it can read (data that does not decode, a NULL
// state or expiry, an expiry that is text) gives an error wrapping
// sessions.ErrCorrupt.
func (s *Store) Read(ctx context.Context, id string) (sessions.Record, error) {
	conn, run, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: read: %w", err)
	}
	defer conn.Close()
	var live sql.NullBool
	var data []byte
	err = conn.QueryRowContext(run, s.sql.read, id).Scan(&live, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sessions.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: read: %w", err)
	}
	if !live.Bool {
		return nil, fmt.Errorf("sqlitestore: read: the row's state or expiry is NULL or not a number: %w", sessions.ErrCorrupt)
	}
	return decode(data)
}

func decode(data []byte) (sessions.Record, error) {
	rec, err := sqlstore.DecodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: read: %w", err)
	}
	return rec, nil
}

// Exists reports whether a live record is stored under id: a corrupt row
// (see Read) counts as none.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	conn, run, err := s.conn(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: exists: %w", err)
	}
	defer conn.Close()
	var ok bool
	if err := conn.QueryRowContext(run, s.sql.exists, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlitestore: exists: %w", err)
	}
	return ok, nil
}

// Write applies ch to the record under id, following the rules of
// sessions.Store: the tombstone check, the change of only ch's keys
// (json_patch) and the new expiry happen in one statement, under the
// database's write lock. The expiry is capped at the record's deadline
// column (its "__deadline"), and a delta to a record past it gives
// sessions.ErrNotFound. A Write in sessions.ModeUpsert to a live record
// never shortens its expiry: it becomes the later of the one it has and ttl
// from now, under that cap. A delta or touch that changes no row runs a
// second statement, a read, to tell a tombstone (sessions.ErrInvalidated)
// from a missing record; a Replace under an ID that already has a row runs
// the upsert after the insert that found it there.
//
// A row that is not a record Read can return (see Read) counts as none: a
// delta or touch gives sessions.ErrNotFound and leaves it as it is, and a
// Create or Replace overwrites it. The statements check the stored data
// before they merge into it, so that no write reports success for a value
// that Read could not return. A row whose state is NULL may be a tombstone:
// it refuses every Write with sessions.ErrInvalidated until its expiry
// passes, or until the sweeper deletes it if that cannot be read.
func (s *Store) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	ms := ttlMillis(ttl)
	dl, keep := sqlstore.DeadlineOf(ch)
	switch {
	case ch.Mode == sessions.ModeReplace:
		return s.replace(ctx, id, ms, dl, sqlstore.EncodeRecord(ch.Set))
	case ch.IsTouch():
		return s.update(ctx, s.sql.touch, id, ms)
	case ch.Mode == sessions.ModeUpsert:
		return s.upsert(ctx, s.sql.create, id, ms, dl, sqlstore.EncodePatch(ch.Set, ch.Delete), keep)
	case keep:
		return s.update(ctx, s.sql.delta, id, ms, sqlstore.EncodePatch(ch.Set, ch.Delete))
	}
	return s.updateDeadline(ctx, id, ms, dl, sqlstore.EncodePatch(ch.Set, ch.Delete))
}

// replace inserts the record under a new ID, and runs the upsert, which
// checks for a tombstone, when the ID already has a row.
func (s *Store) replace(ctx context.Context, id string, ms int64, dl *int64, data string) error {
	n, err := s.execWrite(ctx, s.sql.insert, id, ms, dl, data)
	if err != nil || n == 1 {
		return wrapWrite(err)
	}
	return s.upsert(ctx, s.sql.replace, id, ms, dl, data)
}

// upsert runs sqlReplace or sqlCreate, which change no row when a live
// tombstone refuses them.
func (s *Store) upsert(ctx context.Context, query string, args ...any) error {
	n, err := s.execWrite(ctx, query, args...)
	if err != nil {
		return wrapWrite(err)
	}
	if n == 0 {
		return sessions.ErrInvalidated
	}
	return nil
}

// update runs sqlDelta or sqlTouch, which change a live row only. args
// start with the id, which the statements take as ?1.
func (s *Store) update(ctx context.Context, query string, args ...any) error {
	n, err := s.execWrite(ctx, query, args...)
	if err != nil || n == 1 {
		return wrapWrite(err)
	}
	return s.refused(ctx, args[0].(string))
}

// refused tells why a write to id changed no row: a live tombstone refused
// it, or no live record was there. The answer holds at the moment of the
// read, or else at the write's: a row that is neither when the write runs
// becomes a tombstone or a record only through a later write.
func (s *Store) refused(ctx context.Context, id string) error {
	conn, run, err := s.conn(ctx)
	if err != nil {
		return wrapWrite(err)
	}
	defer conn.Close()
	var tombs int
	if err := conn.QueryRowContext(run, s.sql.refused, id).Scan(&tombs); err != nil {
		return wrapWrite(err)
	}
	if tombs > 0 {
		return sessions.ErrInvalidated
	}
	return sessions.ErrNotFound
}

// updateDeadline runs sqlDeltaDeadline, after which the row may be past
// its new deadline.
func (s *Store) updateDeadline(ctx context.Context, args ...any) error {
	var refused, live bool
	err := s.queryWrite(ctx, s.sql.deltaDeadline, args, &refused, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sessions.ErrNotFound
	case err != nil:
		return wrapWrite(err)
	case refused:
		return sessions.ErrInvalidated
	case !live:
		// Past its deadline, or a ttl that ends at once: as good as missing.
		return sessions.ErrNotFound
	}
	return nil
}

func wrapWrite(err error) error {
	if err != nil {
		return fmt.Errorf("sqlitestore: write: %w", err)
	}
	return nil
}

// Remove deletes the record under id and leaves a tombstone for ttl, or
// keeps a tombstone that lasts longer, in one statement. It returns
// sessions.ErrNotFound when no live record was there; of concurrent Removes
// of one live record, exactly one returns nil. A corrupt record (see Read)
// counts as no live record, and a row whose expiry cannot be read gets the
// tombstone's.
func (s *Store) Remove(ctx context.Context, id string, ttl time.Duration) error {
	var state int
	if err := s.queryWrite(ctx, s.sql.remove, []any{id, ttlMillis(ttl)}, &state); err != nil {
		return fmt.Errorf("sqlitestore: remove: %w", err)
	}
	if state != stateRemoved {
		return sessions.ErrNotFound
	}
	return nil
}

// conn returns a connection of the pool, waiting for one no longer than
// ctx allows, and the context to run its statement with: ctx's values,
// without its deadline or cancellation. A call gives up when ctx ends
// before its statement starts (while it waits for a connection, or for its
// turn to write); a statement that has started runs to its end. Each
// touches one row (a sweep, one bounded batch), and SQLite's busy timeout
// bounds its wait for a lock another process holds. Watching ctx during
// the statement would cost database/sql and the driver a goroutine each,
// per statement: a quarter of a write's CPU.
func (s *Store) conn(ctx context.Context) (*sql.Conn, context.Context, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, context.WithoutCancel(ctx), nil
}

// turn waits for the store's turn to write, then for a connection (see
// conn); the caller runs its statement on the connection with the context
// returned, then calls the function returned.
func (s *Store) turn(ctx context.Context) (*sql.Conn, context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	}
	conn, run, err := s.conn(ctx)
	if err != nil {
		<-s.writer
		return nil, nil, nil, err
	}
	return conn, run, func() { conn.Close(); <-s.writer }, nil
}

// queryWrite runs a write statement that returns one row, in its turn.
func (s *Store) queryWrite(ctx context.Context, query string, args []any, dest ...any) error {
	conn, run, done, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer done()
	return conn.QueryRowContext(run, query, args...).Scan(dest...)
}

// execWrite runs a write statement that returns no row, in its turn, and
// returns the count of rows it changed.
func (s *Store) execWrite(ctx context.Context, query string, args ...any) (int64, error) {
	conn, run, done, err := s.turn(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	res, err := conn.ExecContext(run, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ttlMillis converts ttl to whole milliseconds, bounded by maxTTL.
func ttlMillis(ttl time.Duration) int64 {
	if ttl > maxTTL {
		ttl = maxTTL
	}
	return ttl.Milliseconds()
}

// Sweep deletes expired records and tombstones, and rows whose expiry is
// NULL or text, one batch (see WithSweepBatch) per statement, until a batch
// comes back short or ctx ends. It returns how many rows it deleted. The
// sweeper calls it every sweep interval; a deployment that turns the
// sweeper off may call it from a job of its own.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for _, q := range []string{s.sql.sweep, s.sql.sweepBad} {
		for {
			n, err := s.execWrite(ctx, q, s.opts.sweepBatch)
			total += n
			if err != nil {
				return total, fmt.Errorf("sqlitestore: sweep: %w", err)
			}
			if n < int64(s.opts.sweepBatch) {
				break
			}
		}
	}
	return total, nil
}

func (s *Store) sweepLoop() {
	defer close(s.done)
	sqlstore.RunSweeper(s.stop, s.opts.sweepInterval, s.Sweep, "sqlitestore")
}
