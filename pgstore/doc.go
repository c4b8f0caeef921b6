// Package pgstore is a sessions.Store that keeps sessions in PostgreSQL,
// through a jackc/pgx v5 connection pool.
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	...
//	store, err := pgstore.New(ctx, pool)
//	...
//	defer store.Close()
//	m := sessions.New(store)
//
// # Table
//
// New creates the table and its index when they are missing (turn that off
// with WithCreateTable(false) and run the DDL from a migration instead):
//
//	CREATE TABLE IF NOT EXISTS sessions (
//		id         text COLLATE "C" PRIMARY KEY,
//		state      smallint NOT NULL,  -- 1 record, 2 and 3 tombstone
//		expires_at bigint NOT NULL,    -- Unix milliseconds, database clock
//		data       jsonb NOT NULL      -- {key: value}, see Encoding
//	);
//	CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//
// New checks the column types of an existing table against this DDL, and
// fails naming the first column that differs, the type it has and the type
// it needs: a table made with json for jsonb, or integer for bigint, would
// otherwise fail one request at a time, or keep working with other
// semantics. Columns that take NULL are accepted (see Corrupt rows).
//
// A row is either a live record or a tombstone, never both: Remove turns the
// record's row into its tombstone (state 2 when it removed a live record, 3
// when there was none), so that every check a write needs is on one row.
//
// # Atomicity
//
// Every call is one statement, and PostgreSQL makes it atomic on the row:
// Write is an INSERT ... ON CONFLICT DO UPDATE (Replace, Create) or an
// UPDATE (a delta, a touch) whose WHERE and CASE clauses refuse a live
// tombstone on the locked row, so no write can slip in between a check and
// a change. A delta changes only its own keys, inside the database, with
// the jsonb operators - (delete keys) and || (set keys): two requests that
// change different keys both persist. Remove is one INSERT ... ON CONFLICT
// that turns the row into a tombstone, keeps a tombstone that already
// lasts longer, and returns whether the row was a live record, so of two
// concurrent Removes exactly one wins. pgx prepares and caches each
// statement per connection (its default exec mode), so after the first use
// on a connection each call is one round trip.
//
// # Expiry
//
// Expiry is judged by the database's clock (now(), at the start of the
// statement), never the application's, so servers with skewed clocks agree.
// Every read checks expires_at. A Write caps the expiry at the record's
// "__deadline" (the Manager's absolute lifetime) and refuses a delta to a
// record past it as a write to a missing record. A Write in
// sessions.ModeUpsert never shortens the expiry of a live record.
//
// A sweeper deletes expired rows, and rows whose expiry is NULL, every
// sweep interval (see WithSweepInterval), in batches of at most WithSweepBatch rows, each one
// DELETE bounded by a LIMIT and served by the expires_at index. Several
// servers sharing the table all sweep: the batches lock their rows with FOR
// UPDATE SKIP LOCKED, so concurrent sweeps never wait for each other or for
// a request, and a row a sweep misses is taken by the next one.
//
// # Encoding
//
// Keys and values are arbitrary bytes, and jsonb can hold neither NUL nor
// invalid UTF-8. A key or value that is valid UTF-8 without NUL, and does
// not start with '~', is stored as a JSON string as it is (the Manager's
// JSON-encoded values stay readable in psql); anything else is stored as
// '~' followed by its standard base64 encoding. A row that does not decode
// makes Read return an error wrapping sessions.ErrCorrupt (see Corrupt
// rows).
//
// # Corrupt rows
//
// A row the store did not write (a table edited by hand, a migration gone
// wrong) may hold anything its columns take. A record whose data does not
// decode (see Encoding), or whose state or expiry is NULL, is corrupt: Read
// returns an error wrapping sessions.ErrCorrupt and Exists false, which the
// Manager treats as no session. Write treats it as no record: a delta or a
// touch returns sessions.ErrNotFound and leaves the row as it is, and a
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
// The tests run against a real server named by SESSIONS_PG_DSN, and are
// skipped without it (they fail instead when CI=true):
//
//	cd pgstore && SESSIONS_PG_DSN=postgres://postgres@127.0.0.1:5432/test go test -race ./...
package pgstore
