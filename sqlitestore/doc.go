// Package sqlitestore is a sessions.Store that keeps sessions in SQLite,
// through database/sql. It is the embedded choice for a single server whose
// sessions must survive a restart; use it with modernc.org/sqlite (pure Go,
// no cgo) or any SQLite 3.42 or later.
//
//	db, err := sql.Open("sqlite", "file:sessions.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	...
//	store, err := sqlitestore.New(ctx, db)
//	...
//	defer store.Close()
//	m := sessions.New(store)
//
// Give the database a busy timeout (New refuses a pool of several
// connections without one: concurrent writes would fail with SQLITE_BUSY),
// and WAL mode, so that reads never wait for a write. An in-memory database
// needs one connection that stays open, for example
// "file:sessions?mode=memory&cache=shared" with db.SetMaxOpenConns(1).
//
// # Table
//
// New creates the table and its index when they are missing (turn that off
// with WithCreateTable(false) and run the DDL from a migration instead):
//
//	CREATE TABLE IF NOT EXISTS sessions (
//		id         TEXT NOT NULL PRIMARY KEY,
//		state      INTEGER NOT NULL,  -- 1 record, 2 and 3 tombstone
//		expires_at INTEGER NOT NULL,  -- Unix milliseconds
//		deadline   INTEGER,           -- the record's "__deadline", or NULL
//		data       TEXT NOT NULL      -- JSON {key: value}, see Encoding
//	);
//	CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//
// A row is either a live record or a tombstone, never both: Remove turns the
// record's row into its tombstone (state 2 when it removed a live record, 3
// when there was none), so that every check a write needs is on one row.
// The deadline column repeats the "__deadline" kept in data, written by the
// same statements: modernc.org/sqlite parses every statement on every run,
// and reading the deadline out of data with json_extract cost a delta a third
// of its time. New fails on a table without it, created for an earlier
// version of this package. Add it with every server of that version
// stopped (one would write deadlines the column does not follow):
//
//	ALTER TABLE sessions ADD COLUMN deadline INTEGER;
//	UPDATE sessions SET deadline = CAST(json_extract(data, '$.__deadline') AS INTEGER)
//		WHERE state = 1 AND json_type(data, '$.__deadline') = 'text';
//
// # Atomicity
//
// Every write is one statement, or two where that makes the common case
// cheaper (below), each run by SQLite under its database write lock. The
// tombstone check is in its WHERE clause (an UPDATE of a delta or
// a touch changes a live row only) or in its ON CONFLICT clause (Create, and
// a Replace under an ID that has a row), never a read in Go before the
// write. The count of changed rows tells the outcome. Two kinds of write
// run a second statement, which saves the first a cost on every other
// write:
//   - a delta or touch that changes no row reads whether a tombstone is
//     stored, to return sessions.ErrInvalidated rather than
//     sessions.ErrNotFound (RETURNING would answer in the first statement,
//     but SQLite compiles it on every run, for a third of the statement's
//     cost);
//   - a Replace first inserts, and runs the upsert only when the ID already
//     has a row: the IDs the Manager replaces under are new, and a plain
//     insert costs a quarter less.
//
// A delta that sets or drops "__deadline" (SetLifetime) returns, with
// RETURNING, whether it left the record inside its deadline. A delta
// changes only its own keys, inside the database, with json_patch (a JSON
// merge patch: set keys with their values, deleted keys with null). Remove
// is one INSERT ... ON CONFLICT that turns the row into a tombstone, keeps a
// tombstone that already lasts longer, and returns whether the row was a
// live record, so of two concurrent Removes exactly one wins.
//
// Keeping a record in one JSON row, rather than one row per key changed in
// a transaction, was measured (BenchmarkLayout, WAL file): for a typical
// session of a few short values a read takes about half the time and a
// delta about the same; for a session that also holds a 64 KiB value, rows
// per key read and change about three times faster. Sessions are small, and
// one statement per write keeps every write atomic without a transaction,
// so the store keeps one row per record.
//
// The store queues its own write statements in Go, one at a time, before
// SQLite's lock: SQLite admits one writer at a time anyway, and its busy
// handler retries by sleeping, which under a steady stream of writes can
// starve one of them for seconds. Reads are not queued.
//
// A call gives up with the context's error when its context ends before
// its statement starts: while it waits for a connection of the pool or for
// its turn to write. Once its statement has started, it runs to its end. Each statement touches one row
// (a sweep, one bounded batch), and the busy timeout bounds its wait for a
// lock that another process holds; watching the context during the
// statement would cost database/sql and the driver a goroutine each, per
// statement, which is a quarter of a write's CPU.
//
// # Expiry
//
// Expiry is judged by SQLite's clock (unixepoch, read when the statement
// runs, under the write lock, the same for every use in one statement),
// which is the process's clock. Every read checks
// expires_at. A Write caps the expiry at the record's "__deadline" (the
// Manager's absolute lifetime) and refuses a delta to a record past it as a
// write to a missing record. A Write in sessions.ModeUpsert never shortens
// the expiry of a live record. A sweeper deletes expired rows, and rows
// whose expiry is NULL or text, every sweep interval (see
// WithSweepInterval), in batches of at most WithSweepBatch
// rows, each one DELETE bounded by a LIMIT on the expires_at index and
// queued like any write, so it never holds the write lock for long.
//
// # Encoding
//
// Keys and values are arbitrary bytes, and SQLite's JSON functions take
// neither NUL nor invalid UTF-8. A key or value that is valid UTF-8 without
// NUL, and does not start with '~', is stored as a JSON string as it is (the
// Manager's JSON-encoded values stay readable); anything else is stored as
// '~' followed by its standard base64 encoding. A row that does not decode
// makes Read return an error wrapping sessions.ErrCorrupt (see Corrupt
// rows).
//
// # Corrupt rows
//
// A row the store did not write (a table edited by hand, a migration gone
// wrong) may hold anything its columns take. A record whose data does not
// decode (see Encoding), or whose state or expiry is NULL or text (SQLite
// stores any value in any column, and text sorts above every number, so that
// such a record would never expire), is corrupt: Read returns an error
// wrapping sessions.ErrCorrupt and Exists false, which the Manager treats as
// no session. Write treats it as no record: a delta or a touch returns
// sessions.ErrNotFound and leaves the row as it is, and a Replace or a
// Create overwrites it. The statements check the stored data before they
// merge into it, so that no write reports success for a value that Read
// could not return. Remove turns a corrupt record into a tombstone and
// returns sessions.ErrNotFound. A row whose state is NULL may have been a
// tombstone: it refuses every Write with sessions.ErrInvalidated until its
// expiry passes. No corrupt row lives forever: its expiry ends it like any
// row's, and the sweeper deletes a row whose expiry is NULL or text.
//
// # Tests
//
// The tests need no server; they run on a temporary file and in memory:
//
//	cd sqlitestore && go test -race ./...
package sqlitestore
