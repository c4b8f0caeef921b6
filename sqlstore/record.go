package sqlstore

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sessionkit/sessions"
)

// escapeMark starts a key or value that is stored base64-encoded. Text that
// is valid UTF-8, holds no NUL and does not itself start with the mark is
// stored as it is, so the column stays readable in a database shell; anything else
// (binary values, keys with NUL or invalid UTF-8) is stored as the mark
// followed by its standard base64 encoding. Plain text never starts with the
// mark, so the two forms cannot collide and every key and value round-trips.
const escapeMark = '~'

// keyDeadline is the Manager's metadata key for the end of a session's
// absolute lifetime, in decimal Unix milliseconds.
const keyDeadline = "__deadline"

// EncodeText returns s, a key or a value, in its stored form: s itself when
// it is valid UTF-8, holds no NUL and does not start with the escape mark
// "~", else the mark followed by the standard base64 encoding of s.
func EncodeText(s string) string {
	if isPlain(s) {
		return s
	}
	return string(escapeMark) + base64.StdEncoding.EncodeToString([]byte(s))
}

func isPlain(s string) bool {
	return (s == "" || s[0] != escapeMark) && !strings.ContainsRune(s, 0) && utf8.ValidString(s)
}

// decodeText reverses EncodeText. It refuses the line breaks that Go's
// base64 decoder skips: EncodeText never writes them, and the stores'
// SQL checks of the stored form (see DecodeRecord) do not skip them.
func decodeText(s string) ([]byte, error) {
	if s == "" || s[0] != escapeMark {
		return []byte(s), nil
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, errLineBreak
	}
	return base64.StdEncoding.DecodeString(s[1:])
}

var errLineBreak = errors.New("a line break in base64 text")

// AppendJSONString appends s, a key or value in stored form (see
// EncodeText), to b as a JSON string, and returns the extended slice. The
// stored form is valid UTF-8 without NUL, so only quotes, backslashes and
// control characters are escaped.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// EncodeRecord returns the JSON object that holds r in stored form: each
// key and value as EncodeText gives it. It is what a store writes into its
// data column; DecodeRecord reads it back.
func EncodeRecord(r sessions.Record) string { return EncodePatch(r, nil) }

// EncodePatch returns a delta as a JSON merge patch (RFC 7396) in stored
// form, for the database's merge function (jsonb ||, JSON_MERGE_PATCH,
// json_patch): the keys of set with their values, and the keys in del with
// null. A key both set and deleted is set, as sessions.Change.Apply does.
func EncodePatch(set sessions.Record, del []string) string {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	for k, v := range set {
		sep()
		b = AppendJSONString(b, EncodeText(k))
		b = append(b, ':')
		b = AppendJSONString(b, EncodeText(string(v)))
	}
	for _, k := range del {
		if _, ok := set[k]; ok {
			continue
		}
		sep()
		b = AppendJSONString(b, EncodeText(k))
		b = append(b, ":null"...)
	}
	return string(append(b, '}'))
}

// DecodeRecord parses a stored JSON object back into a sessions.Record.
// Anything else is corrupt, and the error wraps sessions.ErrCorrupt: data
// that is not an object, a member that is not a string (null included), or
// a marked key or value that is not base64. A store's write statements
// should check the same before they merge into a record (as the validity
// checks in each store's sql.go of this repository do), so that a write
// never reports success on a record that Read could not return.
func DecodeRecord(data []byte) (sessions.Record, error) {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, fmt.Errorf("data is not an object of strings: %w", sessions.ErrCorrupt)
	}
	if hasEmpty(m) && hasNull(data) {
		return nil, fmt.Errorf("data holds a null member: %w", sessions.ErrCorrupt)
	}
	r := make(sessions.Record, len(m))
	for k, v := range m {
		dk, err1 := decodeText(k)
		dv, err2 := decodeText(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad base64 in a key or value: %w", sessions.ErrCorrupt)
		}
		r[string(dk)] = dv
	}
	return r, nil
}

// hasEmpty reports whether a value of m is empty: json.Unmarshal leaves a
// null member as "", so only then does hasNull need to look again.
func hasEmpty(m map[string]string) bool {
	for _, v := range m {
		if v == "" {
			return true
		}
	}
	return false
}

// hasNull reports whether the JSON object data has a null member.
func hasNull(data []byte) bool {
	var m map[string]*string
	if json.Unmarshal(data, &m) != nil {
		return true
	}
	for _, v := range m {
		if v == nil {
			return true
		}
	}
	return false
}

// DeadlineOf tells the database where the record's "__deadline", the end
// of its absolute lifetime that caps its expiry, comes from after ch: set
// is the value ch writes, in Unix milliseconds, when ch sets a readable
// one; keep reports that ch leaves the stored value as it is. When set is
// nil and keep false, the record has no deadline after ch.
func DeadlineOf(ch sessions.Change) (set *int64, keep bool) {
	if v, ok := ch.Set[keyDeadline]; ok {
		if ms, ok := parseMillis(v); ok {
			return &ms, false
		}
		return nil, false
	}
	if ch.Mode == sessions.ModeReplace {
		return nil, false
	}
	for _, k := range ch.Delete {
		if k == keyDeadline {
			return nil, false
		}
	}
	return nil, true
}

// parseMillis reads positive decimal Unix milliseconds, as the Manager
// writes them.
func parseMillis(b []byte) (int64, bool) {
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
	return ms, ms > 0
}
