package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore"
)

// maxTTL bounds every ttl, so that now plus ttl never overflows a bigint.
const maxTTL = 100 * 365 * 24 * time.Hour

// Store is a sessions.Store backed by a PostgreSQL table. It is safe for
// concurrent use, and several processes may share one table.
type Store struct {
	pool *pgxpool.Pool
	opts options
	sql  statements

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Store that keeps records in a table of the database behind
// pool, creating the table and its index when they are missing (see
// WithCreateTable), and starts its sweeper (see WithSweepInterval). It does
// not own pool: Close stops the sweeper and leaves pool open.
//
// New fails on an existing table whose columns are not of the types in the
// package doc, naming the column, the type it has and the type it needs.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: New: nil pool")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	table, index, err := tableNames(o.table)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, opts: o, sql: buildStatements(table, index), stop: make(chan struct{}), done: make(chan struct{})}
	if o.createTable {
		if err := s.createTable(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.checkColumns(ctx, table); err != nil {
		return nil, err
	}
	go s.sweepLoop()
	return s, nil
}

// createTable runs the DDL. Servers that start at once may race to create
// the table; losing that race is not an error.
func (s *Store) createTable(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, s.sql.ddl)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgstore: creating table %s: %w", s.opts.table, err)
	}
	return nil
}

// Close stops the sweeper and waits for a sweep in progress to end. It
// always returns nil and may be called more than once; the Store stays
// usable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

// Read returns the live record under id, or sessions.ErrNotFound. A row
// that is not a record it can read (data that does not decode, a NULL
// state or expiry) gives an error wrapping sessions.ErrCorrupt.
func (s *Store) Read(ctx context.Context, id string) (sessions.Record, error) {
	var live *bool
	var data []byte
	err := s.pool.QueryRow(ctx, s.sql.read, id).Scan(&live, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sessions.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: read: %w", err)
	}
	if live == nil {
		return nil, fmt.Errorf("pgstore: read: the row's state or expiry is NULL: %w", sessions.ErrCorrupt)
	}
	rec, err := sqlstore.DecodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read: %w", err)
	}
	return rec, nil
}

// Exists reports whether a live record is stored under id: a corrupt row
// (see Read) counts as none.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, s.sql.exists, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("pgstore: exists: %w", err)
	}
	return ok, nil
}

// Write applies ch to the record under id in one statement, following the
// rules of sessions.Store: the tombstone check, the change of only ch's keys
// and the new expiry happen in the database, on the locked row. The expiry
// is capped at the record's "__deadline", and a delta to a record past it
// gives sessions.ErrNotFound. A Write in sessions.ModeUpsert to a live
// record never shortens its expiry: it becomes the later of the one it has
// and ttl from now, under that cap.
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
	switch {
	case ch.Mode == sessions.ModeReplace:
		return s.writeReplace(ctx, id, ch, ms)
	case ch.IsTouch():
		return s.writeDelta(ctx, s.sql.touch, id, ms)
	}
	dl, keep := sqlstore.DeadlineOf(ch)
	set, del := sqlstore.EncodeRecord(ch.Set), encodeKeys(ch.Delete)
	if ch.Mode == sessions.ModeUpsert {
		return s.writeCreate(ctx, id, ms, dl, set, del, keep)
	}
	return s.writeDelta(ctx, s.sql.delta, id, ms, dl, set, del, keep)
}

func (s *Store) writeReplace(ctx context.Context, id string, ch sessions.Change, ms int64) error {
	dl, _ := sqlstore.DeadlineOf(ch)
	var one int
	err := s.pool.QueryRow(ctx, s.sql.replace, id, ms, dl, sqlstore.EncodeRecord(ch.Set)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return sessions.ErrInvalidated
	}
	if err != nil {
		return fmt.Errorf("pgstore: write: %w", err)
	}
	return nil
}

func (s *Store) writeCreate(ctx context.Context, id string, ms int64, dl *int64, set string, del []string, keep bool) error {
	var live bool
	err := s.pool.QueryRow(ctx, s.sql.create, id, ms, dl, set, del, keep).Scan(&live)
	if errors.Is(err, pgx.ErrNoRows) {
		return sessions.ErrInvalidated
	}
	if err != nil {
		return fmt.Errorf("pgstore: write: %w", err)
	}
	return nil
}

// writeDelta runs sqlDelta or sqlTouch, which never create a row.
func (s *Store) writeDelta(ctx context.Context, query, id string, args ...any) error {
	var refused, live bool
	err := s.pool.QueryRow(ctx, query, append([]any{id}, args...)...).Scan(&refused, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return sessions.ErrNotFound
	case err != nil:
		return fmt.Errorf("pgstore: write: %w", err)
	case refused:
		return sessions.ErrInvalidated
	case !live:
		// Past its deadline, or a ttl that ends at once: as good as missing.
		return sessions.ErrNotFound
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
	if err := s.pool.QueryRow(ctx, s.sql.remove, id, ttlMillis(ttl)).Scan(&state); err != nil {
		return fmt.Errorf("pgstore: remove: %w", err)
	}
	if state != stateRemoved {
		return sessions.ErrNotFound
	}
	return nil
}

// ttlMillis converts ttl to whole milliseconds, bounded by maxTTL.
func ttlMillis(ttl time.Duration) int64 {
	if ttl > maxTTL {
		ttl = maxTTL
	}
	return ttl.Milliseconds()
}

// Sweep deletes expired records and tombstones, and rows whose expiry is
// NULL, one batch (see WithSweepBatch) per statement, until a batch comes
// back short or ctx ends. It returns how many rows it deleted. The sweeper
// calls it every sweep interval; a deployment that turns the sweeper off
// may call it from a job of its own.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for _, q := range []string{s.sql.sweep, s.sql.sweepNull} {
		n, err := s.sweepAll(ctx, q)
		total += n
		if err != nil {
			return total, fmt.Errorf("pgstore: sweep: %w", err)
		}
	}
	return total, nil
}

// sweepAll runs the sweep statement q until a batch comes back short.
func (s *Store) sweepAll(ctx context.Context, q string) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, q, s.opts.sweepBatch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(s.opts.sweepBatch) {
			return total, nil
		}
	}
}

func (s *Store) sweepLoop() {
	defer close(s.done)
	sqlstore.RunSweeper(s.stop, s.opts.sweepInterval, s.Sweep, "pgstore")
}
