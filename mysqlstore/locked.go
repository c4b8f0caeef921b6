package mysqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore"
)

// lockedKeys is the most keys, set and deleted, that a change merges in one
// statement. MariaDB keeps JSON as text, and its JSON_REMOVE and
// JSON_MERGE_PATCH rescan the document for each key they change: one
// statement costs the document's length times the change's keys, so that
// a delta clearing 20,000 keys ran for tens of seconds, past any request's
// deadline, and went on running on the server after it. A change of more
// keys takes writeLocked, whose cost is linear in the keys.
const lockedKeys = 16

// lockedRow is what writeLocked found under an id.
type lockedRow int

const (
	rowNone    lockedRow = iota // no row, an expired one, or a corrupt record
	rowTomb                     // a row that may be a tombstone: it refuses the write
	rowHealthy                  // a live record that decodes
)

// writeLocked applies a change of many keys in a transaction: it reads the
// row with a lock (sqlLock), merges the change in Go with Change.Apply, and
// writes the record whole (sqlWhole, or sqlReplace for a Create on no
// record). The lock keeps per-key atomicity: a concurrent write to the
// record, locked path or not, waits for the commit and then changes the
// merged record, so that two changes of different keys both persist. It
// costs four round trips (BEGIN, SELECT, write, COMMIT) instead of one,
// for a change that the Manager makes rarely. It returns the state the
// one-statement path would: 1 written, 0 no live record, 3 refused.
func (s *Store) writeLocked(ctx context.Context, id string, ch sessions.Change, ms int64) (int64, error) {
	for try := 0; ; try++ {
		state, err := s.lockedOnce(ctx, id, ch, ms)
		if isDeadlock(err) && try < maxDeadlockRetries {
			continue
		}
		return state, err
	}
}

func (s *Store) lockedOnce(ctx context.Context, id string, ch sessions.Change, ms int64) (int64, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	kind, rec, err := lockRow(ctx, tx.StmtContext(ctx, s.lock), id)
	var state int64
	switch {
	case err != nil:
		return 0, err
	case kind == rowTomb:
		return stateTomb, nil
	case kind == rowHealthy:
		dl, keep := sqlstore.DeadlineOf(ch)
		up, data := ch.Mode == sessions.ModeUpsert, sqlstore.EncodeRecord(ch.Apply(rec))
		state, err = s.execIn(ctx, tx, s.whole, up, dl, keep, ms, dl, keep, ms, data, up, dl, keep, ms, dl, keep, ms, id)
	case ch.Mode == sessions.ModeUpsert:
		dl, _ := sqlstore.DeadlineOf(ch)
		data := sqlstore.EncodeRecord(ch.Set)
		state, err = s.execIn(ctx, tx, s.replace, id, ms, dl, ms, data, data, true, ms, dl, ms, ms, dl, ms)
	default:
		return stateDead, nil
	}
	if err != nil {
		return 0, err
	}
	return state, tx.Commit()
}

// lockRow reads and locks the row under id, and tells what it holds as the
// statements' {TOMB} and {HEALTHY} do, with the record when it is healthy.
func lockRow(ctx context.Context, lock *sql.Stmt, id string) (lockedRow, sessions.Record, error) {
	var state sql.NullInt64
	var live sql.NullBool
	var data []byte
	err := lock.QueryRowContext(ctx, id).Scan(&state, &live, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rowNone, nil, nil
	case err != nil:
		return rowNone, nil, err
	case (!state.Valid || state.Int64 >= stateRemoved) && (!live.Valid || live.Bool):
		return rowTomb, nil, nil
	case state.Int64 != stateLive || !live.Valid || !live.Bool:
		return rowNone, nil, nil
	}
	rec, err := sqlstore.DecodeRecord(data)
	if err != nil {
		return rowNone, nil, nil
	}
	return rowHealthy, rec, nil
}

// execIn runs a prepared write statement in tx and returns the state it
// reported through LAST_INSERT_ID.
func (s *Store) execIn(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, args ...any) (int64, error) {
	res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
