package pgstore

import "strings"

// Row states. A row is a live record (stateLive) or a tombstone; the two
// tombstone states record whether the Remove that left it removed a live
// record, which is how Remove reports that in one statement.
const (
	stateLive    = 1
	stateRemoved = 2 // tombstone left by a Remove that removed a live record
	stateTomb    = 3 // tombstone left by a Remove that found no live record
)

// nowMS is the database's clock in Unix milliseconds. now() is the start of
// the statement's transaction, so every use in one statement agrees.
const nowMS = `(extract(epoch from now()) * 1000)::bigint`

const ddl = `CREATE TABLE IF NOT EXISTS {T} (
	id         text COLLATE "C" PRIMARY KEY,
	state      smallint NOT NULL,
	expires_at bigint NOT NULL,
	data       jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS {I} ON {T} (expires_at)`

// deadline(x) is the "__deadline" kept in the record x, or NULL.
const deadline = `CASE WHEN x->>'__deadline' ~ '^[1-9][0-9]{0,14}$' THEN (x->>'__deadline')::bigint END`

// Parameters of the write statements: $1 id, $2 ttl in ms, $3 the deadline
// the change sets (or NULL), $4 the keys to set (a JSON object), $5 the keys
// to delete, $6 whether the stored deadline stays.
const (
	sqlReplace = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 1, LEAST({N} + $2, COALESCE($3, {N} + $2)), $4::jsonb)
ON CONFLICT (id) DO UPDATE SET state = 1, expires_at = EXCLUDED.expires_at, data = EXCLUDED.data
WHERE t.state = 1 OR t.expires_at <= {N}
RETURNING 1`

	sqlCreate = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 1, LEAST({N} + $2, COALESCE($3, {N} + $2)), $4::jsonb)
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN t.state = 1 AND t.expires_at > {N} THEN (t.data - $5::text[]) || EXCLUDED.data ELSE EXCLUDED.data END,
	expires_at = CASE WHEN t.state = 1 AND t.expires_at > {N} AND $6
		THEN LEAST({N} + $2, COALESCE({DL:t.data}, {N} + $2)) ELSE EXCLUDED.expires_at END
WHERE t.state = 1 OR t.expires_at <= {N}
RETURNING expires_at > {N}`

	// sqlDelta also matches a live tombstone, leaving it as it is, so that
	// the statement tells a refused write from a missing record.
	sqlDelta = `UPDATE {T} AS t SET
	data = CASE WHEN t.state = 1 THEN (t.data - $5::text[]) || $4::jsonb ELSE t.data END,
	expires_at = CASE WHEN t.state = 1
		THEN LEAST({N} + $2, COALESCE($3, CASE WHEN $6 THEN {DL:t.data} END, {N} + $2)) ELSE t.expires_at END
WHERE t.id = $1 AND t.expires_at > {N}
RETURNING t.state, t.expires_at > {N}`

	sqlTouch = `UPDATE {T} AS t SET
	expires_at = CASE WHEN t.state = 1 THEN LEAST({N} + $2, COALESCE({DL:t.data}, {N} + $2)) ELSE t.expires_at END
WHERE t.id = $1 AND t.expires_at > {N}
RETURNING t.state, t.expires_at > {N}`

	// sqlRemove: $1 id, $2 the tombstone's ttl in ms.
	sqlRemove = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 3, {N} + $2, '{}')
ON CONFLICT (id) DO UPDATE SET
	state = CASE WHEN t.state = 1 AND t.expires_at > {N} THEN 2 ELSE 3 END,
	expires_at = CASE WHEN t.state <> 1 AND t.expires_at > EXCLUDED.expires_at THEN t.expires_at ELSE EXCLUDED.expires_at END,
	data = '{}'
RETURNING state`

	sqlRead = `SELECT data FROM {T} WHERE id = $1 AND state = 1 AND expires_at > {N}`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} WHERE id = $1 AND state = 1 AND expires_at > {N})`

	// sqlSweep re-checks expiry in the DELETE, so that a row revived by a
	// Write after the sub-select saw it is kept; SKIP LOCKED lets
	// concurrent sweepers, and Writes, pass each other without waiting.
	sqlSweep = `DELETE FROM {T} WHERE id IN (
	SELECT id FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at <= {N}`
)

type statements struct {
	ddl, replace, create, delta, touch, remove, read, exists, sweep string
}

func buildStatements(table, index string) statements {
	r := strings.NewReplacer(
		"{T}", table,
		"{I}", index,
		"{N}", nowMS,
		"{DL:t.data}", strings.ReplaceAll(deadline, "x->>", "t.data->>"),
	)
	return statements{
		ddl:     r.Replace(ddl),
		replace: r.Replace(sqlReplace),
		create:  r.Replace(sqlCreate),
		delta:   r.Replace(sqlDelta),
		touch:   r.Replace(sqlTouch),
		remove:  r.Replace(sqlRemove),
		read:    r.Replace(sqlRead),
		exists:  r.Replace(sqlExists),
		sweep:   r.Replace(sqlSweep),
	}
}
