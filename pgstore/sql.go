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

// A row the store did not write may be anything its column types allow.
// Every statement sorts rows into three kinds before it acts:
//
//   - {TOMB}, a row that may be a tombstone: its state is not 1 (NULL
//     included) and its expiry has not passed (a NULL expiry has not). It
//     refuses every write, as a tombstone does; Sweep deletes it once its
//     expiry passes or if that is NULL.
//   - {HEALTHY}, a live record that Read can decode ({VALID}).
//   - anything else is no record: expired, or a record that is corrupt.
//     A delta or touch to it gives ErrNotFound and changes nothing; a
//     Replace or Create overwrites it.
//
// {VALID} repeats sqlstore.DecodeRecord's checks in SQL, so that a merge
// into a record Read could not return never reports success: the data is
// an object whose members are strings, and a key or value that starts
// with the base64 mark '~' is base64: only base64 characters, at most two
// '=' at the end, and a length that is a multiple of four.
const (
	tombSQL    = `(t.state IS DISTINCT FROM 1 AND (t.expires_at > {N}) IS NOT FALSE)`
	healthySQL = `(t.state = 1 AND t.expires_at > {N} AND {VALID})`
	validSQL   = `(jsonb_typeof(t.data) = 'object' AND NOT EXISTS (
	SELECT FROM jsonb_each(CASE WHEN jsonb_typeof(t.data) = 'object' THEN t.data END) AS e
	WHERE jsonb_typeof(e.value) <> 'string' OR NOT {B64:e.key} OR NOT {B64:e.value #>> '{}'}))`
	b64SQL = `({X} NOT LIKE '~%' OR ({X} ~ '^~[A-Za-z0-9+/]*={0,2}$' AND length({X}) % 4 = 1))`
)

// Parameters of the write statements: $1 id, $2 ttl in ms, $3 the deadline
// the change sets (or NULL), $4 the keys to set (a JSON object), $5 the keys
// to delete, $6 whether the stored deadline stays.
//
// sqlCreate never shortens the expiry of a healthy row: it becomes the later
// of the one the row has and now + ttl, capped at the deadline the record
// holds after the change (LEAST ignores a NULL one). A row that is expired,
// corrupt or a tombstone keeps nothing of its expiry.
const (
	sqlReplace = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 1, LEAST({N} + $2, COALESCE($3, {N} + $2)), $4::jsonb)
ON CONFLICT (id) DO UPDATE SET state = 1, expires_at = EXCLUDED.expires_at, data = EXCLUDED.data
WHERE NOT {TOMB}
RETURNING 1`

	sqlCreate = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 1, LEAST({N} + $2, COALESCE($3, {N} + $2)), $4::jsonb)
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN {HEALTHY} THEN (t.data - $5::text[]) || EXCLUDED.data ELSE EXCLUDED.data END,
	expires_at = CASE WHEN {HEALTHY}
		THEN LEAST(GREATEST(t.expires_at, {N} + $2), CASE WHEN $6 THEN {DL:t.data} ELSE $3 END)
		ELSE EXCLUDED.expires_at END
WHERE NOT {TOMB}
RETURNING expires_at > {N}`

	// sqlDelta also matches a tombstone, leaving it as it is, so that the
	// statement tells a refused write from a missing record.
	sqlDelta = `UPDATE {T} AS t SET
	data = CASE WHEN t.state = 1 THEN (t.data - $5::text[]) || $4::jsonb ELSE t.data END,
	expires_at = CASE WHEN t.state = 1
		THEN LEAST({N} + $2, COALESCE($3, CASE WHEN $6 THEN {DL:t.data} END, {N} + $2)) ELSE t.expires_at END
WHERE t.id = $1 AND ({TOMB} OR {HEALTHY})
RETURNING t.state IS DISTINCT FROM 1, COALESCE(t.expires_at > {N}, FALSE)`

	sqlTouch = `UPDATE {T} AS t SET
	expires_at = CASE WHEN t.state = 1 THEN LEAST({N} + $2, COALESCE({DL:t.data}, {N} + $2)) ELSE t.expires_at END
WHERE t.id = $1 AND ({TOMB} OR {HEALTHY})
RETURNING t.state IS DISTINCT FROM 1, COALESCE(t.expires_at > {N}, FALSE)`

	// sqlRemove: $1 id, $2 the tombstone's ttl in ms. A tombstone's longer
	// life is kept; an expiry that is NULL gets the Remove's.
	sqlRemove = `INSERT INTO {T} AS t (id, state, expires_at, data)
VALUES ($1, 3, {N} + $2, '{}')
ON CONFLICT (id) DO UPDATE SET
	state = CASE WHEN {HEALTHY} THEN 2 ELSE 3 END,
	expires_at = CASE WHEN t.state IS DISTINCT FROM 1 AND t.expires_at > EXCLUDED.expires_at
		THEN t.expires_at ELSE EXCLUDED.expires_at END,
	data = '{}'
RETURNING state`

	// sqlRead also returns a row whose state or expiry is NULL, with a NULL
	// first column, so that Read reports it as corrupt.
	sqlRead = `SELECT t.state = 1 AND t.expires_at > {N}, t.data FROM {T} AS t
WHERE t.id = $1 AND (t.state = 1 AND t.expires_at > {N}) IS NOT FALSE`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} AS t WHERE t.id = $1 AND {HEALTHY})`

	// sqlSweep re-checks expiry in the DELETE, so that a row revived by a
	// Write after the sub-select saw it is kept; SKIP LOCKED lets
	// concurrent sweepers, and Writes, pass each other without waiting.
	sqlSweep = `DELETE FROM {T} WHERE id IN (
	SELECT id FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at <= {N}`

	// sqlSweepNull deletes rows whose expiry is NULL, which no TTL ends.
	sqlSweepNull = `DELETE FROM {T} WHERE id IN (
	SELECT id FROM {T} WHERE expires_at IS NULL LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at IS NULL`
)

type statements struct {
	ddl, replace, create, delta, touch, remove, read, exists, sweep, sweepNull string
}

func buildStatements(table, index string) statements {
	b64 := func(x string) string { return strings.ReplaceAll(b64SQL, "{X}", x) }
	macros := strings.NewReplacer(
		"{TOMB}", tombSQL,
		"{HEALTHY}", strings.NewReplacer("{VALID}", validSQL).Replace(healthySQL),
		"{DL:t.data}", strings.ReplaceAll(deadline, "x->>", "t.data->>"),
	)
	r := strings.NewReplacer(
		"{T}", table,
		"{I}", index,
		"{N}", nowMS,
		"{B64:e.key}", b64("e.key"),
		"{B64:e.value #>> '{}'}", b64("(e.value #>> '{}')"),
	)
	q := func(s string) string { return r.Replace(macros.Replace(s)) }
	return statements{
		ddl: q(ddl), replace: q(sqlReplace), create: q(sqlCreate), delta: q(sqlDelta), touch: q(sqlTouch),
		remove: q(sqlRemove), read: q(sqlRead), exists: q(sqlExists), sweep: q(sqlSweep), sweepNull: q(sqlSweepNull),
	}
}
