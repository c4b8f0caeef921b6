package sqlitestore

import (
	"regexp"
	"strconv"
	"strings"
)

// Row states. A row is a live record (stateLive) or a tombstone; the two
// tombstone states record whether the Remove that left it removed a live
// record, which is how Remove reports that in one statement.
const (
	stateLive    = 1
	stateRemoved = 2 // tombstone left by a Remove that removed a live record
	stateTomb    = 3 // tombstone left by a Remove that found no live record
)

// {N} in a statement is the clock in Unix milliseconds, bound from the
// process's clock (see now): SQLite runs in this process, so its clock is
// this machine's. Binding it spares the parse of an expression that every
// statement repeats, which the driver pays on every run (it prepares a
// statement each time it runs it).

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
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {N} + ?2)), ?4)
ON CONFLICT (id) DO UPDATE SET state = 1, expires_at = excluded.expires_at, data = excluded.data
WHERE state = 1 OR expires_at <= {N}
`

	sqlCreate = `INSERT INTO {T} (id, state, expires_at, data)
VALUES (?1, 1, min({N} + ?2, coalesce(?3, {N} + ?2)), json_patch('{}', ?4))
ON CONFLICT (id) DO UPDATE SET
	state = 1,
	data = CASE WHEN state = 1 AND expires_at > {N} THEN json_patch(data, ?4) ELSE excluded.data END,
	expires_at = CASE WHEN state = 1 AND expires_at > {N} AND ?5
		THEN min({N} + ?2, coalesce({DL}, {N} + ?2)) ELSE excluded.expires_at END
WHERE state = 1 OR expires_at <= {N}`

	// sqlDelta also matches a live tombstone, leaving it as it is, so that
	// the statement tells a refused write from a missing record.
	sqlDelta = `UPDATE {T} SET
	data = CASE WHEN state = 1 THEN json_patch(data, ?4) ELSE data END,
	expires_at = CASE WHEN state = 1
		THEN min({N} + ?2, coalesce(?3, CASE WHEN ?5 THEN {DL} END, {N} + ?2)) ELSE expires_at END
WHERE id = ?1 AND expires_at > {N}
RETURNING state, expires_at > {N}`

	sqlTouch = `UPDATE {T} SET
	expires_at = CASE WHEN state = 1 THEN min({N} + ?2, coalesce({DL}, {N} + ?2)) ELSE expires_at END
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

// paramRE matches a numbered parameter.
var paramRE = regexp.MustCompile(`\?([0-9]+)`)

// expander returns the function that fills in a statement's placeholders:
// the table, the index, the deadline expression, and {N} as the parameter
// after the statement's last one (?k+1 in a statement of ?1 to ?k), which
// every call passes last.
func expander(table, index string) func(string) string {
	r := strings.NewReplacer("{T}", `"`+table+`"`, "{I}", `"`+index+`"`, "{DL}", deadlineSQL)
	return func(q string) string {
		q = r.Replace(q)
		last := 0
		for _, m := range paramRE.FindAllStringSubmatch(q, -1) {
			n, _ := strconv.Atoi(m[1])
			last = max(last, n)
		}
		return strings.ReplaceAll(q, "{N}", "?"+strconv.Itoa(last+1))
	}
}
