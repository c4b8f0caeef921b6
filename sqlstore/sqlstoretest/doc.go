// Package sqlstoretest holds the tests that the SQL stores of this
// repository (pgstore, mysqlstore and sqlitestore) share, for their own
// tests and the benchmarks: what a store does with rows it did not write
// (CorruptRows), how it caps an expiry at the record's absolute deadline
// (Deadline), how many statements each Store call runs
// (StatementsPerCall, with a database/sql connector that counts them,
// CountingConnector), and how an application behind it weathers a
// database restart (RunRestartFault, on Unix). Run a store through
// sessionstest.Run as well: these tests add to the Store contract's.
//
// It is for writing a SQL store; applications do not need it.
package sqlstoretest
