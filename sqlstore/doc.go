// Package sqlstore is the code that the SQL stores of this repository
// (pgstore, mysqlstore and sqlitestore) share: the stored form of a session
// record and the sweeper loop that deletes expired rows. It is for writing
// a SQL store of sessions.Store; an application that uses one of those
// stores does not need it.
//
// A record is stored as a JSON object of strings: each key and value as it
// is when it is plain text, so that the column stays readable in a database
// shell, else marked with "~" and base64-encoded (see EncodeText).
// EncodeRecord writes a whole record, EncodePatch a delta as a JSON merge
// patch for the database to merge, and DecodeRecord reads a stored record
// back, refusing what the encoder never writes with sessions.ErrCorrupt.
// DeadlineOf tells where a record's absolute deadline, which caps its
// expiry, comes from after a write, and RunSweeper runs the periodic
// deletion of expired rows.
//
// Package sqlstoretest holds the tests these stores share.
package sqlstore
