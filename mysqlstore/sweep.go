package mysqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sessionkit/sessions/sqlstore"
)

// Sweep deletes expired records and tombstones, and rows whose expiry is
// NULL, one batch (see WithSweepBatch) per statement, until a batch comes
// back short or ctx ends. It returns how many rows it deleted. Each batch
// runs in a READ COMMITTED transaction of its own, which locks only the
// rows it deletes, not the gaps between them, so concurrent sweeps from
// several servers, and requests, wait on each other for one short
// statement at most. The sweeper calls Sweep every sweep interval; a
// deployment that turns the sweeper off may call it from a job of its own.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for _, stmt := range []*sql.Stmt{s.sweep, s.sweepNull} {
		for {
			n, err := s.sweepBatch(ctx, stmt)
			total += n
			if err != nil {
				return total, fmt.Errorf("mysqlstore: sweep: %w", err)
			}
			if n < int64(s.opts.sweepBatch) {
				break
			}
		}
	}
	return total, nil
}

func (s *Store) sweepBatch(ctx context.Context, stmt *sql.Stmt) (int64, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, s.opts.sweepBatch)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) sweepLoop() {
	defer close(s.done)
	sqlstore.RunSweeper(s.stop, s.opts.sweepInterval, s.Sweep, "mysqlstore")
}
