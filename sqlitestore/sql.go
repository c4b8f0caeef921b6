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

// A row the store did not write may be anything: SQLite's columns take any
// value, and a table created by hand may take NULL. Every statement sorts
// rows into three kinds before it acts:
//
//   - {TOMB}, a row that may be a tombstone: its state is not 1 (NULL
//     included) and its expiry has not passed (one that is NULL or text
//     has not: text sorts above every number). It refuses every write, as
//     a tombstone does; Sweep deletes it once its expiry passes, or if
//     that is NULL or text.
//   - {HEALTHY}, a live record, its expiry a number, that Read can decode
//     ({VALID}).
//   - anything else is no record: expired, or a record that is corrupt.
//     A delta or touch to it gives ErrNotFound and changes nothing; a
//     Replace or Create overwrites it.
//
// {VALID} repeats sqlstore.DecodeRecord's checks in SQL, so that a merge
// into a record Read could not return never reports success: the data is
// JSON text, an object whose members are all strings, and a key or value
// that starts with the base64 mark '~' is base64: only base64 characters,
// at most two '=' at the end, and a length that is a multiple of four. The
// checks are written short, since the driver parses every statement on
// every run: even so they add about half to the time of a delta on a small
// record, which a write that must never lose a value pays.
const (
	tombSQL    = `(state IS NOT 1 AND (expires_at > {N}) IS NOT 0)`
	healthySQL = `(state = 1 AND expires_at > {N} AND expires_at <= {NEVER} AND {VALID})`
	validSQL   = `CASE WHEN typeof(data) = 'text' AND json_valid(data) THEN CASE WHEN json_type(data) = 'object'
	THEN NOT EXISTS (SELECT 1 FROM json_each(data) WHERE type <> 'text' OR NOT {B64:key} OR NOT {B64:atom})
	ELSE 0 END ELSE 0 END`
	b64SQL = `({X} NOT GLOB '~*' OR (rtrim({X}, '=') NOT GLOB '~*[^A-Za-z0-9+/]*' AND length({X}) % 4 = 1
	AND length({X}) - length(rtrim({X}, '=')) <= 2))`
)

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
WHERE NOT {TOMB}`

	// sqlCreate never shortens the expiry of a healthy row: it becomes the
	// later of the one the row has and now + ttl, capped at the deadline
	// the row holds after the change. A row that is expired, corrupt or a
	// tombstone keeps nothing of its expiry. Every expression of the SET
	// list reads the old row.
	sqlCreate = `INSERT INTO {T} (id, state, expires_at, deadline, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {NEVER})), ?3, json_patch('{}', ?4))
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN {HEALTHY} THEN json_patch(data, ?4) ELSE excluded.data END,
	deadline = CASE WHEN ?5 AND {HEALTHY} THEN deadline ELSE ?3 END,
	expires_at = CASE WHEN {HEALTHY}
		THEN min(max(expires_at, {N} + ?2), coalesce(CASE WHEN ?5 THEN deadline ELSE ?3 END, {NEVER}))
		ELSE excluded.expires_at END
WHERE NOT {TOMB}`

	// sqlDelta is a delta that keeps the deadline: ?1 id, ?2 ttl, ?3 patch.
	// It changes a healthy row only; when it changes none, sqlRefused tells
	// a tombstone from a missing record. RETURNING would tell in the same
	// statement, but SQLite compiles it on every run, at a third of the
	// statement's cost, for an answer only a refused write needs.
	sqlDelta = `UPDATE {T} SET data = json_patch(data, ?3), expires_at = min({N} + ?2, coalesce(deadline, {NEVER}))
WHERE id = ?1 AND {HEALTHY}`

	// sqlTouch is sqlDelta with nothing to change but the expiry.
	sqlTouch = `UPDATE {T} SET expires_at = min({N} + ?2, coalesce(deadline, {NEVER}))
