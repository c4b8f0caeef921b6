package sqlitestore

import (
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/internal/sqlrecord"
)

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
