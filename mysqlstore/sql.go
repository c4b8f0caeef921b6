package mysqlstore

import "strings"

// Row states. A row is a live record (stateLive), a tombstone, or dead. The
// two tombstone states record whether the Remove that left it removed a
// live record. Each write statement assigns the new state through
// LAST_INSERT_ID(expr), which the server returns with the statement's
// result: that is how one statement reports its outcome without RETURNING,
// which MySQL lacks. An INSERT that added the row, or an UPDATE that matched
// none, reports 0.
const (
	stateDead    = 0 // a delta or touch left the record expired at once
	stateLive    = 1
	stateRemoved = 2 // tombstone left by a Remove that removed a live record
	stateTomb    = 3 // tombstone left by a Remove that found no live record
)

// nowMS is the server's clock in Unix milliseconds, independent of the
// session time zone. The server gives every use in one statement the same
// value.
const nowMS = `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)`

const ddl = `CREATE TABLE IF NOT EXISTS {T} (
	id         VARBINARY(255) NOT NULL PRIMARY KEY,
	state      TINYINT NOT NULL,
	expires_at BIGINT NOT NULL,
	data       JSON NOT NULL,
	KEY {I} (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// deadlineSQL is the "__deadline" kept in the record's data, or NULL.
const deadlineSQL = `CAST(IF(JSON_UNQUOTE(JSON_EXTRACT(data, '$.__deadline')) REGEXP '^[1-9][0-9]{0,14}$',
	JSON_UNQUOTE(JSON_EXTRACT(data, '$.__deadline')), NULL) AS SIGNED)`

// A row the store did not write may be anything its column types allow.
// Every statement sorts rows into three kinds before it acts:
//
//   - {TOMB}, a row that may be a tombstone: its state is 2 or more, or
//     NULL, and its expiry has not passed (a NULL expiry has not). It
//     refuses every write, as a tombstone does; Sweep deletes it once its
//     expiry passes or if that is NULL.
//   - {HEALTHY}, a live record that Read can decode ({VALID}).
//   - anything else is no record: expired, or a record that is corrupt.
//     A delta or touch to it gives ErrNotFound and changes nothing; a
//     Replace or Create overwrites it.
//
// {VALID} repeats sqlstore.DecodeRecord's checks in SQL, so that a merge
// into a record Read could not return never reports success: the data is
// JSON (MariaDB's JSON column is text with a check that can be turned off),
// an object whose members are all strings, and a key or value that starts
// with the base64 mark '~' is base64: only base64 characters, at most two
// '=' at the end, and a length that is a multiple of four. The keys come
// from the paths JSON_SEARCH returns, since MariaDB's JSON_KEYS takes time
// quadratic in their number; they are read only when the text holds a '~' or
// an escape that could spell one. Every JSON function on data runs after the
// JSON is known to be valid: in a statement that writes, strict mode turns a
// JSON function's warning into an error.
const (
	tombSQL    = `(IFNULL(state, 2) >= 2 AND IFNULL(expires_at > {N}, TRUE))`
	healthySQL = `(state = 1 AND expires_at > {N} AND {VALID})`
	validSQL   = `IF(JSON_VALID(data), IF(JSON_TYPE(data) = 'OBJECT',
	NOT EXISTS (SELECT 1 FROM JSON_TABLE(data, '$.*' COLUMNS (j JSON PATH '$')) AS v
		WHERE LEFT(v.j, 1) <> '"' OR NOT {B64:JSON_UNQUOTE(v.j)})
	AND (LOCATE('~', data) = 0 AND LOCATE('u007', data) = 0 OR NOT EXISTS (
		SELECT 1 FROM JSON_TABLE(JSON_MERGE_PRESERVE('[]', JSON_SEARCH(data, 'all', '%')), '$[*]'
			COLUMNS (p LONGTEXT PATH '$')) AS k WHERE NOT {B64:{KEY}})),
	FALSE), FALSE)`
	// keySQL is the key named by k.p, a path JSON_SEARCH returned: "$."
	// and the key (MariaDB), or the key in quotes when it is not an
	// identifier (MySQL).
	keySQL      = `SUBSTRING(k.p, 3)`
	keyMySQLSQL = `IF(k.p LIKE '$."%', JSON_UNQUOTE(SUBSTRING(k.p, 3)), SUBSTRING(k.p, 3))`
	// b64SQL also refuses a final line break, before which the regular
	// expression's $ matches.
	b64SQL = `({X} NOT LIKE '~%' OR ({X} REGEXP '^~[A-Za-z0-9+/]*={0,2}$' AND CHAR_LENGTH({X}) % 4 = 1
	AND RIGHT({X}, 1) <> CHAR(10 USING utf8mb4)))`
)

// MySQL assigns the SET list from left to right, each expression seeing the
// columns assigned before it; MariaDB does the same unless its
// SIMULTANEOUS_ASSIGNMENT mode is on, where every expression sees the old
// row. The statements are written so that both readings give the same
// result: where an expression reads a column assigned before it, the new
// value answers the test the same way as the old one.
//
// Placeholders, in order, are listed above each statement. {E} is the new
// expiry, min(now + ttl, deadline), and takes the placeholders ttl, dl, ttl.
//
// An upsert never shortens the expiry of a row that is no tombstone and has
// not expired: it becomes the later of the one the row has and now + ttl,
// capped at the deadline the record holds after the change. The expiry is
// assigned last, and read from left to right it sees the new state and data
// but still the old expiry: that expiry is all both readings can tell of the
// old row, so a corrupt record that has not expired keeps its expiry as a
// healthy one does. An expired row or a tombstone keeps nothing of its own.
const (
	// id, {E}, data, data, upsert, ttl, dl, ttl, {E}. The locked path
	// runs it for an upsert to a row that holds no healthy record, with
	// upsert true; a Replace passes false.
	sqlReplace = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 1, {E}, ?)
ON DUPLICATE KEY UPDATE
	data = IF({TOMB}, data, ?),
	state = LAST_INSERT_ID(IF({TOMB}, IFNULL(state, 3), 1)),
	expires_at = IF({TOMB}, expires_at, IF(? AND expires_at > {N},
		LEAST(GREATEST(expires_at, {N} + ?), COALESCE(?, GREATEST(expires_at, {N} + ?))), {E}))`

	// id, {E}, patch, patch, patch, ttl, keep, dl, ttl, {E}. The expiry
	// keeps the stored deadline only for a record that was healthy: read
	// from left to right, data is already the new record, valid either way,
	// and a record that was not healthy got ch.Set, which holds no deadline
	// when the stored one is kept, so both readings agree.
	sqlCreate = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 1, {E}, JSON_MERGE_PATCH('{}', ?))
