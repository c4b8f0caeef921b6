// Package filestore is a sessions.Store that keeps each record in one file
// under a directory. It is the smallest complete example of a custom Store
// that keeps the whole Store contract, and of the few steps that make a
// file-backed one safe. A Write, under a lock for its id:
//
//  1. reads and decodes the current file, and applies the Change to it with
//     Change.Apply. Without the per-id lock, two requests that change
//     different keys read the same old record and the later rename drops the
//     other's key; with it, concurrent deltas merge. The lock must reach
//     every writer of the directory: two processes, or two Stores in one
//     program, that lock only among their own goroutines lose each other's
//     keys, and both see a session live when they log it out at once.
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
// A record past the end of its absolute lifetime, which the Manager keeps
// in it under "__deadline", reads as missing, and a Write never sets an
// expiry past it. A request that only writes does not read the session
// first, so without the cap it would extend, and write into, a session the
// Manager has already ended, and the value would be lost.
//
// The lock of an id is a flock(2) on a file of its own (the id's name with
// ".lock"), taken after a mutex in the process. The flock is seen by every
// Store and every process on the directory, and the kernel drops it when
// its holder dies, so a crash never leaves a record locked; the mutex keeps
// the goroutines of one Store queued where a context can end their wait.
// A system without flock(2) gets an error from New rather than a Store
// whose lock stops at the process.
//
// The directory must be writable by its owner alone. Whoever else can write
// to it can plant a record that logs a browser into any account, or delete
// a tombstone and bring a logged-out session back; New refuses such a
// directory rather than fix its mode, which would change the access of
// whatever else shares it. A missing directory is created with mode 0700.
//
// A sweeper goroutine deletes expired files, and the lock files of ids left
// with none; Close stops it. Several Stores may sweep one directory. Expiry
// uses the wall clock, which outlives the process and is shared by every
// process on the machine.
package filestore
