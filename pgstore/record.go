package pgstore

import "github.com/sessionkit/sessions/sqlstore"

// encodeKeys returns the stored form of each key.
func encodeKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = sqlstore.EncodeText(k)
	}
	return out
}