ON DUPLICATE KEY UPDATE
	data = IF({TOMB}, data, IF({HEALTHY}, JSON_MERGE_PATCH(data, ?), JSON_MERGE_PATCH('{}', ?))),
	state = LAST_INSERT_ID(IF({TOMB}, IFNULL(state, 3), 1)),
	expires_at = IF({TOMB}, expires_at, IF(expires_at > {N},
		LEAST(GREATEST(expires_at, {N} + ?),
			COALESCE(IF(?, IF(state = 1 AND {VALID}, {DL}, NULL), ?), GREATEST(expires_at, {N} + ?))),
		{E}))`

	// {X}, patch, {X}, id; {X} is the new expiry of a live record:
	// ttl, dl, keep, ttl. The statement also matches a tombstone, to
	// report it, and gives one whose state is NULL the state 3.
	sqlDelta = `UPDATE {T} SET
	state = LAST_INSERT_ID(IF(state = 1, IF({X} > {N}, 1, 0), IFNULL(state, 3))),
	data = IF(state <= 1, JSON_MERGE_PATCH(data, ?), data),
	expires_at = IF(state <= 1, {X}, expires_at)
WHERE id = ? AND ({TOMB} OR {HEALTHY})`

	// ttl, ttl, ttl, ttl, id
	sqlTouch = `UPDATE {T} SET
	state = LAST_INSERT_ID(IF(state = 1, IF(LEAST({N} + ?, COALESCE({DL}, {N} + ?)) > {N}, 1, 0), IFNULL(state, 3))),
	expires_at = IF(state <= 1, LEAST({N} + ?, COALESCE({DL}, {N} + ?)), expires_at)
