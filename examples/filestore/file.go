package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/sessionkit/sessions"
)

// A file is a magic word that names its kind, the expiry (Unix nanoseconds,
// big-endian), for a record the entries (uvarint count, then uvarint length
// and bytes of each key and value), and a CRC-32C of all that. The checksum
// is what turns a torn or foreign file into ErrCorrupt instead of a record
// with keys missing.
const (
	magicRecord = "FSR1"
	magicTomb   = "FST1"
	headerLen   = 4 + 8
	trailerLen  = 4
)

// File name suffixes. A lock file holds nothing: it is there to be locked
// (see lockFile). Temporary files start with tempPrefix, so that the
// sweeper can tell an orphan left by a crash from a live file.
const (
	recordSuffix = ".rec"
	tombSuffix   = ".tomb"
	lockSuffix   = ".lock"
	tempPrefix   = ".tmp-"
)

// keyDeadline is the key under which the Manager keeps the end of a
// session's absolute lifetime, in Unix milliseconds (see sessions.Store).
const keyDeadline = "__deadline"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errDecode is the cause of every decoding failure; decode's callers wrap
// it in sessions.ErrCorrupt.
var errDecode = errors.New("bad length, magic or checksum")

func encode(magic string, expires int64, rec sessions.Record) []byte {
	n := headerLen + trailerLen + binary.MaxVarintLen64
	for k, v := range rec {
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint64(b, uint64(expires))
	if magic == magicRecord {
		b = binary.AppendUvarint(b, uint64(len(rec)))
		for k, v := range rec {
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = append(b, k...)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// decode returns the expiry and, for a record, the entries of a file of kind
// magic. The values are copies: the Record never changes once returned.
func decode(magic string, b []byte) (int64, sessions.Record, error) {
	if len(b) < headerLen+trailerLen || string(b[:4]) != magic {
		return 0, nil, errDecode
	}
	body, sum := b[:len(b)-trailerLen], b[len(b)-trailerLen:]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(sum) {
		return 0, nil, errDecode
	}
	expires := int64(binary.BigEndian.Uint64(body[4:headerLen]))
	if magic != magicRecord {
		return expires, nil, nil
	}
	rec, err := decodeEntries(body[headerLen:])
	return expires, rec, err
}

func decodeEntries(b []byte) (sessions.Record, error) {
	count, b, ok := uvarint(b)
	if !ok || count > uint64(len(b)) {
		return nil, errDecode
	}
	rec := make(sessions.Record, count)
	for range count {
		var k, v []byte
		if k, b, ok = chunk(b); !ok {
			return nil, errDecode
		}
		if v, b, ok = chunk(b); !ok {
			return nil, errDecode
		}
		rec[string(k)] = append([]byte{}, v...)
	}
	if len(b) != 0 {
		return nil, errDecode
	}
	return rec, nil
}

func uvarint(b []byte) (uint64, []byte, bool) {
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return x, b[n:], true
}

// chunk splits a length-prefixed byte string off the front of b.
func chunk(b []byte) (c, rest []byte, ok bool) {
	n, b, ok := uvarint(b)
	if !ok || n > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

// writeFile replaces the file at path with data so that every reader, and
// the disk after a crash or a power loss, sees either the old file or the
// new one: a temporary file in the same directory, fsync, rename, fsync of
// the directory (see the package documentation for what each step is for).
func writeFile(path string, data []byte) (err error) {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("filestore: %w", err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// file is a decoded file: its expiry (Unix nanoseconds) and, for a record,
// its entries.
type file struct {
	expires int64
	rec     sessions.Record
}

// live reports whether f is neither expired nor, for a record, past its
// deadline. The deadline is checked here, not only capped by Write, so that
// a file written without the cap, by an older version of this store, is
// not served past it either.
func (f file) live(now int64) bool {
	if end, ok := deadline(f.rec); ok && end <= now {
		return false
	}
	return f.expires > now
}

// deadline returns the end of rec's absolute lifetime in Unix nanoseconds,
// if rec has a readable "__deadline": positive decimal Unix milliseconds,
// as the Manager writes them. One past what nanoseconds can hold caps
// nothing.
func deadline(rec sessions.Record) (int64, bool) {
	b := rec[keyDeadline]
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var ms int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
	}
	if ms == 0 || ms > math.MaxInt64/int64(time.Millisecond) {
		return 0, false
	}
	return ms * int64(time.Millisecond), true
}

// readFile returns the decoded file at path: ok is false when there is no
// file, and err wraps sessions.ErrCorrupt when it does not decode.
func readFile(path, magic string) (f file, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return file{}, false, nil
	}
	if err != nil {
		return file{}, false, fmt.Errorf("filestore: %w", err)
	}
	f.expires, f.rec, err = decode(magic, b)
	if err != nil {
		return file{}, false, fmt.Errorf("%w (file %s: %v)", sessions.ErrCorrupt, filepath.Base(path), err)
	}
	return f, true, nil
}
