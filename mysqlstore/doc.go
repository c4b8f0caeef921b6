// Package mysqlstore is a sessions.Store that keeps sessions in MySQL 8.0
// or MariaDB 10.6 or later, through database/sql and go-sql-driver/mysql.
//
//	db, err := sql.Open("mysql", "app@tcp(db:3306)/app")
//	...
//	store, err := mysqlstore.New(ctx, db)
//	...
//	defer store.Close()
//	m := sessions.New(store)
//
// # Table
//
// New creates the table when it is missing (turn that off with
// WithCreateTable(false) and run the DDL from a migration instead):
//
//	CREATE TABLE IF NOT EXISTS sessions (
//		id         VARBINARY(255) NOT NULL PRIMARY KEY,
//		state      TINYINT NOT NULL,  -- 1 record, 2 and 3 tombstone, 0 dead
//		expires_at BIGINT NOT NULL,   -- Unix milliseconds, server clock
//		data       JSON NOT NULL,     -- {key: value} (see Encoding); null for a tombstone
//		KEY sessions_expires_at_idx (expires_at)
//	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
//
// New checks the column types of an existing table against this DDL, and
// fails naming the first column that differs, the type it has and the type
// it needs: a table made with VARCHAR for the id (whose collation may fold
// case, so that two ids meet) or INT for the expiry would otherwise fail
// one request at a time, or keep working with other semantics. The id may
// be a VARBINARY of 70 bytes or more (the longest id a Store is given); on
// MariaDB, whose JSON column is a LONGTEXT, the data column needs its
// CHECK (json_valid(data)), which JSON adds. Columns that take NULL are
// accepted (see Corrupt rows).
//
// A row is either a live record or a tombstone, never both: Remove turns the
// record's row into its tombstone (state 2 when it removed a live record, 3
// when there was none), so that every check a write needs is on one row.
//
// # Atomicity
//
// Every call is one prepared statement (but for a change of many keys,
// below), which InnoDB makes atomic on the locked row: Write is an INSERT
// ... ON DUPLICATE KEY UPDATE (Replace, Create) or an UPDATE (a delta, a
// touch) whose IF clauses leave a live tombstone as it is. MySQL has no
// RETURNING, so each write statement assigns the row's new state through
// LAST_INSERT_ID(expr), which the server sends back with the statement's
// result: the outcome (written, refused by a tombstone, no record) costs
// no second statement. A delta changes only its own keys, inside the
// database, with JSON_REMOVE (deleted keys) and JSON_MERGE_PATCH (set
// keys). Remove is one INSERT ... ON DUPLICATE KEY UPDATE that turns the
// row into a tombstone, keeps a tombstone that already lasts longer, and
// reports whether the row was a live record, so of two concurrent Removes
// exactly one wins.
//
// A delta or Create that sets and deletes more than 16 keys in all runs as
// a transaction instead: it reads the row with SELECT ... FOR UPDATE,
// merges the change in Go and writes the record whole, in time linear in
// the keys. MariaDB keeps JSON as text, and its JSON_REMOVE and
// JSON_MERGE_PATCH rescan the document for each key they change, so that
// one statement clearing 20,000 keys ran for tens of seconds, past the
// request's deadline, and went on running on the server. The row lock
// keeps the merge per key: a concurrent write waits for the commit, then
// changes the merged record.
//
// The statements give the same result whether the server reads a SET list
// from left to right (MySQL, and MariaDB by default) or all at once
// (MariaDB's SIMULTANEOUS_ASSIGNMENT mode); the tests run both. A write
// that InnoDB rolls back to break a deadlock is run again, a few times at
// most. The result of LAST_INSERT_ID does not depend on the DSN's
// clientFoundRows or interpolateParams settings.
//
// # Expiry
//
// Expiry is judged by the server's clock (UTC_TIMESTAMP, the same for every
// use in one statement, whatever the session time zone), never the
// application's, so servers with skewed clocks agree. Every read checks
// expires_at. A Write caps the expiry at the record's "__deadline" (the
// Manager's absolute lifetime) and refuses a delta to a record past it as a
// write to a missing record. A Write in sessions.ModeUpsert never shortens
// the expiry of a live record.
//
// A sweeper deletes expired rows, and rows whose expiry is NULL, every
// sweep interval (see WithSweepInterval), in batches of at most WithSweepBatch rows: each batch
// is one DELETE ... ORDER BY expires_at LIMIT n on the expires_at index, in
// a READ COMMITTED transaction of its own, which locks the rows it deletes
// and no gaps. Several servers sharing the table all sweep; their batches
// are short, and a batch that loses a deadlock is retried at the next
// interval.
//
// # Encoding
//
// Keys and values are arbitrary bytes, and a JSON column holds neither NUL
// nor invalid UTF-8. A key or value that is valid UTF-8 without NUL, and
// does not start with '~', is stored as a JSON string as it is (the
// Manager's JSON-encoded values stay readable); anything else is stored as
// '~' followed by its standard base64 encoding. A row that does not decode
// makes Read return an error wrapping sessions.ErrCorrupt (see Corrupt
// rows).
//
// # Corrupt rows
//
// A row the store did not write (a table edited by hand, a migration gone
// wrong) may hold anything its columns take. A record whose data does not
// decode (see Encoding), or whose state or expiry is NULL, or (on MariaDB,
// with the column's check turned off) whose data is not JSON, is corrupt:
// Read returns an error wrapping sessions.ErrCorrupt and Exists false, which
// the Manager treats as no session. Write treats it as no record: a delta or
// a touch returns sessions.ErrNotFound and leaves the row as it is, and a
// Replace or a Create overwrites it. The statements check the stored data
// before they merge into it, so that no write reports success for a value
// that Read could not return. Remove turns a corrupt record into a tombstone
// and returns sessions.ErrNotFound. A row whose state is NULL may have been
// a tombstone: it refuses every Write with sessions.ErrInvalidated until its
// expiry passes. No corrupt row lives forever: its expiry ends it like any
// row's, and the sweeper deletes a row whose expiry is NULL.
//
// # Tests
//
// The tests run against a real server named by SESSIONS_MYSQL_DSN, and are
// skipped without it (they fail instead when CI=true):
//
//	cd mysqlstore && SESSIONS_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -race ./...
package mysqlstore
