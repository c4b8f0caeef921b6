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
	data       TEXT NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS {I} ON {T} (expires_at)`,
}

// deadlineSQL is the "__deadline" kept in the record's data, or NULL.
const deadlineSQL = `(SELECT CASE WHEN v GLOB '[1-9]*' AND v NOT GLOB '*[^0-9]*' AND length(v) <= 15
	THEN CAST(v AS INTEGER) END FROM (SELECT json_extract(data, '$.__deadline') AS v))`

// Parameters of the write statements: ?1 id, ?2 ttl in ms, ?3 the deadline
// the change sets (or NULL), ?4 the change as a JSON merge patch (the whole
// record for a Replace), ?5 whether the stored deadline stays.
const (
	sqlReplace = `INSERT INTO {T} (id, state, expires_at, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), ?4)
ON CONFLICT (id) DO UPDATE SET state = 1, expires_at = excluded.expires_at, data = excluded.data
WHERE state = 1 OR expires_at <= {N}
`

	sqlCreate = `INSERT INTO {T} (id, state, expires_at, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), json_patch('{}', ?4))
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN state = 1 AND expires_at > {N} THEN json_patch(data, ?4) ELSE excluded.data END,
	expires_at = CASE WHEN state = 1 AND expires_at > {N} AND ?5
		THEN min({N} + ?2, coalesce({DL}, {NEVER})) ELSE excluded.expires_at END
WHERE state = 1 OR expires_at <= {N}`

	// sqlDelta also matches a live tombstone, leaving it as it is, so that
	// the statement tells a refused write from a missing record.
	sqlDelta = `UPDATE {T} SET
	data = CASE WHEN state = 1 THEN json_patch(data, ?4) ELSE data END,
	expires_at = CASE WHEN state = 1
		THEN min({N} + ?2, coalesce(?3, CASE WHEN ?5 THEN {DL} END, {NEVER})) ELSE expires_at END
WHERE id = ?1 AND expires_at > {N}
RETURNING state, expires_at > {N}`

	sqlTouch = `UPDATE {T} SET
	expires_at = CASE WHEN state = 1 THEN min({N} + ?2, coalesce({DL}, {NEVER})) ELSE expires_at END
WHERE id = ?1 AND expires_at > {N}
RETURNING state, expires_at > {N}`

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
	replace, create, delta, touch, remove, read, exists, sweep string
}

func buildStatements(table, index string) (statements, []string) {
	r := strings.NewReplacer("{T}", `"`+table+`"`, "{I}", `"`+index+`"`, "{N}", nowMS, "{NEVER}", never, "{DL}", deadlineSQL)
	ddlOut := make([]string, len(ddl))
	for i, q := range ddl {
		ddlOut[i] = r.Replace(q)
	}
	return statements{
		replace: r.Replace(sqlReplace), create: r.Replace(sqlCreate), delta: r.Replace(sqlDelta), touch: r.Replace(sqlTouch),
		remove: r.Replace(sqlRemove), read: r.Replace(sqlRead), exists: r.Replace(sqlExists), sweep: r.Replace(sqlSweep),
	}, ddlOut
}
