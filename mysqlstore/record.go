package mysqlstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sessionkit/sessions"
)

// escapeMark starts a key or value that is stored base64-encoded. Text that
// is valid UTF-8, holds no NUL and does not itself start with the mark is
// stored as it is, so the column stays readable in the mysql client; anything else
// (binary values, keys with NUL or invalid UTF-8) is stored as the mark
// followed by its standard base64 encoding. Plain text never starts with the
// mark, so the two forms cannot collide and every key and value round-trips.
const escapeMark = '~'

// keyDeadline is the Manager's metadata key for the end of a session's
// absolute lifetime, in decimal Unix milliseconds.
const keyDeadline = "__deadline"

// encodeText returns s in its stored form.
func encodeText(s string) string {
	if isPlain(s) {
		return s
	}
	return string(escapeMark) + base64.StdEncoding.EncodeToString([]byte(s))
}

func isPlain(s string) bool {
	return (s == "" || s[0] != escapeMark) && !strings.ContainsRune(s, 0) && utf8.ValidString(s)
}

// decodeText reverses encodeText.
func decodeText(s string) ([]byte, error) {
	if s == "" || s[0] != escapeMark {
		return []byte(s), nil
	}
	return base64.StdEncoding.DecodeString(s[1:])
}

// appendJSONString appends s as a JSON string. s is always plain or
// base64 (valid UTF-8, no NUL), so only quotes, backslashes and control
// characters need escaping.
func appendJSONString(b []byte, s string) []byte {
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

// encodeObject returns the JSON object holding r in stored form.
func encodeObject(r sessions.Record) string {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	first := true
	for k, v := range r {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, encodeText(k))
		b = append(b, ':')
		b = appendJSONString(b, encodeText(string(v)))
	}
	return string(append(b, '}'))
}

// decodeObject parses a stored JSON object back into a Record.
func decodeObject(data []byte) (sessions.Record, error) {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, fmt.Errorf("mysqlstore: data is not an object of strings: %w", sessions.ErrCorrupt)
	}
	r := make(sessions.Record, len(m))
	for k, v := range m {
		dk, err1 := decodeText(k)
		dv, err2 := decodeText(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mysqlstore: bad base64 in a key or value: %w", sessions.ErrCorrupt)
		}
		r[string(dk)] = dv
	}
	return r, nil
}

// deadlineOf tells the database where the record's "__deadline" will come
// from after ch: set is the value ch writes (when ch sets a readable one),
// and keep reports that ch leaves the stored value as it is.
func deadlineOf(ch sessions.Change) (set *int64, keep bool) {
	if v, ok := ch.Set[keyDeadline]; ok {
		if ms, ok := parseMillis(v); ok {
			return &ms, false
		}
		return nil, false
	}
	if ch.Replace {
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

// deletePaths returns the JSON paths of the keys del removes, as
// JSON_REMOVE takes them; a key that set also holds is set, not removed, as
// Change.Apply does.
func deletePaths(set sessions.Record, del []string) []any {
	paths := make([]any, 0, len(del))
	for _, k := range del {
		if _, ok := set[k]; !ok {
			paths = append(paths, string(appendJSONString([]byte("$."), encodeText(k))))
		}
	}
	return paths
}

// encodePatch returns ch as a JSON merge patch (RFC 7396): the keys it sets
// with their values, and the keys it deletes with null. A key both set and
// deleted is set, as Change.Apply does.
func encodePatch(set sessions.Record, del []string) string {
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
		b = appendJSONString(b, encodeText(k))
		b = append(b, ':')
		b = appendJSONString(b, encodeText(string(v)))
	}
	for _, k := range del {
		if _, ok := set[k]; ok {
			continue
		}
		sep()
		b = appendJSONString(b, encodeText(k))
		b = append(b, ":null"...)
	}
	return string(append(b, '}'))
}
