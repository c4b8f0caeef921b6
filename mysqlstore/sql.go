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

// MySQL assigns the SET list from left to right, each expression seeing the
// columns assigned before it; MariaDB does the same unless its
// SIMULTANEOUS_ASSIGNMENT mode is on, where every expression sees the old
// row. The statements are written so that both readings give the same
// result: where an expression reads a column assigned before it, the new
// value answers the test the same way as the old one.
//
// Placeholders, in order, are listed above each statement. {E} is the new
// expiry, min(now + ttl, deadline), and takes the placeholders ttl, dl, ttl.
const (
	// id, {E}, data, data, {E}
	sqlReplace = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 1, {E}, ?)
ON DUPLICATE KEY UPDATE
	data = IF(state >= 2 AND expires_at > {N}, data, ?),
	state = LAST_INSERT_ID(IF(state >= 2 AND expires_at > {N}, state, 1)),
	expires_at = IF(state >= 2 AND expires_at > {N}, expires_at, {E})`

	// id, {E}, patch, patch, patch, keep, ttl, ttl, {E}
	sqlCreate = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 1, {E}, JSON_MERGE_PATCH('{}', ?))
ON DUPLICATE KEY UPDATE
	data = IF(state >= 2 AND expires_at > {N}, data,
		IF(state = 1 AND expires_at > {N}, JSON_MERGE_PATCH(data, ?), JSON_MERGE_PATCH('{}', ?))),
	state = LAST_INSERT_ID(IF(state >= 2 AND expires_at > {N}, state, 1)),
	expires_at = IF(state >= 2 AND expires_at > {N}, expires_at,
		IF(state = 1 AND expires_at > {N} AND ?, LEAST({N} + ?, COALESCE({DL}, {N} + ?)), {E}))`

	// {X}, patch, {X}, id; {X} is the new expiry of a live record:
	// ttl, dl, keep, ttl
	sqlDelta = `UPDATE {T} SET
	state = LAST_INSERT_ID(IF(state = 1, IF({X} > {N}, 1, 0), state)),
	data = IF(state <= 1, JSON_MERGE_PATCH(data, ?), data),
	expires_at = IF(state <= 1, {X}, expires_at)
WHERE id = ? AND expires_at > {N}`

	// ttl, ttl, ttl, ttl, id
	sqlTouch = `UPDATE {T} SET
	state = LAST_INSERT_ID(IF(state = 1, IF(LEAST({N} + ?, COALESCE({DL}, {N} + ?)) > {N}, 1, 0), state)),
	expires_at = IF(state <= 1, LEAST({N} + ?, COALESCE({DL}, {N} + ?)), expires_at)
WHERE id = ? AND expires_at > {N}`

	// id, ttl, ttl, ttl. A tombstone's data is JSON null, a record's an
	// object: that tells the expiry whether the row was a tombstone, whose
	// longer life must be kept, whichever way the SET list is read.
	sqlRemove = `INSERT INTO {T} (id, state, expires_at, data) VALUES (?, 3, {N} + ?, 'null')
ON DUPLICATE KEY UPDATE
	state = LAST_INSERT_ID(IF(state = 1 AND expires_at > {N}, 2, 3)),
	expires_at = IF(JSON_TYPE(data) = 'NULL' AND expires_at > {N} + ?, expires_at, {N} + ?),
	data = 'null'`

	sqlRead = `SELECT data FROM {T} WHERE id = ? AND state = 1 AND expires_at > {N}`

	sqlExists = `SELECT EXISTS (SELECT 1 FROM {T} WHERE id = ? AND state = 1 AND expires_at > {N})`

	sqlSweep = `DELETE FROM {T} WHERE expires_at <= {N} ORDER BY expires_at LIMIT ?`
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

func replacer(table, index string) *strings.Replacer {
	return strings.NewReplacer(
		"{T}", "`"+table+"`",
		"{I}", "`"+index+"`",
		"{E}", `LEAST({N} + ?, COALESCE(?, {N} + ?))`,
		"{X}", `LEAST({N} + ?, COALESCE(?, IF(?, {DL}, NULL), {N} + ?))`,
	)
}

// expand returns q with every placeholder of the statements filled in.
func expand(r *strings.Replacer, q string) string {
	return strings.NewReplacer("{N}", nowMS, "{DL}", deadlineSQL).Replace(r.Replace(q))
}
