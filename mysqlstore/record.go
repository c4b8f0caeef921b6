package mysqlstore

import (
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlstore"
)

// deletePaths returns the JSON paths of the keys del removes, as
// JSON_REMOVE takes them; a key that set also holds is set, not removed, as
// Change.Apply does.
func deletePaths(set sessions.Record, del []string) []any {
	paths := make([]any, 0, len(del))
	for _, k := range del {
		if _, ok := set[k]; !ok {
			paths = append(paths, string(sqlstore.AppendJSONString([]byte("$."), sqlstore.EncodeText(k))))
		}
	}
	return paths
}
