package sessionstest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/sessionkit/sessions"
)

// awkwardKeys are keys that a store which encodes some keys could read back
// as something else. A store whose format cannot hold every string (a JSON
// column cannot hold NUL or invalid UTF-8) stores those keys encoded,
// behind a mark such as "~". A plain key that begins with that mark must be
// encoded too, or it reads back decoded: "~YQ==" as "a", or
// "~X19kZWFkbGluZQ==" as "__deadline", the Manager's own metadata. So the
// list holds keys that begin with likely marks, the encoded form of other
// keys in the same record, the reserved prefix, NUL, invalid UTF-8, the
// empty key and very long keys.
func awkwardKeys() []string {
	long := strings.Repeat("k", 16<<10)
	marked := func(s string) string { return "~" + base64.StdEncoding.EncodeToString([]byte(s)) }
	return []string{
		"", "a", "user",
		// The escape mark alone, doubled, and before what is not base64.
		"~", "~~", "~ ", "~!", "~YQ", "~\x00", "~\xff", "~日本",
		// What an escaping store makes of other keys in this record.
		marked("a"), marked("user"), marked("\x00"), marked("a\x00b"), marked("\xff"),
		"~" + marked("a"),
		// Read back unescaped, these would be the Manager's metadata.
		marked("__deadline"), marked("__created"), marked("__user"), marked("__tomb"),
		// Other marks a store might choose.
		"=YQ==", "b64:YQ==", "base64:YQ==", "$a", `\x61`, "%61",
		// The reserved prefix, without the names built-in stores act on.
		"__", "___", "__x", "__~", "~__x",
		// NUL and invalid UTF-8 (a lone continuation byte, a truncated
		// sequence, an encoded surrogate, an overlong encoding).
		"\x00", "\x00\x00", "a\x00b", "\xff", "\x80", "\xc3\x28", "a\xffb", "\xed\xa0\x80", "\xc0\xaf",
		// Very long, plain and each way a store may have to encode it.
		long, "~" + long, long + "\xff", "__" + long, "\x00" + long,
	}
}

// keysRoundTrip writes every awkward key, each with a value as awkward as
// itself, through each kind of Write, and expects each key back exactly,
// with its own value, and no key it did not write.
func (c *suite) keysRoundTrip() {
	keys := awkwardKeys()
	first := sessions.Record{}
	for _, k := range keys {
		first[k] = []byte(k)
	}
	id := newID()
	c.mustWrite(id, replace(first), longTTL, "a Write with Replace of awkward keys")
	c.expectRecord(id, first, "every key must read back exactly as it was written by a Write with Replace, with its own value: keys beginning with an escape mark such as \"~\", the encoded form of other keys, the reserved prefix, NUL, invalid UTF-8, the empty key, 16 KiB keys")

	// A delta that changes every other key to a value beginning with the
	// mark, and deletes the rest.
	set, want := sessions.Record{}, sessions.Record{}
	var del []string
	for i, k := range keys {
		if i%2 == 0 {
			set[k], want[k] = []byte("~"+k), []byte("~"+k)
		} else {
			del = append(del, k)
		}
	}
	c.mustWrite(id, sessions.Change{Set: set, Delete: del}, longTTL, "a delta Write of awkward keys")
	c.expectRecord(id, want, "a delta Write must set and delete exactly the awkward keys it names, each read back as written")
	c.keysCreateAndDelete(keys, first)
}

// keysCreateAndDelete creates a record of the awkward keys in ModeUpsert, then
// deletes them one at a time: each delete must remove its own key and no
// other.
func (c *suite) keysCreateAndDelete(keys []string, all sessions.Record) {
	id := newID()
	c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: all}, longTTL, "a Write in ModeUpsert of awkward keys")
	c.expectRecord(id, all, "every key must read back exactly as it was written by a Write in ModeUpsert")
	want := clone(all)
	want["anchor"] = []byte("1") // keeps the record from ever being empty
	c.mustWrite(id, sessions.Change{Set: sessions.Record{"anchor": []byte("1")}}, longTTL, "a delta Write")
	for _, k := range keys {
		delete(want, k)
		c.mustWrite(id, sessions.Change{Delete: []string{k}}, longTTL, fmt.Sprintf("a delta Write deleting the key %s", quoteKey(k)))
		if !c.expectRecord(id, want, fmt.Sprintf("a delta Write deleting the key %s must remove that key and no other", quoteKey(k))) {
			return
		}
	}
}
