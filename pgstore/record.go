package pgstore

import "github.com/sessionkit/sessions/internal/sqlrecord"

// encodeKeys returns the stored form of each key.
func encodeKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = sqlrecord.EncodeText(k)
	}
	return out
}
