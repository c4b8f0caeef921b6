package sessions_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// keySeeds are the fuzz target's seed corpus: keys beginning with the
// escape mark "~" (alone, before base64 of another key, before what is not
// base64), the reserved prefix, NUL, invalid UTF-8, the empty key and a
// long one, each with a value as awkward. Run as a plain test, they alone
// catch a store that stops escaping one of them.
var keySeeds = []struct {
	key   string
	value string
}{
	{"a", "1"},
	{"", ""},
	{"~", "~"},
	{"~YQ==", "~YQ=="},         // "~" and base64 of "a"
	{"~X19kZWFkbGluZQ==", "1"}, // base64 of "__deadline": must not read back as metadata
	{"~/w==", "\xff"},          // how "\xff" is stored escaped
	{"~YQ", "~!"},              // not base64
	{"~~", "~~~"},
	{"\x00", "\x00"},
	{"a\x00b", "~AA=="},
	{"\xff", "\xc3\x28"},
	{"\xed\xa0\x80", "\xc0\xaf"},
	{strings.Repeat("k", 4096), strings.Repeat("v", 4096)},
	{"~" + strings.Repeat("k", 4096), "~"},
	{"__created", "1"},
	{"__", ""},
	{"__tomb", "1"},
}

// FuzzKeyRoundTrip: every key the API accepts round-trips exactly, with
// its value, through each store's Write and Read and through a Manager over
// HTTP, on the memory store (redisstore runs the same seeds on Redis, and
// sqlstore on the SQL stores' record encoding). A key with the reserved
// prefix is refused by Session.Set and Session.Delete with a panic that
// names it.
func FuzzKeyRoundTrip(f *testing.F) {
	for _, s := range keySeeds {
		f.Add(s.key, []byte(s.value))
	}
	stores := keyStores(f)
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		if strings.HasPrefix(key, "__") {
			expectReservedRefused(t, key)
			return
		}
		for _, st := range stores {
			storeKeyRoundTrip(t, st.name, st.s, key, value)
			managerKeyRoundTrip(t, st.name, st.s, key, value)
		}
	})
}

type namedStore struct {
	name string
	s    sessions.Store
}

// keyStores returns one store of each kind, for every input: each input
// uses fresh IDs.
func keyStores(f *testing.F) []namedStore {
	mem := sessions.NewMemoryStore()
	f.Cleanup(func() { mem.Close() })
	return []namedStore{
		{"memory", mem},
	}
}

// storeKeyRoundTrip writes key with Replace, beside the key an escaping
// store would store it as, changes and deletes it with deltas, and creates
// it with Create, reading the record back exactly after each Write.
func storeKeyRoundTrip(t *testing.T, name string, st sessions.Store, key string, value []byte) {
	t.Helper()
	escaped := "~" + base64.StdEncoding.EncodeToString([]byte(key))
	anchor := "anchor" // keeps the record from ever being empty
	if key == anchor {
		anchor = "other"
	}
	id := randomHandle(t)
	marked := append([]byte("~"), value...)
	steps := []struct {
		what string
		ch   sessions.Change
		want sessions.Record
	}{
		{"a Write with Replace", sessions.Change{Mode: sessions.ModeReplace, Set: record(key, value, escaped, []byte("escaped"), anchor, []byte("1"))},
			record(key, value, escaped, []byte("escaped"), anchor, []byte("1"))},
		{"a delta Write", sessions.Change{Set: record(key, marked), Delete: []string{escaped}}, record(key, marked, anchor, []byte("1"))},
		{"a delta Write deleting it", sessions.Change{Delete: []string{key}}, record(anchor, []byte("1"))},
	}
	for _, s := range steps {
		if err := st.Write(context.Background(), id, s.ch, time.Minute); err != nil {
			t.Fatalf("%s: %s of the key %q gave %v", name, s.what, key, err)
		}
		expectKeyRecord(t, name, st, id, s.want, fmt.Sprintf("after %s of the key %q", s.what, key))
	}
	created := randomHandle(t)
	if err := st.Write(context.Background(), created, sessions.Change{Mode: sessions.ModeUpsert, Set: record(key, value)}, time.Minute); err != nil {
		t.Fatalf("%s: a Write with Create of the key %q gave %v", name, key, err)
	}
	expectKeyRecord(t, name, st, created, record(key, value), fmt.Sprintf("after a Write with Create of the key %q", key))
}

// managerKeyRoundTrip sets key in one request and reads it back in the
// next, through a Manager's Handler.
func managerKeyRoundTrip(t *testing.T, name string, st sessions.Store, key string, value []byte) {
	t.Helper()
	m := sessions.New(st)
	id := serveOne(t, m, "", func(s *sessions.Session) { s.Set(key, value) })
	serveOne(t, m, id, func(s *sessions.Session) {
		if got := s.Keys(); len(got) != 1 || got[0] != key {
			t.Errorf("%s: a session given only the key %q lists the keys %q", name, key, got)
		}
		if got := s.GetBytes(key); !bytes.Equal(got, value) {
			t.Errorf("%s: the key %q read back as %q, want %q", name, key, got, value)
		}
	})
}

// serveOne serves one request carrying the session ID id ("" for none)
// with f as the handler, and returns the ID the response set, or id.
func serveOne(t *testing.T, m *sessions.Manager, id string, f func(s *sessions.Session)) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if id != "" {
		r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: id})
	}
	w := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { f(sessions.Get(r)) })).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName() && c.MaxAge >= 0 {
			return c.Value
		}
	}
	if id == "" {
		t.Fatal("a session given a value got no cookie")
	}
	return id
}

// expectReservedRefused checks that Set and Delete of a key with the
// reserved prefix panic with a message that names the key and why.
func expectReservedRefused(t *testing.T, key string) {
	t.Helper()
	st := sessions.NewMemoryStore()
	defer st.Close()
	m := sessions.New(st)
	for what, f := range map[string]func(s *sessions.Session){
		"Set":    func(s *sessions.Session) { s.Set(key, 1) },
		"Delete": func(s *sessions.Session) { s.Delete(key) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, strconv.Quote(key)) || !strings.Contains(msg, "reserved") {
					t.Errorf("%s of the reserved key %q: panic %q, want one that names the key and says it is reserved", what, key, msg)
				}
			}()
			serveOne(t, m, "", f)
		}()
	}
}

func expectKeyRecord(t *testing.T, name string, st sessions.Store, id string, want sessions.Record, when string) {
	t.Helper()
	got, err := st.Read(context.Background(), id)
	if err != nil {
		t.Fatalf("%s: Read %s gave %v", name, when, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: Read %s gave %d keys %q, want %d", name, when, len(got), keysOf(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Fatalf("%s: Read %s: the key %q is %q (present %v), want %q; keys read: %q", name, when, k, g, ok, v, keysOf(got))
		}
	}
}

func keysOf(r sessions.Record) []string {
	out := make([]string, 0, len(r))
	for k := range r {
		out = append(out, k)
	}
	return out
}

// record builds a Record from key, value pairs.
func record(kv ...any) sessions.Record {
	r := sessions.Record{}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1].([]byte)
	}
	return r
}

// randomHandle returns a fresh store key of the form of a session handle.
func randomHandle(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
