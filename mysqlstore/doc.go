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
// A row is either a live record or a tombstone, never both: Remove turns the
// record's row into its tombstone (state 2 when it removed a live record, 3
// when there was none), so that every check a write needs is on one row.
//
// # Atomicity
//
// Every call is one prepared statement, which InnoDB makes atomic on the
// locked row: Write is an INSERT ... ON DUPLICATE KEY UPDATE (Replace,
// Create) or an UPDATE (a delta, a touch) whose IF clauses leave a live
// tombstone as it is. MySQL has no RETURNING, so each write statement
// assigns the row's new state through LAST_INSERT_ID(expr), which the
// server sends back with the statement's result: the outcome (written,
// refused by a tombstone, no record) costs no second statement. A delta
// changes only its own keys, inside the database, with JSON_MERGE_PATCH
// (set keys with their values, deleted keys with null). Remove is one
// INSERT ... ON DUPLICATE KEY UPDATE that turns the row into a tombstone,
// keeps a tombstone that already lasts longer, and reports whether the row
// was a live record, so of two concurrent Removes exactly one wins.
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
// write to a missing record.
//
// A sweeper deletes expired rows every sweep interval (see
// WithSweepInterval), in batches of at most WithSweepBatch rows: each batch
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
// makes Read return an error wrapping sessions.ErrCorrupt.
//
// # Tests
//
// The tests run against a real server named by SESSIONS_MYSQL_DSN, and are
// skipped without it (they fail instead when CI=true):
//
//	cd mysqlstore && SESSIONS_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -race ./...
package mysqlstore