WHERE id = ? AND ({TOMB} OR {HEALTHY})`

	// id, ttl, ttl, ttl. A tombstone's data is JSON null, a record's an
	// object: that tells the expiry whether the row was a tombstone, whose
	// longer life must be kept, whichever way the SET list is read. A row
	// whose expiry is NULL gets the Remove's.
	sqlRemove = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 3, {N} + ?, 'null')
ON DUPLICATE KEY UPDATE
	state = LAST_INSERT_ID(IF({HEALTHY}, 2, 3)),
	expires_at = IF(IF(JSON_VALID(data), JSON_TYPE(data) = 'NULL', FALSE) AND expires_at > {N} + ?, expires_at, {N} + ?),
	data = 'null'`

	// sqlRead also returns a row whose state or expiry is NULL, with a NULL
	// first column, so that Read reports it as corrupt.
	sqlRead = `SELECT state = 1 AND expires_at > {N}, data FROM {T}
WHERE id = ? AND (state = 1 AND expires_at > {N}) IS NOT FALSE`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} WHERE id = ? AND {HEALTHY})`

	sqlSweep = `DELETE FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT ?`

	// sqlLock reads a row for writeLocked, and locks it until the
	// transaction ends; a missing row's gap is locked under REPEATABLE
	// READ, so that no other write inserts it meanwhile. id.
	sqlLock = `SELECT state, expires_at > {N}, data FROM {T} WHERE id = ? FOR UPDATE`

	// sqlWhole stores the record writeLocked merged, on the row it locked
	// and found healthy: {W}, data, {W}, id. {W} is the new expiry: {X},
	// or for an upsert the later of {X} and the row's own capped at the
	// deadline, which never shortens it. It takes upsert, dl, keep, ttl, dl,
	// keep, ttl. Read from left to right, the expiry reads the new data's
	// deadline, which is the old one whenever {W} reads it (the change
	// keeps it), and the old expiry, which is assigned last.
	sqlWhole = `UPDATE {T} SET
	state = LAST_INSERT_ID(IF({W} > {N}, 1, 0)),
	data = ?,
	expires_at = {W}
WHERE id = ?`

	// sqlSweepNull deletes rows whose expiry is NULL, which no TTL ends.
	sqlSweepNull = `DELETE FROM {T} WHERE expires_at IS NULL LIMIT ?`
)

// MariaDB's JSON_MERGE_PATCH (10.11 at least) drops a null member of the
// patch when the patch lists the members to delete in another order than
// the document holds them: '{"a":1,"b":2}' patched with '{"b":null,"a":null}'
// gives '{"b":2}'. So a merge deletes its keys with JSON_REMOVE, one path
// argument each, and patches only the keys it sets; removingKeys returns q
// with that done for n keys. TestDeltaDeletesInAnyOrder shows the server
// losing deletes otherwise.
func removingKeys(q string, n int) string {
	if n == 0 {
		return q
	}
	paths := strings.Repeat(", ?", n)
	return strings.Replace(q, "JSON_MERGE_PATCH(data, ?)", "JSON_MERGE_PATCH(JSON_REMOVE(data"+paths+"), ?)", 1)
}

// replacer fills in the placeholders of the statements for a table, on
// MariaDB or on MySQL.
func replacer(table, index string, mariadb bool) *strings.Replacer {
	b64 := func(x string) string { return strings.ReplaceAll(b64SQL, "{X}", x) }
	key := keySQL
	if !mariadb {
		key = keyMySQLSQL
	}
	valid := strings.NewReplacer("{B64:JSON_UNQUOTE(v.j)}", b64("JSON_UNQUOTE(v.j)"), "{B64:{KEY}}", b64(key)).Replace(validSQL)
	return strings.NewReplacer(
		"{T}", "`"+table+"`",
		"{I}", "`"+index+"`",
		"{E}", `LEAST({N} + ?, COALESCE(?, {N} + ?))`,
		"{X}", `LEAST({N} + ?, COALESCE(?, IF(?, {DL}, NULL), {N} + ?))`,
		"{W}", `GREATEST(IF(?, LEAST(expires_at, COALESCE(?, IF(?, {DL}, NULL), expires_at)), 0),
	LEAST({N} + ?, COALESCE(?, IF(?, {DL}, NULL), {N} + ?)))`,
		"{TOMB}", tombSQL,
		"{HEALTHY}", strings.ReplaceAll(healthySQL, "{VALID}", valid),
		"{VALID}", valid,
	)
}

// expand returns q with every placeholder of the statements filled in.
func expand(r *strings.Replacer, q string) string {
	return strings.NewReplacer("{N}", nowMS, "{DL}", deadlineSQL).Replace(r.Replace(q))
}
