// Package filestore is a sessions.Store that keeps each record in one file
// under a directory. It is the smallest complete example of a custom Store
// that keeps the whole Store contract, and of the few steps that make a
// file-backed one safe. A Write, under a lock for its id:
//
//  1. reads and decodes the current file, and applies the Change to it with
//     Change.Apply. Without the per-id lock, two requests that change
//     different keys read the same old record and the later rename drops the
//     other's key; with it, concurrent deltas merge.
//  2. writes the result to a new temporary file in the same directory, never
//     to the live file. Truncating the live file and writing it in place
//     leaves it empty or half written for as long as the write takes: a
//     concurrent Read sees an empty session, and a crash in that window
//     loses the session for good. The user is logged out at random.
//  3. fsyncs the temporary file. Without it, after a power loss the rename
//     below may be on disk while the data it points at is not: a file of
//     zeros, or an empty one.
//  4. renames the temporary file over the live one. Within one filesystem a
//     rename is atomic: every reader, and the disk after a crash, sees the
//     old file or the new one, never a mix. That is why the temporary file is
//     in the same directory: across filesystems a rename is a copy.
//  5. fsyncs the directory, which is what holds the rename. Without it a
//     power loss can undo an acknowledged Write or Remove.
//
// Each file carries its own expiry and a checksum: a reader checks the expiry
// (a file past it reads as missing), and a file that does not decode gives an
// error that wraps sessions.ErrCorrupt. A tombstone is a file too, under a
// separate name, written the same way, with its own expiry. Remove writes the
// tombstone before it deletes the record, so a crash in between leaves a
// record that Read, Exists and Write all treat as removed.
//
// A sweeper goroutine deletes expired files; Close stops it.
//
// The locks live in the process: one process owns a directory. Expiry uses
// the wall clock, which outlives the process.
package filestore
