package sqlitestore

import "strings"

// Row states. A row is a live record (stateLive) or a tombstone; the two
// tombstone states record whether the Remove that left it removed a live
// record, which is how Remove reports that in one statement.
const (
	stateLive    = 1
	stateRemoved = 2 // tombstone left by a Remove that removed a live record
	stateTomb    = 3 // tombstone left by a Remove that found no live record
)

// nowMS is the clock in Unix milliseconds. SQLite gives every use of 'now'
// in one statement the same value, read when the statement runs: after it
// has the write lock, so that expiry follows the order of the writes.
const nowMS = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`

// never is the largest expiry, for min(now + ttl, coalesce(deadline,
// never)): the driver parses a statement on every run, and each use of the
// clock costs its parse.
const never = `9223372036854775807`

var ddl = []string{
	`CREATE TABLE IF NOT EXISTS {T} (
	id         TEXT NOT NULL PRIMARY KEY,
	state      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	deadline   INTEGER,
	data       TEXT NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS {I} ON {T} (expires_at)`,
}

// The write statements keep expires_at <= deadline on every record's row
// (a tombstone's deadline is never read), so a live row is inside its
// deadline, and a statement that keeps the deadline and has a positive ttl
// leaves the row live. The deadline is a column, not read from data with
// json_extract: the driver parses every statement on every run, and that
// expression cost a delta a third of its time.
//
// Parameters: ?1 id, ?2 ttl in ms, ?3 the deadline the change sets (or
// NULL), ?4 the change as a JSON merge patch (the whole record for a
// Replace), ?5 whether the stored deadline stays.
const (
	// sqlInsert is a Replace's first try: a new ID has no row, and a plain
	// insert costs a quarter less than the upsert, which runs only when
	// this inserts nothing.
	sqlInsert = `INSERT OR IGNORE INTO {T} (id, state, expires_at, deadline, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), ?3, ?4)`

	sqlReplace = `INSERT INTO {T} (id, state, expires_at, deadline, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), ?3, ?4)
ON CONFLICT (id) DO UPDATE SET state = 1, expires_at = excluded.expires_at, deadline = ?3, data = excluded.data
WHERE state = 1 OR expires_at <= {N}`

	sqlCreate = `INSERT INTO {T} (id, state, expires_at, deadline, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), ?3, json_patch('{}', ?4))
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN state = 1 AND expires_at > {N} THEN json_patch(data, ?4) ELSE excluded.data END,
	deadline = CASE WHEN state = 1 AND expires_at > {N} AND ?5 THEN deadline ELSE ?3 END,
	expires_at = CASE WHEN state = 1 AND expires_at > {N} AND ?5
		THEN min({N} + ?2, coalesce(deadline, {NEVER})) ELSE excluded.expires_at END
WHERE state = 1 OR expires_at <= {N}`

	// sqlDelta is a delta that keeps the deadline: ?1 id, ?2 ttl, ?3 patch.
	// It changes a live row only; when it changes none, sqlRefused tells a
	// tombstone from a missing record. RETURNING would tell in the same
	// statement, but SQLite compiles it on every run, at a third of the
	// statement's cost, for an answer only a refused write needs.
	sqlDelta = `UPDATE {T} SET data = json_patch(data, ?3), expires_at = min({N} + ?2, coalesce(deadline, {NEVER}))
WHERE id = ?1 AND state = 1 AND expires_at > {N}`

	// sqlTouch is sqlDelta with nothing to change but the expiry.
	sqlTouch = `UPDATE {T} SET expires_at = min({N} + ?2, coalesce(deadline, {NEVER}))
WHERE id = ?1 AND state = 1 AND expires_at > {N}`

	// sqlDeltaDeadline is a delta that sets or drops the deadline, after
	// which the row may be past it: the statement reports whether it left
	// the row live. It also matches a live tombstone, leaving it as it is,
	// so that it tells a refused write from a missing record.
	sqlDeltaDeadline = `UPDATE {T} SET
	data = CASE WHEN state = 1 THEN json_patch(data, ?4) ELSE data END,
	deadline = CASE WHEN state = 1 THEN ?3 ELSE deadline END,
	expires_at = CASE WHEN state = 1 THEN min({N} + ?2, coalesce(?3, {NEVER})) ELSE expires_at END
WHERE id = ?1 AND expires_at > {N}
RETURNING state, expires_at > {N}`

	// sqlRefused tells why sqlDelta or sqlTouch changed no row: whether a
	// live tombstone is stored under ?1.
	sqlRefused = `SELECT count(*) FROM {T} WHERE id = ?1 AND state <> 1 AND expires_at > {N}`

	// sqlRemove: ?1 id, ?2 the tombstone's ttl in ms.
	sqlRemove = `INSERT INTO {T} (id, state, expires_at, data)
VALUES (?1, 3, {N} + ?2, '{}')
ON CONFLICT (id) DO UPDATE SET
	state = CASE WHEN state = 1 AND expires_at > {N} THEN 2 ELSE 3 END,
	expires_at = CASE WHEN state <> 1 AND expires_at > excluded.expires_at THEN expires_at ELSE excluded.expires_at END,
	data = '{}'
RETURNING state`

	sqlRead = `SELECT data FROM {T} WHERE id = ?1 AND state = 1 AND expires_at > {N}`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} WHERE id = ?1 AND state = 1 AND expires_at > {N})`

	sqlSweep = `DELETE FROM {T} WHERE rowid IN (
	SELECT rowid FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT ?1
)`
)

// statements are the Store's statements, for one table.
type statements struct {
	insert, replace, create, delta, touch, deltaDeadline, refused, remove, read, exists, sweep string
}

// all lists the statements, for New to check.
func (q statements) all() []string {
	return []string{q.insert, q.replace, q.create, q.delta, q.touch, q.deltaDeadline, q.refused, q.remove, q.read, q.exists, q.sweep}
}

func buildStatements(table, index string) (statements, []string) {
	r := strings.NewReplacer("{T}", `"`+table+`"`, "{I}", `"`+index+`"`, "{N}", nowMS, "{NEVER}", never)
	ddlOut := make([]string, len(ddl))
	for i, q := range ddl {
		ddlOut[i] = r.Replace(q)
	}
	return statements{
		insert: r.Replace(sqlInsert), replace: r.Replace(sqlReplace), create: r.Replace(sqlCreate),
		delta: r.Replace(sqlDelta), touch: r.Replace(sqlTouch), deltaDeadline: r.Replace(sqlDeltaDeadline),
		refused: r.Replace(sqlRefused), remove: r.Replace(sqlRemove), read: r.Replace(sqlRead),
		exists: r.Replace(sqlExists), sweep: r.Replace(sqlSweep),
	}, ddlOut
}