WHERE id = ?1 AND {HEALTHY}`

	// sqlDeltaDeadline is a delta that sets or drops the deadline, after
	// which the row may be past it: the statement reports whether it left
	// the row live. It also matches a tombstone, leaving it as it is, so
	// that it tells a refused write from a missing record.
	sqlDeltaDeadline = `UPDATE {T} SET
	data = CASE WHEN state = 1 THEN json_patch(data, ?4) ELSE data END,
	deadline = CASE WHEN state = 1 THEN ?3 ELSE deadline END,
	expires_at = CASE WHEN state = 1 THEN min({N} + ?2, coalesce(?3, {NEVER})) ELSE expires_at END
WHERE id = ?1 AND ({TOMB} OR {HEALTHY})
RETURNING state IS NOT 1, coalesce(expires_at > {N}, 0)`

	// sqlRefused tells why sqlDelta or sqlTouch changed no row: whether a
	// tombstone is stored under ?1.
	sqlRefused = `SELECT count(*) FROM {T} WHERE id = ?1 AND {TOMB}`

	// sqlRemove: ?1 id, ?2 the tombstone's ttl in ms. A tombstone's longer
	// life is kept; an expiry that is NULL or text gets the Remove's.
	sqlRemove = `INSERT INTO {T} (id, state, expires_at, data)
VALUES (?1, 3, {N} + ?2, '{}')
ON CONFLICT (id) DO UPDATE SET
	state = CASE WHEN {HEALTHY} THEN 2 ELSE 3 END,
	expires_at = CASE WHEN state IS NOT 1 AND expires_at > excluded.expires_at AND expires_at <= {NEVER}
		THEN expires_at ELSE excluded.expires_at END,
	data = '{}'
RETURNING state`

	// sqlRead also returns a row whose state or expiry is NULL, or whose
	// expiry is text, with a first column that is not 1, so that Read
	// reports it as corrupt.
	sqlRead = `SELECT state = 1 AND expires_at > {N} AND expires_at <= {NEVER}, data FROM {T}
WHERE id = ?1 AND (state = 1 AND expires_at > {N}) IS NOT 0`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} WHERE id = ?1 AND {HEALTHY})`

	sqlSweep = `DELETE FROM {T} WHERE rowid IN (
	SELECT rowid FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT ?1
)`

	// sqlSweepBad deletes rows whose expiry is NULL or text (above every
	// number in SQLite's order), which no TTL ends.
	sqlSweepBad = `DELETE FROM {T} WHERE rowid IN (
	SELECT rowid FROM {T} WHERE expires_at IS NULL OR expires_at > {NEVER} LIMIT ?1
)`
)

// statements are the Store's statements, for one table.
type statements struct {
	insert, replace, create, delta, touch, deltaDeadline, refused, remove, read, exists, sweep, sweepBad string
}

// all lists the statements, for New to check.
func (q statements) all() []string {
	return []string{q.insert, q.replace, q.create, q.delta, q.touch, q.deltaDeadline, q.refused, q.remove, q.read,
		q.exists, q.sweep, q.sweepBad}
}

func buildStatements(table, index string) (statements, []string) {
	b64 := func(x string) string { return strings.ReplaceAll(b64SQL, "{X}", x) }
	valid := strings.NewReplacer("{B64:key}", b64("key"), "{B64:atom}", b64("atom")).Replace(validSQL)
	macros := strings.NewReplacer("{TOMB}", tombSQL, "{HEALTHY}", strings.ReplaceAll(healthySQL, "{VALID}", valid))
	r := strings.NewReplacer("{T}", `"`+table+`"`, "{I}", `"`+index+`"`, "{N}", nowMS, "{NEVER}", never)
	q := func(s string) string { return r.Replace(macros.Replace(s)) }
	ddlOut := make([]string, len(ddl))
	for i, d := range ddl {
		ddlOut[i] = q(d)
	}
	return statements{
		insert: q(sqlInsert), replace: q(sqlReplace), create: q(sqlCreate),
		delta: q(sqlDelta), touch: q(sqlTouch), deltaDeadline: q(sqlDeltaDeadline),
		refused: q(sqlRefused), remove: q(sqlRemove), read: q(sqlRead),
		exists: q(sqlExists), sweep: q(sqlSweep), sweepBad: q(sqlSweepBad),
	}, ddlOut
}
