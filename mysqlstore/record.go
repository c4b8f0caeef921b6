package mysqlstore

import (
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/internal/sqlrecord"
)

// deletePaths returns the JSON paths of the keys del removes, as
// JSON_REMOVE takes them; a key that set also holds is set, not removed, as
// Change.Apply does.
func deletePaths(set sessions.Record, del []string) []any {
	paths := make([]any, 0, len(del))
	for _, k := range del {
		if _, ok := set[k]; !ok {
			paths = append(paths, string(sqlrecord.AppendJSONString([]byte("$."), sqlrecord.EncodeText(k))))
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
		b = sqlrecord.AppendJSONString(b, sqlrecord.EncodeText(k))
		b = append(b, ':')
		b = sqlrecord.AppendJSONString(b, sqlrecord.EncodeText(string(v)))
	}
	for _, k := range del {
		if _, ok := set[k]; ok {
			continue
		}
		sep()
		b = sqlrecord.AppendJSONString(b, sqlrecord.EncodeText(k))
		b = append(b, ":null"...)
	}
	return string(append(b, '}'))
}
